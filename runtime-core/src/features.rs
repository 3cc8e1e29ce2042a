//! The runtime-spec "Features" document (`features.md`, `features-linux.md`): what this
//! runtime implements. These are facts about the code, not about the host: a feature the
//! kernel here lacks (AppArmor, say) is still listed when the code implements it, and a
//! feature the code does not implement is never claimed (containerd sends idmapped mounts
//! when `mountExtensions.idmap.enabled` is true, for example). Each list below is checked
//! against the code that implements it by the unit tests at the end of this file, and the
//! conformance suite drives `create` with every listed namespace, mount option and seccomp
//! action.

use serde_json::{json, Value};

/// The oldest runtime-spec version whose configs this runtime accepts.
pub const OCI_VERSION_MIN: &str = "1.0.0";

/// The hook kinds, in the order they run.
pub const HOOKS: [&str; 6] = [
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
];

/// Namespaces that can be created and joined.
pub const NAMESPACES: [&str; 8] = ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"];

/// Seccomp actions the filter compiler accepts.
pub const SECCOMP_ACTIONS: [&str; 9] = [
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_TRAP",
];

/// Seccomp argument comparison operators.
pub const SECCOMP_OPERATORS: [&str; 7] = [
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_LE",
    "SCMP_CMP_LT",
    "SCMP_CMP_MASKED_EQ",
    "SCMP_CMP_NE",
];

/// Seccomp architectures (every one Debian's libseccomp 2.5.4 knows; loongarch64, m68k and
/// sh came with 2.5.5 and 2.6).
pub const SECCOMP_ARCHS: [&str; 19] = [
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
];

/// Seccomp filter flags the runtime knows and passes to seccomp(2).
pub const SECCOMP_FLAGS: [&str; 4] = [
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
];

/// Mount options besides the flag options of [`crate::plan`] and the propagation names.
const EXTRA_MOUNT_OPTIONS: [&str; 5] = ["bind", "rbind", "defaults", "idmap", "ridmap"];

/// `linux.memoryPolicy` modes and flags (`set_mempolicy(2)`).
pub const MEMORY_POLICY_MODES: [&str; 6] = [
    "MPOL_DEFAULT",
    "MPOL_BIND",
    "MPOL_INTERLEAVE",
    "MPOL_PREFERRED",
    "MPOL_PREFERRED_MANY",
    "MPOL_LOCAL",
];
/// `linux.memoryPolicy` flags.
pub const MEMORY_POLICY_FLAGS: [&str; 3] = ["MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"];

/// Every mount option name `create` recognises (flags, propagation, bind kinds).
pub fn mount_options() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = crate::plan::flag_option_names()
        .chain(crate::plan::PROPAGATION_NAMES.iter().copied())
        .chain(EXTRA_MOUNT_OPTIONS)
        .collect();
    v.sort_unstable();
    v
}

/// Every capability name this runtime knows, as `CAP_*`.
pub fn capabilities() -> Vec<String> {
    let mut v: Vec<(u8, String)> = caps::all().into_iter().map(|c| (c.index(), c.to_string())).collect();
    v.sort();
    v.into_iter().map(|(_, n)| n).collect()
}

