//! Loading and validating `config.json`. A [`CheckedSpec`] exists only once every field this
//! runtime acts on has been checked; later stages do not re-check (house rule 3).

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use oci_spec::runtime::{LinuxNamespaceType, Spec};

use crate::error::{Error, Result};

/// A container id as runc accepts it: `[A-Za-z0-9_+.-]+`, not `.` or `..`, at most 255 bytes.
pub fn validate_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 255
        && id != "."
        && id != ".."
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidId(id.to_string()))
    }
}

/// A spec that passed validation, with the absolute bundle and rootfs paths.
#[derive(Debug, Clone)]
pub struct CheckedSpec {
    spec: Spec,
    bundle: PathBuf,
    rootfs: PathBuf,
    config_path: PathBuf,
}

impl CheckedSpec {
    pub fn spec(&self) -> &Spec {
        &self.spec
    }
    pub fn bundle(&self) -> &Path {
        &self.bundle
    }
    pub fn rootfs(&self) -> &Path {
        &self.rootfs
    }
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }
    /// Whether the container gets a namespace of this type (new or joined).
    pub fn has_namespace(&self, t: LinuxNamespaceType) -> bool {
        namespaces(&self.spec).iter().any(|n| n.typ() == t)
    }
}

fn namespaces(spec: &Spec) -> &[oci_spec::runtime::LinuxNamespace] {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_deref())
        .unwrap_or(&[])
}

/// Parse a JSON document, naming the JSON path of the first bad value.
///
/// serde's derived structs also take a JSON array of their fields in order (`[1]` reads as
/// a `consoleSize` of height 1, `["x"]` as a `root` at `x`); runc's decoder refuses an array
/// where an object belongs, and so do we: the parsed value is written back and compared
/// with the document for that one shape.
pub fn parse_json<T: serde::de::DeserializeOwned + serde::Serialize>(file: &Path, bytes: &[u8]) -> Result<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." { "(document)".to_string() } else { path };
        Error::config(file, field, inner.to_string())
    })?;
    // Both succeed: the bytes were just parsed, and the value came from JSON.
    if let (Ok(raw), Ok(typed)) = (
        serde_json::from_slice::<serde_json::Value>(bytes),
        serde_json::to_value(&parsed),
    ) {
        let mut path = String::new();
        if array_for_object(&raw, &typed, &mut path) {
            let field = if path.is_empty() {
                "(document)".to_string()
            } else {
                path
            };
            return Err(Error::config(file, field, "invalid type: sequence, expected an object"));
        }
    }
    Ok(parsed)
}

/// Whether the document `raw` has an array where the parsed value `typed` is an object;
/// `path` is left naming the first such place (`process.consoleSize`, `mounts[2]`).
fn array_for_object(raw: &serde_json::Value, typed: &serde_json::Value, path: &mut String) -> bool {
    use serde_json::Value;
    let len = path.len();
    let found = match (raw, typed) {
        (Value::Array(_), Value::Object(_)) => return true,
        (Value::Object(r), Value::Object(t)) => t.iter().any(|(k, tv)| {
            path.truncate(len);
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(k);
            r.get(k).is_some_and(|rv| array_for_object(rv, tv, path))
        }),
        (Value::Array(r), Value::Array(t)) => r.iter().zip(t).enumerate().any(|(i, (rv, tv))| {
            path.truncate(len);
            path.push_str(&format!("[{i}]"));
            array_for_object(rv, tv, path)
        }),
        _ => false,
    };
    if !found {
        path.truncate(len);
    }
    found
}

/// Read `<bundle>/config.json` without the `create` checks (for `exec`, which only takes
/// the process from it).
pub fn load_unchecked(bundle: &Path) -> Result<Spec> {
    let config_path = bundle.join("config.json");
    let bytes = std::fs::read(&config_path).map_err(|e| Error::io("reading", &config_path, e))?;
    parse_json(&config_path, &bytes)
}

/// Read `<bundle>/config.json` and validate it for `create`.
pub fn load(bundle: &Path) -> Result<CheckedSpec> {
    let bundle = absolute(bundle)?;
    let config_path = bundle.join("config.json");
    let bytes = std::fs::read(&config_path).map_err(|e| Error::io("reading", &config_path, e))?;
    let spec: Spec = parse_json(&config_path, &bytes)?;
    check(spec, bundle, config_path)
}

/// Check the values of a `linux.resources` object (from `config.json` or `update`) that can
/// be judged without the host; whether the host has the controller is decided when applying.
pub fn validate_resources(r: &oci_spec::runtime::LinuxResources, source: &str) -> Result<()> {
    check_resources(r, "").map_err(|(f, m)| Error::InvalidArgument(format!("{source}: {f}: {m}")))
}

fn check_resources(r: &oci_spec::runtime::LinuxResources, prefix: &str) -> std::result::Result<(), (String, String)> {
    let f = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        }
    };
    let bad = |name: &str, msg: &str| Err((f(name), msg.to_string()));
    for (i, d) in r.devices().as_deref().unwrap_or(&[]).iter().enumerate() {
        if let Some(a) = d.access() {
            if a.chars().any(|c| !"rwm".contains(c)) {
                return bad(
                    &format!("devices[{i}].access"),
                    &format!("{a:?}: only r, w and m are allowed"),
                );
            }
        }
        if d.typ() == Some(oci_spec::runtime::LinuxDeviceType::P) {
            return bad(
                &format!("devices[{i}].type"),
                "p (fifo) is not a device cgroup type: use a, b or c",
            );
        }
    }
    if let Some(m) = r.memory() {
        if m.swappiness().is_some_and(|s| s > 100) {
            return bad("memory.swappiness", "must be between 0 and 100");
        }
    }
    if let Some(c) = r.cpu() {
        for (name, v) in [("cpu.cpus", c.cpus()), ("cpu.mems", c.mems())] {
            if let Some(v) = v {
                if v.chars().any(|ch| !(ch.is_ascii_digit() || ch == ',' || ch == '-')) {
                    return bad(name, &format!("{v:?} is not a list such as 0-2,5"));
                }
            }
        }
        if c.idle().is_some_and(|i| i != 0 && i != 1) {
            return bad("cpu.idle", "must be 0 or 1");
        }
    }
    if let Some(b) = r.block_io() {
        for (name, w) in [("blockIO.weight", b.weight()), ("blockIO.leafWeight", b.leaf_weight())] {
            if w.is_some_and(|w| w != 0 && !(10..=1000).contains(&w)) {
                return bad(name, "must be between 10 and 1000");
            }
        }
    }
    for (i, h) in r.hugepage_limits().as_deref().unwrap_or(&[]).iter().enumerate() {
        let ps = h.page_size();
        let digits = ps.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let unit = &ps[digits.len()..];
        if digits.is_empty() || digits.parse::<u64>().is_err() || !["KB", "MB", "GB", "TB"].contains(&unit) {
            return bad(
                &format!("hugepageLimits[{i}].pageSize"),
                &format!("{ps:?} is not a size such as 2MB"),
            );
        }
    }
    for k in r
        .unified()
        .as_ref()
        .map(|u| u.keys().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        if k.is_empty() || k.contains('/') || k.starts_with('.') || !k.contains('.') {
            return bad(&format!("unified.{k}"), "is not a cgroup v2 interface file name");
        }
    }
    Ok(())
}

/// Make `p` absolute against the current directory and lexically clean, without following
/// symlinks (runc records the bundle path as given).
pub fn absolute(p: &Path) -> Result<PathBuf> {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io("getting current directory for", p, e))?
            .join(p)
    };
    Ok(clean(&joined))
}