/// The features document, as `runtime-cli features` prints it.
pub fn document() -> Value {
    let (maj, min, micro) = libseccomp::ScmpVersion::current()
        .map(|v| (v.major, v.minor, v.micro))
        .unwrap_or((0, 0, 0));
    json!({
        "ociVersionMin": OCI_VERSION_MIN,
        "ociVersionMax": crate::OCI_VERSION,
        "hooks": HOOKS,
        "mountOptions": mount_options(),
        "linux": {
            "namespaces": NAMESPACES,
            "capabilities": capabilities(),
            "cgroup": {
                "v1": true,
                "v2": true,
                "systemd": false,
                "systemdUser": false,
                "rdma": false
            },
            "seccomp": {
                "enabled": true,
                "actions": SECCOMP_ACTIONS,
                "operators": SECCOMP_OPERATORS,
                "archs": SECCOMP_ARCHS,
                "knownFlags": SECCOMP_FLAGS,
                "supportedFlags": SECCOMP_FLAGS
            },
            "apparmor": { "enabled": true },
            "selinux": { "enabled": true },
            "intelRdt": { "enabled": false },
            "mountExtensions": { "idmap": { "enabled": true } },
            "memoryPolicy": { "modes": MEMORY_POLICY_MODES, "flags": MEMORY_POLICY_FLAGS },
            "netDevices": { "enabled": true }
        },
        "annotations": {
            "io.github.seccomp.libseccomp.version": format!("{maj}.{min}.{micro}"),
            "org.opencontainers.runc.checkpoint.enabled": "false",
            "dev.runtime-cli.version": crate::VERSION
        },
        "potentiallyUnsafeConfigAnnotations": []
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompAction};

    fn strings(v: &Value) -> Vec<String> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|s| s.as_str().expect("string").to_string())
            .collect()
    }

    const BIG_ENDIAN: [&str; 9] = [
        "SCMP_ARCH_MIPS",
        "SCMP_ARCH_MIPS64",
        "SCMP_ARCH_MIPS64N32",
        "SCMP_ARCH_PARISC",
        "SCMP_ARCH_PARISC64",
        "SCMP_ARCH_PPC",
        "SCMP_ARCH_PPC64",
        "SCMP_ARCH_S390",
        "SCMP_ARCH_S390X",
    ];

    #[test]
    fn has_the_required_keys() {
        let d = document();
        assert_eq!(d["ociVersionMin"], "1.0.0");
        assert_eq!(d["ociVersionMax"], crate::OCI_VERSION);
        assert_eq!(strings(&d["hooks"]).len(), 6);
        for k in [
            "namespaces",
            "capabilities",
            "cgroup",
            "seccomp",
            "apparmor",
            "selinux",
            "intelRdt",
            "mountExtensions",
        ] {
            assert!(!d["linux"][k].is_null(), "linux.{k} missing");
        }
    }

    /// Every claimed seccomp action, operator, arch and flag is accepted by the compiler.
    #[test]
    fn every_claimed_seccomp_item_compiles() {
        for arch in SECCOMP_ARCHS {
            let j = json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": [arch]});
            let s: LinuxSeccomp = serde_json::from_value(j).unwrap_or_else(|e| panic!("{arch}: {e}"));
            match crate::seccomp::SeccompProgram::compile(&s) {
                Ok(_) => {}
                // libseccomp refuses to mix byte orders in one filter: big-endian
                // architectures cannot be added to a filter built on this x86_64 host.
                Err(_) if BIG_ENDIAN.contains(&arch) => {}
                Err(e) => panic!("{arch}: {e}"),
            }
        }
        for a in SECCOMP_ACTIONS {
            // NOTIFY needs a rule (not the default action) and errno/trace take a value.
            let j = json!({
                "defaultAction": "SCMP_ACT_ALLOW",
                "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                "flags": SECCOMP_FLAGS,
                "syscalls": [{"names": ["getcwd"], "action": a, "errnoRet": 1}]
            });
            let s: LinuxSeccomp = serde_json::from_value(j).unwrap_or_else(|e| panic!("{a}: {e}"));
            crate::seccomp::SeccompProgram::compile(&s).unwrap_or_else(|e| panic!("{a}: {e}"));
        }
        for op in SECCOMP_OPERATORS {
            let j = json!({
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO",
                              "args": [{"index": 1, "value": 1, "valueTwo": 1, "op": op}]}]
            });
            let s: LinuxSeccomp = serde_json::from_value(j).unwrap_or_else(|e| panic!("{op}: {e}"));
            assert_eq!(s.default_action(), LinuxSeccompAction::ScmpActAllow);
            crate::seccomp::SeccompProgram::compile(&s).unwrap_or_else(|e| panic!("{op}: {e}"));
        }
    }

    /// Every claimed mount option is understood by the option parser: a flag, a
    /// propagation, a bind kind, never passed through as filesystem data.
    #[test]
    fn every_claimed_mount_option_is_parsed() {
        for o in mount_options() {
            let m = crate::plan::parse_mount_options(&[o.to_string()]);
            assert!(m.data.is_empty(), "{o} would be passed to the filesystem as data");
        }
    }

    #[test]
    fn capabilities_are_named_like_the_spec() {
        let c = capabilities();
        assert!(c.len() >= 41, "{c:?}");
        assert_eq!(c[0], "CAP_CHOWN");
        assert!(c.iter().all(|n| n.starts_with("CAP_")));
    }
}