/// Lexically clean an absolute path: drop `.`, resolve `..` without going above `/`.
pub fn clean(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

fn check(spec: Spec, bundle: PathBuf, config_path: PathBuf) -> Result<CheckedSpec> {
    let cfg = config_path.as_path();
    let err = |field: &str, msg: &str| Error::config(cfg, field, msg);

    let root = spec.root().as_ref().ok_or_else(|| err("root", "is required"))?;
    if root.path().as_os_str().is_empty() {
        return Err(err("root.path", "is required"));
    }
    let rootfs = clean(&bundle.join(root.path()));
    match std::fs::metadata(&rootfs) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(err("root.path", &format!("{} is not a directory", rootfs.display()))),
        Err(e) => {
            return Err(err(
                "root.path",
                &format!("{}: {}", rootfs.display(), crate::error::errno_text(errno_of(&e))),
            ))
        }
    }

    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| err("process", "is required to create a container"))?;
    match process.args() {
        Some(a) if !a.is_empty() && !a[0].is_empty() => {}
        _ => return Err(err("process.args", "must not be empty")),
    }
    if !process.cwd().is_absolute() {
        return Err(err("process.cwd", "must be an absolute path"));
    }
    if let Some(env) = process.env() {
        for (i, e) in env.iter().enumerate() {
            if !e.contains('=') {
                return Err(err(&format!("process.env[{i}]"), "must have the form KEY=VALUE"));
            }
        }
    }
    if let Some(rl) = process.rlimits() {
        let mut seen = HashSet::new();
        for (i, r) in rl.iter().enumerate() {
            if r.soft() > r.hard() {
                return Err(err(
                    &format!("process.rlimits[{i}]"),
                    "soft limit is greater than hard limit",
                ));
            }
            if !seen.insert(format!("{:?}", r.typ())) {
                return Err(err(&format!("process.rlimits[{i}]"), "duplicate rlimit type"));
            }
        }
    }
    if process.exec_cpu_affinity().is_some() {
        return Err(Error::NotSupported("process.execCPUAffinity".into()));
    }

    let linux = spec
        .linux()
        .as_ref()
        .ok_or_else(|| err("linux", "is required on Linux"))?;
    let mut seen = HashSet::new();
    let ns = linux.namespaces().as_deref().unwrap_or(&[]);
    for (i, n) in ns.iter().enumerate() {
        if !seen.insert(n.typ()) {
            return Err(err(
                &format!("linux.namespaces[{i}]"),
                &format!("duplicate namespace {:?}", n.typ()),
            ));
        }
        if let Some(p) = n.path() {
            if !p.is_absolute() {
                return Err(err(&format!("linux.namespaces[{i}].path"), "must be an absolute path"));
            }
        }
    }
    let has = |t| ns.iter().any(|n| n.typ() == t);
    let new_user = ns
        .iter()
        .any(|n| n.typ() == LinuxNamespaceType::User && n.path().is_none());
    for (field, maps) in [
        ("linux.uidMappings", linux.uid_mappings()),
        ("linux.gidMappings", linux.gid_mappings()),
    ] {
        if let Some(m) = maps {
            if !m.is_empty() && !has(LinuxNamespaceType::User) {
                return Err(err(field, "requires a user namespace"));
            }
            crate::idmap::IdMappings::from_spec(m).map_err(|e| err(&format!("{field}{e}"), "invalid mapping"))?;
        } else if new_user {
            return Err(err(field, "is required with a new user namespace"));
        }
    }
    if spec.hostname().as_deref().is_some_and(|h| !h.is_empty()) && !has(LinuxNamespaceType::Uts) {
        return Err(err("hostname", "requires a private UTS namespace"));
    }
    if spec.domainname().as_deref().is_some_and(|h| !h.is_empty()) && !has(LinuxNamespaceType::Uts) {
        return Err(err("domainname", "requires a private UTS namespace"));
    }
    if let Some(sysctl) = linux.sysctl() {
        for k in sysctl.keys() {
            check_sysctl(k, &has).map_err(|m| err(&format!("linux.sysctl.{k}"), &m))?;
        }
    }
    for (i, m) in spec.mounts().as_deref().unwrap_or(&[]).iter().enumerate() {
        let d = m.destination();
        if d.as_os_str().is_empty() {
            return Err(err(&format!("mounts[{i}].destination"), "is required"));
        }
        let opts = m.options().as_deref().unwrap_or(&[]);
        let idmapped = m.uid_mappings().is_some()
            || m.gid_mappings().is_some()
            || opts.iter().any(|o| o == "idmap" || o == "ridmap");
        let bind = m.typ().as_deref() == Some("bind") || opts.iter().any(|o| o == "bind" || o == "rbind");
        if idmapped && !bind {
            return Err(Error::NotSupported(format!(
                "mounts[{i}]: id-mapped mounts are supported for bind mounts only"
            )));
        }
        for o in opts {
            if matches!(o.as_str(), "rro" | "rrw") {
                return Err(Error::NotSupported(format!("mounts[{i}].options: {o}")));
            }
        }
    }
    if linux.intel_rdt().is_some() {
        // resctrl groups are not implemented; say first whether the host could have them.
        let mounted =
            std::fs::read_to_string("/proc/self/mountinfo").is_ok_and(|m| m.lines().any(|l| l.contains(" - resctrl ")));
        return Err(Error::NotSupported(if mounted {
            "linux.intelRdt (resctrl groups are not implemented)".into()
        } else {
            "linux.intelRdt: this host has no resctrl filesystem (Intel RDT) mounted at /sys/fs/resctrl".into()
        }));
    }
    if let Some(offsets) = linux.time_offsets().as_ref().filter(|o| !o.is_empty()) {
        // The offsets are set on a time namespace before any process enters it, so the
        // container must create one (runtime-spec config-linux.md "Offset for Time Namespace").
        if !ns
            .iter()
            .any(|n| n.typ() == LinuxNamespaceType::Time && n.path().is_none())
        {
            return Err(err("linux.timeOffsets", "requires a new time namespace"));
        }
        for (clock, o) in offsets {
            if !matches!(clock.as_str(), "monotonic" | "boottime") {
                return Err(err(
                    &format!("linux.timeOffsets.{clock}"),
                    "unknown clock (want monotonic or boottime)",
                ));
            }
            if o.nanosecs().is_some_and(|n| n >= 1_000_000_000) {
                return Err(err(
                    &format!("linux.timeOffsets.{clock}.nanosecs"),
                    "must be below 1000000000",
                ));
            }
        }
    }
    if let Some(devs) = linux.net_devices().as_ref().filter(|d| !d.is_empty()) {
        check_net_devices(devs, ns).map_err(|(f, m)| err(&format!("linux.netDevices{f}"), &m))?;
    }
    if let Some(p) = linux.rootfs_propagation() {
        if crate::plan::propagation_flag(p).is_none() {
            return Err(err("linux.rootfsPropagation", &format!("unknown propagation {p:?}")));
        }
    }
    if let Some(r) = linux.resources() {
        check_resources(r, "linux.resources").map_err(|(f, m)| err(&f, &m))?;
    }
    for (i, d) in linux.devices().as_deref().unwrap_or(&[]).iter().enumerate() {
        let p = d.path();
        if !p.is_absolute() || !clean(p).starts_with("/dev") || clean(p) == Path::new("/dev") {
            return Err(err(
                &format!("linux.devices[{i}].path"),
                "must be an absolute path under /dev",
            ));
        }
    }
    if let Some(h) = spec.hooks() {
        for (name, list) in [
            ("prestart", h.prestart()),
            ("createRuntime", h.create_runtime()),
            ("createContainer", h.create_container()),
            ("startContainer", h.start_container()),
            ("poststart", h.poststart()),
            ("poststop", h.poststop()),
        ] {
            for (i, hook) in list.as_deref().unwrap_or(&[]).iter().enumerate() {
                if !hook.path().is_absolute() {
                    return Err(err(&format!("hooks.{name}[{i}].path"), "must be an absolute path"));
                }
                if hook.timeout().is_some_and(|t| t <= 0) {
                    return Err(err(&format!("hooks.{name}[{i}].timeout"), "must be greater than zero"));
                }
            }
        }
    }

    Ok(CheckedSpec {
        spec,
        bundle,
        rootfs,
        config_path,
    })
}

/// `linux.netDevices`: valid names, distinct in the container, and a network namespace of
/// the container's own (moving host devices into the host's namespace makes no sense).
fn check_net_devices(
    devs: &std::collections::HashMap<String, oci_spec::runtime::LinuxNetDevice>,
    ns: &[oci_spec::runtime::LinuxNamespace],
) -> std::result::Result<(), (String, String)> {
    use std::os::unix::fs::MetadataExt;
    let Some(net) = ns.iter().find(|n| n.typ() == LinuxNamespaceType::Network) else {
        return Err((String::new(), "requires a network namespace".into()));
    };
    if let Some(p) = net.path() {
        let same = |a: &Path, b: &Path| matches!((std::fs::metadata(a), std::fs::metadata(b)), (Ok(x), Ok(y)) if x.ino() == y.ino() && x.dev() == y.dev());
        if same(p, Path::new("/proc/self/ns/net")) {
            return Err((
                String::new(),
                "the network namespace must not be the runtime's own".into(),
            ));
        }
    }
    let mut names = HashSet::new();
    for (host, d) in devs {
        if !crate::netdev::valid_name(host) {
            return Err((format!(".{host}"), "is not a valid interface name".into()));
        }
        let name = d.name().as_deref().unwrap_or(host);
        if !crate::netdev::valid_name(name) {
            return Err((
                format!(".{host}.name"),
                format!("{name:?} is not a valid interface name"),
            ));
        }
        if !names.insert(name.to_string()) {
            return Err((format!(".{host}.name"), format!("{name:?} is used twice")));
        }
    }
    Ok(())
}

fn errno_of(e: &std::io::Error) -> nix::errno::Errno {
    nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0))
}

/// runc's rules for which sysctls a container may set: IPC ones need a private IPC
/// namespace, `net.*` a private network namespace, hostname/domainname a private UTS
/// namespace; everything else is host-global and refused.
fn check_sysctl(key: &str, has: &dyn Fn(LinuxNamespaceType) -> bool) -> Result<(), String> {
    const IPC: &[&str] = &[
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    if key.is_empty() || key.contains("..") || key.starts_with('.') || key.contains('/') && key.contains('.') {
        return Err("invalid sysctl name".into());
    }
    let k = key.replace('/', ".");
    if IPC.contains(&k.as_str()) || k.starts_with("fs.mqueue.") {
        return if has(LinuxNamespaceType::Ipc) {
            Ok(())
        } else {
            Err("requires a private IPC namespace".into())
        };
    }
    if k.starts_with("net.") {
        return if has(LinuxNamespaceType::Network) {
            Ok(())
        } else {
            Err("requires a private network namespace".into())
        };
    }
    if k == "kernel.hostname" || k == "kernel.domainname" {
        return if has(LinuxNamespaceType::Uts) {
            Ok(())
        } else {
            Err("requires a private UTS namespace".into())
        };
    }
    Err("is not namespaced and cannot be set in a container".into())
}

/// The default `config.json` of `spec`, like runc's: `sh` on a terminal, a read-only
/// `rootfs`, the standard mounts, masked and read-only paths, a small capability set and
/// pid/network/ipc/uts/mount namespaces. `rootless` makes it usable without root: a user
/// namespace mapping the caller's ids to 0, no network namespace, `/sys` bound from the
/// host, no `uid=`/`gid=` mount options, no resources.
pub fn example(rootless: bool) -> serde_json::Value {
    let caps = serde_json::json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    let mut v = serde_json::json!({
        "ociVersion": crate::OCI_VERSION,
        "process": {
            "terminal": true,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps, "ambient": caps},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "runtime-cli",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
        ],
        "linux": {
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    });
    if rootless {
        let uid = nix::unistd::geteuid().as_raw();
        let gid = nix::unistd::getegid().as_raw();
        let linux = &mut v["linux"];
        linux["uidMappings"] = serde_json::json!([{"containerID": 0, "hostID": uid, "size": 1}]);
        linux["gidMappings"] = serde_json::json!([{"containerID": 0, "hostID": gid, "size": 1}]);
        linux.as_object_mut().expect("object").remove("resources");
        let ns = linux["namespaces"].as_array_mut().expect("array");
        ns.retain(|n| n["type"] != "network");
        ns.push(serde_json::json!({"type": "user"}));
        let mounts = v["mounts"].as_array_mut().expect("array");
        mounts.retain(|m| m["type"] != "cgroup");
        for m in mounts.iter_mut() {
            if m["destination"] == "/sys" {
                *m = serde_json::json!({"destination": "/sys", "type": "none", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]});
            }
            if let Some(opts) = m["options"].as_array_mut() {
                opts.retain(|o| {
                    !o.as_str()
                        .is_some_and(|s| s.starts_with("uid=") || s.starts_with("gid="))
                });
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn ids() {
        for ok in ["a", "abc-DEF_1.2+3", ".a", "a..b"] {
            validate_id(ok).unwrap();
        }
        for bad in ["", ".", "..", "a/b", "a b", "ä", &"x".repeat(256)] {
            assert!(matches!(validate_id(bad), Err(Error::InvalidId(_))), "{bad:?}");
        }
    }

    #[test]
    fn clean_paths() {
        assert_eq!(clean(Path::new("/a/./b/../c")), Path::new("/a/c"));
        assert_eq!(clean(Path::new("/../../etc")), Path::new("/etc"));
        assert_eq!(clean(Path::new("/")), Path::new("/"));
    }

    fn bundle(config: &serde_json::Value) -> tempdir::Dir {
        let d = tempdir::Dir::new();
        std::fs::create_dir(d.0.join("rootfs")).unwrap();
        let mut f = std::fs::File::create(d.0.join("config.json")).unwrap();
        f.write_all(config.to_string().as_bytes()).unwrap();
        d
    }

    mod tempdir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Self {
                use std::sync::atomic::{AtomicUsize, Ordering};
                static N: AtomicUsize = AtomicUsize::new(0);
                let p = std::env::temp_dir().join(format!(
                    "rc-spec-test-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed)
                ));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    fn base() -> serde_json::Value {
        serde_json::json!({
            "ociVersion": "1.0.2",
            "root": {"path": "rootfs"},
            "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
            "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}
        })
    }

    fn load_err(v: serde_json::Value) -> String {
        let d = bundle(&v);
        load(&d.0).unwrap_err().to_string()
    }

    #[test]
    fn minimal_config_loads_and_unknown_fields_are_ignored() {
        let mut v = base();
        v["someFutureField"] = serde_json::json!({"x": 1});
        v["process"]["futureThing"] = serde_json::json!(true);
        let d = bundle(&v);
        let c = load(&d.0).unwrap();
        assert!(c.rootfs().ends_with("rootfs"));
        assert!(c.has_namespace(LinuxNamespaceType::Pid));
    }

    #[test]
    fn an_array_where_an_object_belongs_is_refused() {
        for (field, set) in [
            ("process.consoleSize", &["process", "consoleSize"][..]),
            ("root", &["root"][..]),
        ] {
            let mut v = base();
            let mut at = &mut v;
            for k in &set[..set.len() - 1] {
                at = &mut at[*k];
            }
            at[set[set.len() - 1]] = if field == "root" {
                serde_json::json!(["rootfs"])
            } else {
                serde_json::json!([1])
            };
            let e = load_err(v);
            assert!(e.contains(field) && e.contains("expected an object"), "{field}: {e}");
        }
        let mut v = base();
        v["mounts"] = serde_json::json!([{"destination": "/tmp", "type": "tmpfs"}, ["/x"]]);
        assert!(load_err(v).contains("mounts[1]"));
        let mut ok = base();
        ok["process"]["consoleSize"] = serde_json::json!({"height": 1, "width": 2});
        load(&bundle(&ok).0).unwrap();
    }

    #[test]
    fn errors_name_the_field() {
        let mut v = base();
        v["process"]["args"] = serde_json::json!([]);
        assert!(load_err(v).contains("process.args"));

        let mut v = base();
        v["process"]["cwd"] = serde_json::json!("relative");
        assert!(load_err(v).contains("process.cwd"));

        let mut v = base();
        v["linux"]["namespaces"] = serde_json::json!([{"type": "bogus"}]);
        let e = load_err(v);
        assert!(e.contains("linux.namespaces[0].type"), "{e}");

        let mut v = base();
        v["process"]["user"]["uid"] = serde_json::json!("zero");
        let e = load_err(v);
        assert!(e.contains("process.user.uid"), "{e}");

        let mut v = base();
        v["root"]["path"] = serde_json::json!("nope");
        let e = load_err(v);
        assert!(
            e.contains("root.path") && e.contains("no such file or directory"),
            "{e}"
        );

        let mut v = base();
        v["hostname"] = serde_json::json!("h");
        assert!(load_err(v).contains("UTS"));

        let mut v = base();
        v["linux"]["namespaces"] = serde_json::json!([{"type": "pid"}, {"type": "pid"}]);
        assert!(load_err(v).contains("duplicate namespace"));

        let mut v = base();
        v["linux"]["namespaces"] = serde_json::json!([{"type": "user"}]);
        assert!(load_err(v).contains("linux.uidMappings"));

        let mut v = base();
        v["linux"]["sysctl"] = serde_json::json!({"kernel.panic": "1"});
        assert!(load_err(v).contains("linux.sysctl.kernel.panic"));

        let mut v = base();
        v["process"]["rlimits"] = serde_json::json!([{"type": "RLIMIT_NOFILE", "soft": 10, "hard": 5}]);
        assert!(load_err(v).contains("process.rlimits[0]"));

        let mut v = base();
        v["process"]["rlimits"] = serde_json::json!([{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 5}]);
        assert!(load_err(v).contains("process.rlimits[0].type"));

        let d = bundle(&base());
        std::fs::write(d.0.join("config.json"), b"{not json").unwrap();
        let e = load(&d.0).unwrap_err().to_string();
        assert!(e.contains("config.json"), "{e}");

        let d = bundle(&base());
        std::fs::write(d.0.join("config.json"), [0xff, 0xfe, 0x00]).unwrap();
        assert!(load(&d.0).is_err());
    }

    #[test]
    fn missing_config_names_the_file() {
        let d = tempdir::Dir::new();
        let e = load(&d.0).unwrap_err().to_string();
        assert!(
            e.contains("config.json") && e.contains("no such file or directory"),
            "{e}"
        );
    }
}
