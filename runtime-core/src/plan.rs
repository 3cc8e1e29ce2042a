//! Checked spec → [`LaunchPlan`]: every decision the container's init needs, made before the
//! clone and materialised as C strings, flags, masks and open file descriptors, so that the
//! child only executes (house rule 1).

use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use nix::fcntl::OFlag;
use nix::mount::MsFlags;
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;
use oci_spec::runtime::{LinuxNamespaceType, Mount, Process};

use crate::cgroups::Hierarchy;
use crate::error::{Error, Result};
use crate::idmap::IdMappings;
use crate::spec::CheckedSpec;
use crate::sys::{CStrArray, CapSets};

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A path inside the container's root, relative (no leading `/`), with the prefixes needed
/// to create it component by component.
#[derive(Debug)]
pub struct PathInRoot {
    /// `a/b/c`.
    pub rel: CString,
    /// `a`, `a/b`, `a/b/c`: what the child creates, each resolved inside the root.
    pub prefixes: Vec<CString>,
    /// The last component alone (`c`), created in its parent when missing.
    pub name: CString,
    /// `/a/b/c`, for error messages.
    pub display: String,
}

impl PathInRoot {
    /// Lexically clean an in-container path (`..` cannot climb above the root).
    pub fn new(p: &Path) -> Result<Self> {
        let mut comps: Vec<&std::ffi::OsStr> = vec![];
        for c in p.components() {
            match c {
                Component::Normal(n) => comps.push(n),
                Component::ParentDir => {
                    comps.pop();
                }
                _ => {}
            }
        }
        let mut prefixes = Vec::with_capacity(comps.len());
        let mut acc = Vec::new();
        for c in &comps {
            if !acc.is_empty() {
                acc.push(b'/');
            }
            acc.extend_from_slice(c.as_bytes());
            prefixes.push(cstring(acc.clone(), p)?);
        }
        let rel = if acc.is_empty() {
            c".".to_owned()
        } else {
            cstring(acc.clone(), p)?
        };
        let name = match comps.last() {
            Some(n) => cstring(n.as_bytes().to_vec(), p)?,
            None => c".".to_owned(),
        };
        Ok(PathInRoot {
            display: format!("/{}", String::from_utf8_lossy(&acc)),
            rel,
            prefixes,
            name,
        })
    }

    pub fn is_root(&self) -> bool {
        self.prefixes.is_empty()
    }
}

fn cstring(v: Vec<u8>, context: &Path) -> Result<CString> {
    CString::new(v).map_err(|_| Error::InvalidArgument(format!("path {} contains a NUL byte", context.display())))
}

fn cstr(s: &str, what: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::InvalidArgument(format!("{what} contains a NUL byte")))
}

/// What a mount step mounts.
#[derive(Debug)]
pub enum MountKind {
    /// A bind mount of a host path; `recursive` for rbind.
    Bind { source: CString, recursive: bool },
    /// A new filesystem instance. `copy_up` (mount option `tmpcopyup`, a runc extension
    /// for tmpfs): the new tmpfs starts with a copy of the directory it covers.
    Fs {
        fstype: CString,
        source: CString,
        copy_up: bool,
    },
    /// Remount an earlier step's mount with `flags` (the read-only tmpfs under a v1
    /// `cgroup` mount, once the hierarchies are bound into it).
    Remount,
    /// An id-mapped bind mount, prepared before the clone as a detached mount
    /// ([`crate::idmount`]) and attached with move_mount.
    Detached { source: CString, tree: OwnedFd },
}

/// One mount, in order.
#[derive(Debug)]
pub struct MountStep {
    pub dest: PathInRoot,
    /// The destination with the image's symlinks followed inside the root, when that
    /// differs: used to create a mount point whose path goes through a symlink to a
    /// directory that does not exist yet (runc creates it inside the root).
    pub dest_resolved: Option<PathInRoot>,
    pub kind: MountKind,
    /// Flags for the mount call (without propagation flags).
    pub flags: MsFlags,
    /// Filesystem data (`mode=755,size=65536k`...).
    pub data: Option<CString>,
    /// Propagation flags to apply after mounting (MS_SHARED, MS_SLAVE... with MS_REC).
    pub propagation: MsFlags,
    /// Whether the destination must be a file (bind of a non-directory).
    pub dest_is_file: bool,
    /// Bind mounts with flags beyond MS_BIND|MS_REC need a remount to apply them.
    pub remount_flags: Option<MsFlags>,
    /// proc and sysfs must land on a real directory (CVE-2019-16884 class).
    pub require_dir: bool,
}

/// A device node to create.
#[derive(Debug)]
pub struct DeviceStep {
    pub path: PathInRoot,
    /// `S_IFCHR`/`S_IFBLK`/`S_IFIFO` plus permission bits.
    pub mode: u32,
    pub dev: u64,
    pub uid: u32,
    pub gid: u32,
    /// Host path to bind mount instead of mknod (inside a user namespace).
    pub host_path: CString,
}

/// Everything about the root filesystem.
#[derive(Debug)]
pub struct RootfsPlan {
    pub root: CString,
    pub root_display: String,
    /// Propagation of `/` in the container's mount namespace.
    pub propagation: MsFlags,
    pub readonly: bool,
    pub no_pivot: bool,
    pub mounts: Vec<MountStep>,
    pub devices: Vec<DeviceStep>,
    /// Bind host devices instead of mknod (a user namespace cannot mknod).
    pub bind_devices: bool,
    /// `/dev` symlinks: (target, link).
    pub symlinks: Vec<(CString, PathInRoot)>,
    pub masked: Vec<PathInRoot>,
    pub readonly_paths: Vec<PathInRoot>,
    /// The process's cwd, created if missing.
    pub cwd: PathInRoot,
    /// Whether a `/dev` is prepared by us (a mount at /dev exists in the config).
    pub setup_dev: bool,
}

/// A namespace to join.
#[derive(Debug)]
pub struct JoinNs {
    pub flag: CloneFlags,
    pub fd: OwnedFd,
    pub path: String,
}

/// How the init is spawned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnMode {
    /// One clone3 with every new namespace; joined namespaces (none of user/pid/time) are
    /// entered by the init.
    Direct,
    /// An intermediate process joins namespaces (user first), creates the user namespace,
    /// then clones the init with CLONE_PARENT so it is still the runtime's child.
    TwoStage,
}

/// The process to run.
#[derive(Debug)]
pub struct ProcessPlan {
    pub args: CStrArray,
    pub env: CStrArray,
    /// Candidates for the executable, in PATH order.
    pub exec_candidates: Vec<CString>,
    /// `args[0]` as given, for messages.
    pub arg0: String,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<libc::gid_t>,
    pub umask: Option<u32>,
    pub caps: CapSets,
    pub bounding: u64,
    pub ambient: u64,
    pub cap_last: u32,
    pub rlimits: Vec<(libc::__rlimit_resource_t, u64, u64)>,
    pub no_new_privs: bool,
    pub cwd: CString,
    pub terminal: bool,
    pub preserve_fds: u32,
    /// The compiled seccomp filter, loaded right before exec.
    pub seccomp: Option<crate::seccomp::SeccompProgram>,
    /// Where the runtime sends the filter's notification fd (`listenerPath`), when the
    /// filter has SCMP_ACT_NOTIFY rules.
    pub seccomp_listener: Option<crate::seccomp::Listener>,
    /// AppArmor profile and SELinux label applied at exec.
    pub lsm: crate::lsm::LsmPlan,
    /// `process.ioPriority` as an ioprio value.
    pub io_priority: Option<u32>,
    /// `process.scheduler`.
    pub scheduler: Option<crate::procattr::SchedAttr>,
}

/// Every decision for one container init.
#[derive(Debug)]
pub struct LaunchPlan {
    pub mode: SpawnMode,
    /// Namespaces created by clone3 (direct) or by the second clone (two-stage).
    pub clone_flags: CloneFlags,
    /// Created with unshare after the cgroup is joined (cgroup namespace).
    pub late_unshare: CloneFlags,
    pub new_user: bool,
    pub join: Vec<JoinNs>,
    pub uid_map: Option<String>,
    pub gid_map: Option<String>,
    pub hostname: Option<Vec<u8>>,
    pub domainname: Option<Vec<u8>>,
    pub rootfs: RootfsPlan,
    pub process: ProcessPlan,
    /// (path relative to /proc, `sys/...`, value)
    pub sysctls: Vec<(CString, Vec<u8>)>,
    pub oom_score_adj: Option<i32>,
    pub new_keyring: bool,
    pub private_pid_ns: bool,
    /// Whether the init stops before changing root so that prestart, createRuntime and
    /// createContainer hooks run.
    pub hook_sync: bool,
    /// With `process.terminal`: where the pty comes from and what it becomes.
    pub console: Option<ConsolePlan>,
    /// `linux.personality` as a persona value.
    pub personality: Option<u64>,
    /// `linux.memoryPolicy`.
    pub mem_policy: Option<crate::procattr::MemPolicy>,
    /// `linux.timeOffsets` as written to `/proc/self/timens_offsets`.
    pub time_offsets: Option<Vec<u8>>,
    /// `linux.netDevices`, moved by the runtime into the init's network namespace at the
    /// sync point, before the prestart hooks.
    pub net_devices: Vec<crate::netdev::NetDevice>,
}

/// The container's terminal: a pty from the container's own devpts, the slave bound over
/// `/dev/console`, the master sent to the caller's console socket.
#[derive(Debug)]
pub struct ConsolePlan {
    pub ptmx: PathInRoot,
    pub console: PathInRoot,
    /// (rows, columns) from `process.consoleSize`.
    pub size: Option<(u16, u16)>,
}

/// Options that come from the command line rather than the config.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: u32,
    /// Socket-activation fds (`LISTEN_FDS` of the caller): passed before the preserved ones,
    /// with `LISTEN_FDS` and `LISTEN_PID=1` added to the environment (runc's behaviour).
    pub listen_fds: u32,
    /// v1 hierarchies and the container's directory in each, for `cgroup` mounts.
    pub cgroups: Vec<(Hierarchy, PathBuf)>,
}

/// The propagation mount options [`propagation_flag`] knows.
pub const PROPAGATION_NAMES: [&str; 8] = [
    "shared",
    "rshared",
    "slave",
    "rslave",
    "private",
    "rprivate",
    "unbindable",
    "runbindable",
];

/// The names of the mount options that set or clear mount flags.
pub fn flag_option_names() -> impl Iterator<Item = &'static str> {
    FLAG_OPTIONS.iter().map(|(n, _, _)| *n)
}

/// The propagation flag for a `rootfsPropagation` or mount option value.
pub fn propagation_flag(s: &str) -> Option<MsFlags> {
    Some(match s {
        "shared" => MsFlags::MS_SHARED,
        "rshared" => MsFlags::MS_SHARED | MsFlags::MS_REC,
        "slave" => MsFlags::MS_SLAVE,
        "rslave" => MsFlags::MS_SLAVE | MsFlags::MS_REC,
        "private" => MsFlags::MS_PRIVATE,
        "rprivate" => MsFlags::MS_PRIVATE | MsFlags::MS_REC,
        "unbindable" => MsFlags::MS_UNBINDABLE,
        "runbindable" => MsFlags::MS_UNBINDABLE | MsFlags::MS_REC,
        _ => return None,
    })
}

/// Parsed mount options: flags to set, flags to clear, propagation, data, bind kind.
#[derive(Debug, PartialEq, Eq)]
pub struct MountOptions {
    pub flags: MsFlags,
    pub clear: MsFlags,
    pub propagation: MsFlags,
    pub data: Vec<String>,
    pub bind: bool,
    pub rbind: bool,
    /// `tmpcopyup`: fill a new tmpfs with the content of the directory it covers.
    pub copy_up: bool,
    /// `idmap` / `ridmap` (recursive): an id-mapped mount.
    pub idmap: bool,
    pub ridmap: bool,
}

/// Mount options that are flags, as mount(8) knows them: (name, flags it sets, flags it
/// clears).
const FLAG_OPTIONS: &[(&str, MsFlags, MsFlags)] = {
    const E: MsFlags = MsFlags::empty();
    const NOSYMFOLLOW: MsFlags = MsFlags::from_bits_retain(libc::MS_NOSYMFOLLOW);
    &[
        ("ro", MsFlags::MS_RDONLY, E),
        ("rw", E, MsFlags::MS_RDONLY),
        ("nosuid", MsFlags::MS_NOSUID, E),
        ("suid", E, MsFlags::MS_NOSUID),
        ("nodev", MsFlags::MS_NODEV, E),
        ("dev", E, MsFlags::MS_NODEV),
        ("noexec", MsFlags::MS_NOEXEC, E),
        ("exec", E, MsFlags::MS_NOEXEC),
        ("sync", MsFlags::MS_SYNCHRONOUS, E),
        ("async", E, MsFlags::MS_SYNCHRONOUS),
        ("dirsync", MsFlags::MS_DIRSYNC, E),
        ("remount", MsFlags::MS_REMOUNT, E),
        ("mand", MsFlags::MS_MANDLOCK, E),
        ("nomand", E, MsFlags::MS_MANDLOCK),
        ("noatime", MsFlags::MS_NOATIME, E),
        ("atime", E, MsFlags::MS_NOATIME),
        ("nodiratime", MsFlags::MS_NODIRATIME, E),
        ("diratime", E, MsFlags::MS_NODIRATIME),
        ("relatime", MsFlags::MS_RELATIME, E),
        ("norelatime", E, MsFlags::MS_RELATIME),
        ("strictatime", MsFlags::MS_STRICTATIME, E),
        ("nostrictatime", E, MsFlags::MS_STRICTATIME),
        ("lazytime", MsFlags::MS_LAZYTIME, E),
        ("nolazytime", E, MsFlags::MS_LAZYTIME),
        ("silent", MsFlags::MS_SILENT, E),
        ("loud", E, MsFlags::MS_SILENT),
        ("nosymfollow", NOSYMFOLLOW, E),
        ("symfollow", E, NOSYMFOLLOW),
    ]
};

/// Split mount options into flags, propagation, bind kind and filesystem data.
pub fn parse_mount_options(opts: &[String]) -> MountOptions {
    let mut m = MountOptions {
        flags: MsFlags::empty(),
        clear: MsFlags::empty(),
        propagation: MsFlags::empty(),
        data: vec![],
        bind: false,
        rbind: false,
        copy_up: false,
        idmap: false,
        ridmap: false,
    };
    for o in opts {
        match o.as_str() {
            "bind" => m.bind = true,
            "tmpcopyup" => m.copy_up = true,
            "rbind" => m.rbind = true,
            "idmap" => m.idmap = true,
            "ridmap" => m.ridmap = true,
            "defaults" => {}
            other => {
                if let Some(&(_, set, clear)) = FLAG_OPTIONS.iter().find(|(n, _, _)| *n == other) {
                    // `difference`, not `& !x`: `!` drops the bits nix has no name for
                    // (MS_NOSYMFOLLOW), which would silently lose `nosymfollow`.
                    m.flags = (m.flags | set).difference(clear);
                    m.clear = (m.clear | clear).difference(set);
                } else if let Some(p) = propagation_flag(other) {
                    m.propagation |= p;
                } else {
                    m.data.push(other.to_string());
                }
            }
        }
    }
    m
}

/// Build the plan. `cap_last` is the kernel's highest capability number.
pub fn build(checked: &CheckedSpec, opts: &PlanOptions) -> Result<LaunchPlan> {
    let spec = checked.spec();
    let linux = spec.linux().as_ref().expect("validated: linux present");
    let process = spec.process().as_ref().expect("validated: process present");
    let cfg = checked.config_path();

    // Namespaces.
    let mut clone_flags = CloneFlags::empty();
    let mut late_unshare = CloneFlags::empty();
    let mut join = Vec::new();
    let mut new_user = false;
    let mut joins_user_pid_time = false;
    let mut private_pid_ns = false;
    for (i, ns) in linux.namespaces().as_deref().unwrap_or(&[]).iter().enumerate() {
        let flag = ns_flag(ns.typ());
        if ns.typ() == LinuxNamespaceType::Pid {
            private_pid_ns = ns.path().is_none();
        }
        match ns.path() {
            None => {
                if ns.typ() == LinuxNamespaceType::User {
                    new_user = true;
                }
                let offsets = linux.time_offsets().as_ref().is_some_and(|o| !o.is_empty());
                // A time namespace with offsets is unshared by the init, which sets the
                // offsets before entering it (clone would enter it at once).
                if ns.typ() == LinuxNamespaceType::Cgroup || (ns.typ() == LinuxNamespaceType::Time && offsets) {
                    late_unshare |= flag;
                } else {
                    clone_flags |= flag;
                }
            }
            Some(p) => {
                if matches!(
                    ns.typ(),
                    LinuxNamespaceType::User | LinuxNamespaceType::Pid | LinuxNamespaceType::Time
                ) {
                    joins_user_pid_time = true;
                }
                let fd = nix::fcntl::open(p, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty()).map_err(|e| {
                    Error::config(
                        cfg,
                        format!("linux.namespaces[{i}].path"),
                        format!("{}: {}", p.display(), crate::error::errno_text(e)),
                    )
                })?;
                join.push(JoinNs {
                    flag,
                    fd,
                    path: p.display().to_string(),
                });
            }
        }
    }
    // The user namespace is joined first (it decides the capabilities for the rest), pid and
    // time last (they only apply to children).
    join.sort_by_key(|j| match j.flag {
        f if f == CloneFlags::CLONE_NEWUSER => 0,
        f if f == CloneFlags::CLONE_NEWPID => 2,
        f if f.bits() == libc::CLONE_NEWTIME => 2,
        _ => 1,
    });
    let mode = if joins_user_pid_time || (new_user && !join.is_empty()) {
        SpawnMode::TwoStage
    } else {
        SpawnMode::Direct
    };

    let maps = |m: Option<&Vec<oci_spec::runtime::LinuxIdMapping>>| -> Option<IdMappings> {
        m.filter(|v| !v.is_empty())
            .map(|v| IdMappings::from_spec(v).expect("validated mappings"))
    };
    let uid_maps = if new_user {
        maps(linux.uid_mappings().as_ref())
    } else {
        None
    };
    let gid_maps = if new_user {
        maps(linux.gid_mappings().as_ref())
    } else {
        None
    };

    // Inside any user namespace (new or joined) mknod is refused: devices are bound.
    // Also when the runtime itself runs in a user namespace (rootless podman): no mknod there.
    let in_user_ns = checked.has_namespace(LinuxNamespaceType::User) || crate::in_user_namespace();
    let rootfs = rootfs_plan(checked, opts, in_user_ns, process.cwd())?;
    let process = spec.process().as_ref().expect("validated");
    let activated;
    let process = if opts.listen_fds > 0 {
        let mut p = process.clone();
        let mut env = p.env().clone().unwrap_or_default();
        env.retain(|e| !e.starts_with("LISTEN_FDS=") && !e.starts_with("LISTEN_PID="));
        env.push(format!("LISTEN_FDS={}", opts.listen_fds));
        env.push("LISTEN_PID=1".into());
        p.set_env(Some(env));
        activated = p;
        &activated
    } else {
        process
    };
    let fds = opts.preserve_fds.saturating_add(opts.listen_fds);
    let mut process_plan = process_plan(process, checked.rootfs(), checked.config_path(), fds)?;
    (process_plan.seccomp, process_plan.seccomp_listener) =
        compile_seccomp(linux.seccomp().as_ref(), checked.config_path())?;

    let mut sysctls = Vec::new();
    if let Some(s) = linux.sysctl() {
        let mut keys: Vec<_> = s.keys().collect();
        keys.sort();
        for k in keys {
            sysctls.push((
                cstr(&format!("sys/{}", k.replace('.', "/")), "sysctl key")?,
                s[k].as_bytes().to_vec(),
            ));
        }
    }

    Ok(LaunchPlan {
        mode,
        clone_flags,
        late_unshare,
        new_user,
        join,
        uid_map: uid_maps.map(|m| m.to_proc_format()),
        gid_map: gid_maps.map(|m| m.to_proc_format()),
        hostname: spec
            .hostname()
            .as_ref()
            .filter(|h| !h.is_empty())
            .map(|h| h.as_bytes().to_vec()),
        domainname: spec
            .domainname()
            .as_ref()
            .filter(|h| !h.is_empty())
            .map(|h| h.as_bytes().to_vec()),
        rootfs,
        process: process_plan,
        sysctls,
        oom_score_adj: process.oom_score_adj(),
        new_keyring: !opts.no_new_keyring,
        private_pid_ns,
        console: if process.terminal().unwrap_or(false) {
            Some(ConsolePlan {
                ptmx: PathInRoot::new(Path::new("/dev/pts/ptmx"))?,
                console: PathInRoot::new(Path::new("/dev/console"))?,
                size: process
                    .console_size()
                    .filter(|b| b.height() > 0 && b.width() > 0)
                    .map(|b| {
                        (
                            b.height().min(u16::MAX as u64) as u16,
                            b.width().min(u16::MAX as u64) as u16,
                        )
                    }),
            })
        } else {
            None
        },
        hook_sync: spec.hooks().as_ref().is_some_and(|h| {
            h.prestart().as_ref().is_some_and(|v| !v.is_empty())
                || h.create_runtime().as_ref().is_some_and(|v| !v.is_empty())
                || h.create_container().as_ref().is_some_and(|v| !v.is_empty())
        }) || linux.net_devices().as_ref().is_some_and(|d| !d.is_empty()),
        time_offsets: linux.time_offsets().as_ref().filter(|o| !o.is_empty()).map(|o| {
            let mut text = String::new();
            for clock in ["monotonic", "boottime"] {
                if let Some(v) = o.get(clock) {
                    text.push_str(&format!(
                        "{clock} {} {}\n",
                        v.secs().unwrap_or(0),
                        v.nanosecs().unwrap_or(0)
                    ));
                }
            }
            text.into_bytes()
        }),
        net_devices: {
            let mut v: Vec<_> = linux
                .net_devices()
                .iter()
                .flatten()
                .map(|(host, d)| crate::netdev::NetDevice {
                    host: host.clone(),
                    name: d.name().clone().unwrap_or_else(|| host.clone()),
                })
                .collect();
            v.sort_by(|a, b| a.host.cmp(&b.host));
            v
        },
        personality: linux
            .personality()
            .as_ref()
            .map(crate::procattr::personality)
            .transpose()
            .map_err(|m| Error::config(cfg, "linux.personality", m))?,
        mem_policy: linux
            .memory_policy()
            .as_ref()
            .map(crate::procattr::mem_policy)
            .transpose()
            .map_err(|m| Error::config(cfg, "linux.memoryPolicy", m))?,
    })
}

fn ns_flag(t: LinuxNamespaceType) -> CloneFlags {
    match t {
        LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
        LinuxNamespaceType::User => CloneFlags::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
        LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
        LinuxNamespaceType::Time => CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
    }
}

struct DefaultDevice {
    name: &'static str,
    major: u64,
    minor: u64,
}

const DEFAULT_DEVICES: [DefaultDevice; 6] = [
    DefaultDevice {
        name: "null",
        major: 1,
        minor: 3,
    },
    DefaultDevice {
        name: "zero",
        major: 1,
        minor: 5,
    },
    DefaultDevice {
        name: "full",
        major: 1,
        minor: 7,
    },
    DefaultDevice {
        name: "random",
        major: 1,
        minor: 8,
    },
    DefaultDevice {
        name: "urandom",
        major: 1,
        minor: 9,
    },
    DefaultDevice {
        name: "tty",
        major: 5,
        minor: 0,
    },
];

fn rootfs_plan(checked: &CheckedSpec, opts: &PlanOptions, new_user: bool, cwd: &Path) -> Result<RootfsPlan> {
    let spec = checked.spec();
    let linux = spec.linux().as_ref().expect("validated");
    let cfg = checked.config_path();
    let root_str = checked.rootfs().as_os_str().as_bytes().to_vec();
    let propagation = match linux.rootfs_propagation().as_deref() {
        Some(p) => propagation_flag(p).expect("validated propagation"),
        None => MsFlags::MS_SLAVE | MsFlags::MS_REC,
    };

    let mut mounts = Vec::new();
    let mut setup_dev = false;
    for (i, m) in spec.mounts().as_deref().unwrap_or(&[]).iter().enumerate() {
        let dest = m.destination();
        if PathInRoot::new(dest)?.display == "/dev" {
            setup_dev = true;
        }
        mount_steps(m, i, checked, opts, &mut mounts).map_err(|e| match e {
            Error::Config { .. } | Error::NotSupported(_) => e,
            other => Error::config(cfg, format!("mounts[{i}]"), other.to_string()),
        })?;
    }

    let mut devices = Vec::new();
    let mut push_dev = |path: &Path, kind: u32, major: u64, minor: u64, perm: u32, uid: u32, gid: u32| -> Result<()> {
        let p = PathInRoot::new(path)?;
        if devices.iter().any(|d: &DeviceStep| d.path.display == p.display) {
            return Ok(());
        }
        devices.push(DeviceStep {
            host_path: cstring(path.as_os_str().as_bytes().to_vec(), path)?,
            path: p,
            mode: kind | perm,
            dev: nix::sys::stat::makedev(major, minor),
            uid,
            gid,
        });
        Ok(())
    };
    for (i, d) in linux.devices().as_deref().unwrap_or(&[]).iter().enumerate() {
        use oci_spec::runtime::LinuxDeviceType as T;
        let kind = match d.typ() {
            T::C | T::U => libc::S_IFCHR,
            T::B => libc::S_IFBLK,
            T::P => libc::S_IFIFO,
            T::A => {
                return Err(Error::config(
                    cfg,
                    format!("linux.devices[{i}].type"),
                    "\"a\" is not a device type",
                ))
            }
        };
        push_dev(
            d.path(),
            kind,
            d.major() as u64,
            d.minor() as u64,
            d.file_mode().unwrap_or(0o666) & 0o7777,
            d.uid().unwrap_or(0),
            d.gid().unwrap_or(0),
        )?;
    }
    if setup_dev {
        for d in &DEFAULT_DEVICES {
            push_dev(
                &Path::new("/dev").join(d.name),
                libc::S_IFCHR,
                d.major,
                d.minor,
                0o666,
                0,
                0,
            )?;
        }
    }
    let mut symlinks = Vec::new();
    if setup_dev {
        for (target, link) in [
            ("/proc/self/fd", "/dev/fd"),
            ("/proc/self/fd/0", "/dev/stdin"),
            ("/proc/self/fd/1", "/dev/stdout"),
            ("/proc/self/fd/2", "/dev/stderr"),
            ("pts/ptmx", "/dev/ptmx"),
        ] {
            symlinks.push((cstr(target, "symlink")?, PathInRoot::new(Path::new(link))?));
        }
    }
    let paths = |v: Option<&Vec<String>>| -> Result<Vec<PathInRoot>> {
        v.map(|v| v.iter().map(|p| PathInRoot::new(Path::new(p))).collect())
            .unwrap_or(Ok(vec![]))
    };

    Ok(RootfsPlan {
        root: cstring(root_str, checked.rootfs())?,
        root_display: checked.rootfs().display().to_string(),
        propagation,
        readonly: spec.root().as_ref().and_then(|r| r.readonly()).unwrap_or(false),
        no_pivot: opts.no_pivot,
        mounts,
        devices,
        bind_devices: new_user,
        symlinks,
        masked: paths(linux.masked_paths().as_ref())?,
        readonly_paths: paths(linux.readonly_paths().as_ref())?,
        cwd: PathInRoot::new(cwd)?,
        setup_dev,
    })
}

/// The (uid_map, gid_map) of an id-mapped bind mount: the mount's own mappings, or with
/// only `idmap`/`ridmap`, the container's user namespace mappings (as runc).
fn id_mappings_of(m: &Mount, i: usize, checked: &CheckedSpec, o: &MountOptions) -> Result<Option<(String, String)>> {
    let render = |v: &[oci_spec::runtime::LinuxIdMapping], field: &str| -> Result<String> {
        IdMappings::from_spec(v).map(|m| m.to_proc_format()).map_err(|e| {
            Error::config(
                checked.config_path(),
                format!("mounts[{i}].{field}{e}"),
                "invalid mapping",
            )
        })
    };
    let linux = checked.spec().linux().as_ref();
    let (u, g) = match (m.uid_mappings(), m.gid_mappings()) {
        (Some(u), Some(g)) => (u.clone(), g.clone()),
        (None, None) if o.idmap || o.ridmap => (
            linux.and_then(|l| l.uid_mappings().clone()).unwrap_or_default(),
            linux.and_then(|l| l.gid_mappings().clone()).unwrap_or_default(),
        ),
        (None, None) => return Ok(None),
        _ => {
            return Err(Error::config(
                checked.config_path(),
                format!("mounts[{i}]"),
                "uidMappings and gidMappings must be given together",
            ))
        }
    };
    if u.is_empty() || g.is_empty() {
        return Err(Error::config(
            checked.config_path(),
            format!("mounts[{i}].options"),
            "idmap needs mappings: in the mount or from the container's user namespace",
        ));
    }
    Ok(Some((render(&u, "uidMappings")?, render(&g, "gidMappings")?)))
}

fn mount_steps(m: &Mount, i: usize, checked: &CheckedSpec, opts: &PlanOptions, out: &mut Vec<MountStep>) -> Result<()> {
    let cfg = checked.config_path();
    let o = parse_mount_options(m.options().as_deref().unwrap_or(&[]));
    let typ = m.typ().as_deref().unwrap_or("");
    let dest = PathInRoot::new(m.destination())?;
    if dest.is_root() {
        return Err(Error::config(
            cfg,
            format!("mounts[{i}].destination"),
            "cannot mount over the container's root",
        ));
    }
    let mut data_opts = o.data.clone();
    // linux.mountLabel goes on the filesystems runc labels (not proc, sysfs, mqueue, cgroup
    // or binds, which are handled before this is used).
    if !matches!(typ, "proc" | "sysfs" | "mqueue" | "cgroup" | "cgroup2") {
        let label = checked.spec().linux().as_ref().and_then(|l| l.mount_label().clone());
        if let Some(ctx) = crate::lsm::mount_label_option(label.as_deref(), cfg)? {
            data_opts.push(ctx);
        }
    }
    let data = if data_opts.is_empty() {
        None
    } else {
        Some(cstr(&data_opts.join(","), "mount options")?)
    };
    let is_bind = o.bind || o.rbind || typ == "bind";
    if is_bind {
        let src = m
            .source()
            .as_ref()
            .ok_or_else(|| Error::config(cfg, format!("mounts[{i}].source"), "is required for a bind mount"))?;
        // A relative bind source is relative to the bundle (runc).
        let src = if src.is_absolute() {
            src.clone()
        } else {
            checked.bundle().join(src)
        };
        let meta = std::fs::metadata(&src).map_err(|e| {
            Error::config(
                cfg,
                format!("mounts[{i}].source"),
                format!(
                    "{}: {}",
                    src.display(),
                    crate::error::errno_text(nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)))
                ),
            )
        })?;
        let extra = o.flags & !MsFlags::MS_REMOUNT;
        let source = cstring(src.as_os_str().as_bytes().to_vec(), &src)?;
        let kind = match id_mappings_of(m, i, checked, &o)? {
            Some((uid_map, gid_map)) => MountKind::Detached {
                tree: crate::idmount::detached(&source, o.rbind || o.ridmap, &uid_map, &gid_map)?,
                source,
            },
            None => MountKind::Bind {
                source,
                recursive: o.rbind,
            },
        };
        out.push(MountStep {
            dest,
            dest_resolved: None,
            kind,
            flags: MsFlags::MS_BIND | if o.rbind { MsFlags::MS_REC } else { MsFlags::empty() },
            data: None,
            propagation: o.propagation,
            dest_is_file: !meta.is_dir(),
            remount_flags: if extra.is_empty() { None } else { Some(extra) },
            require_dir: false,
        });
        return Ok(());
    }
    if typ == "cgroup" {
        return cgroup_mount_steps(dest, &o, opts, out);
    }
    if typ.is_empty() {
        return Err(Error::config(
            cfg,
            format!("mounts[{i}].type"),
            "is required for a non-bind mount",
        ));
    }
    let source = m
        .source()
        .as_ref()
        .map(|s| s.as_os_str().as_bytes().to_vec())
        .unwrap_or_else(|| typ.as_bytes().to_vec());
    out.push(MountStep {
        dest_resolved: resolved_alt(checked.rootfs(), &dest)?,
        dest,
        kind: MountKind::Fs {
            fstype: cstr(typ, "mount type")?,
            source: cstring(source, m.destination())?,
            // runc applies it to tmpfs only and ignores it elsewhere.
            copy_up: o.copy_up && typ == "tmpfs",
        },
        flags: o.flags,
        data,
        propagation: o.propagation,
        dest_is_file: false,
        remount_flags: None,
        require_dir: matches!(typ, "proc" | "sysfs"),
    });
    Ok(())
}

/// A `cgroup` mount: on cgroup2 a cgroup2 filesystem; on v1 (and hybrid) hosts a tmpfs
/// with a read-only (or as asked) bind of the container's cgroup in each hierarchy.
fn cgroup_mount_steps(dest: PathInRoot, o: &MountOptions, opts: &PlanOptions, out: &mut Vec<MountStep>) -> Result<()> {
    let base = Path::new(&dest.display).to_path_buf();
    let flags = o.flags;
    let v2_only = !opts.cgroups.is_empty() && opts.cgroups.iter().all(|(h, _)| h.v2);
    if v2_only {
        let (_, dir) = &opts.cgroups[0];
        out.push(MountStep {
            dest,
            dest_resolved: None,
            kind: MountKind::Bind {
                source: cstring(dir.as_os_str().as_bytes().to_vec(), dir)?,
                recursive: false,
            },
            flags: MsFlags::MS_BIND,
            data: None,
            propagation: o.propagation,
            dest_is_file: false,
            remount_flags: Some(flags | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC),
            require_dir: true,
        });
        return Ok(());
    }
    out.push(MountStep {
        dest,
        dest_resolved: None,
        kind: MountKind::Fs {
            fstype: c"tmpfs".to_owned(),
            source: c"tmpfs".to_owned(),
            copy_up: false,
        },
        flags: (flags & !MsFlags::MS_RDONLY) | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        data: Some(c"mode=755".to_owned()),
        propagation: MsFlags::empty(),
        dest_is_file: false,
        remount_flags: None,
        require_dir: true,
    });
    for (h, dir) in &opts.cgroups {
        let name = if h.v2 {
            "unified".to_string()
        } else {
            h.mountpoint
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        if name.is_empty() {
            continue;
        }
        out.push(MountStep {
            dest: PathInRoot::new(&base.join(&name))?,
            dest_resolved: None,
            kind: MountKind::Bind {
                source: cstring(dir.as_os_str().as_bytes().to_vec(), dir)?,
                recursive: false,
            },
            flags: MsFlags::MS_BIND,
            data: None,
            propagation: MsFlags::empty(),
            dest_is_file: false,
            remount_flags: Some(flags | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC),
            require_dir: true,
        });
    }
    if flags.contains(MsFlags::MS_RDONLY) {
        out.push(MountStep {
            dest: PathInRoot::new(&base)?,
            dest_resolved: None,
            kind: MountKind::Remount,
            flags: MsFlags::MS_REMOUNT
                | MsFlags::MS_RDONLY
                | MsFlags::MS_NOSUID
                | MsFlags::MS_NODEV
                | MsFlags::MS_NOEXEC,
            data: Some(c"mode=755".to_owned()),
            propagation: MsFlags::empty(),
            dest_is_file: false,
            remount_flags: None,
            require_dir: true,
        });
    }
    Ok(())
}

/// `dest` with the image's symlinks followed inside `rootfs`, if that gives another path.
fn resolved_alt(rootfs: &Path, dest: &PathInRoot) -> Result<Option<PathInRoot>> {
    let r = resolve_in_root(rootfs, Path::new(&dest.display));
    if r == Path::new(&dest.display) {
        return Ok(None);
    }
    PathInRoot::new(&r).map(Some)
}

/// Follow symlinks of `p` (an in-container absolute path) as they are in the image under
/// `rootfs`, never leaving the root: absolute targets restart at the root, `..` stops at it.
/// Components that do not exist are kept as they are.
pub fn resolve_in_root(rootfs: &Path, p: &Path) -> PathBuf {
    let mut todo: Vec<std::ffi::OsString> = p
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .rev()
        .collect();
    let mut done: Vec<std::ffi::OsString> = Vec::new();
    let mut links = 0;
    while let Some(c) = todo.pop() {
        if c == ".." {
            done.pop();
            continue;
        }
        let mut here = rootfs.to_path_buf();
        here.extend(&done);
        here.push(&c);
        match std::fs::symlink_metadata(&here) {
            Ok(m) if m.file_type().is_symlink() && links < 40 => {
                links += 1;
                let Ok(target) = std::fs::read_link(&here) else {
                    done.push(c);
                    continue;
                };
                if target.is_absolute() {
                    done.clear();
                }
                for t in target.components().rev() {
                    match t {
                        Component::Normal(n) => todo.push(n.to_os_string()),
                        Component::ParentDir => todo.push("..".into()),
                        _ => {}
                    }
                }
            }
            _ => done.push(c),
        }
    }
    let mut out = PathBuf::from("/");
    out.extend(done);
    out
}

/// Compile `linux.seccomp` (before the fork: the child only loads the BPF), with the
/// listener that gets the notification fd when the filter has SCMP_ACT_NOTIFY rules.
#[allow(clippy::type_complexity)]
pub fn compile_seccomp(
    sc: Option<&oci_spec::runtime::LinuxSeccomp>,
    cfg: &Path,
) -> Result<(Option<crate::seccomp::SeccompProgram>, Option<crate::seccomp::Listener>)> {
    let Some(sc) = sc else { return Ok((None, None)) };
    let prog =
        crate::seccomp::SeccompProgram::compile(sc).map_err(|e| Error::config(cfg, "linux.seccomp", e.to_string()))?;
    for name in prog.unknown_syscalls() {
        crate::debug_log(&format!(
            "seccomp: syscall {name:?} is unknown to libseccomp: rule skipped"
        ));
    }
    let listener = match (prog.notify(), sc.listener_path()) {
        (false, _) => None,
        (true, None) => {
            return Err(Error::config(
                cfg,
                "linux.seccomp.listenerPath",
                "is required when a rule uses SCMP_ACT_NOTIFY",
            ))
        }
        (true, Some(p)) if !p.is_absolute() => {
            return Err(Error::config(
                cfg,
                "linux.seccomp.listenerPath",
                "must be an absolute path",
            ))
        }
        (true, Some(p)) => Some(crate::seccomp::Listener {
            path: p.clone(),
            metadata: sc.listener_metadata().clone().unwrap_or_default(),
        }),
    };
    Ok((Some(prog), listener))
}

/// The process part of a plan, for the init or for `exec`. `rootfs` is where the image's
/// /etc/passwd is read for HOME; `cfg` names the document in errors.
pub fn process_plan(p: &Process, rootfs: &Path, cfg: &Path, preserve_fds: u32) -> Result<ProcessPlan> {
    let args: Vec<String> = p.args().clone().unwrap_or_default();
    let mut env: Vec<String> = p.env().clone().unwrap_or_default();
    let uid = p.user().uid();
    let gid = p.user().gid();
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!(
            "HOME={}",
            home_in_rootfs(rootfs, uid).unwrap_or_else(|| "/".into())
        ));
    }
    let arg0 = args[0].clone();
    let exec_candidates = if arg0.contains('/') {
        vec![cstr(&arg0, "process.args[0]")?]
    } else {
        let path = env
            .iter()
            .rev()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or(DEFAULT_PATH);
        path.split(':')
            .map(|d| if d.is_empty() { "." } else { d })
            .map(|d| cstr(&format!("{}/{arg0}", d.trim_end_matches('/')), "PATH entry"))
            .collect::<Result<_>>()?
    };
    let to_c = |v: &[String], what: &str| -> Result<CStrArray> {
        Ok(CStrArray::new(v.iter().map(|s| cstr(s, what)).collect::<Result<_>>()?))
    };

    let cap_last = crate::sys::cap_last_cap();
    let mask = |set: Option<&oci_spec::runtime::Capabilities>| -> Result<u64> {
        let mut m = 0u64;
        for c in set.into_iter().flatten() {
            let name = match c.to_string() {
                n if n.starts_with("CAP_") => n,
                n => format!("CAP_{n}"),
            };
            let cap: caps::Capability = name
                .parse()
                .map_err(|_| Error::config(cfg, "process.capabilities", format!("unknown capability {name:?}")))?;
            m |= 1u64 << cap.index();
        }
        Ok(m)
    };
    let (caps_sets, bounding, ambient) = match p.capabilities() {
        Some(c) => (
            CapSets {
                effective: mask(c.effective().as_ref())?,
                permitted: mask(c.permitted().as_ref())?,
                inheritable: mask(c.inheritable().as_ref())?,
            },
            mask(c.bounding().as_ref())?,
            mask(c.ambient().as_ref())?,
        ),
        None => (CapSets::default(), 0, 0),
    };

    let mut rlimits = Vec::new();
    for r in p.rlimits().as_deref().unwrap_or(&[]) {
        rlimits.push((rlimit_resource(r.typ()), r.soft(), r.hard()));
    }

    Ok(ProcessPlan {
        args: to_c(&args, "process.args")?,
        env: to_c(&env, "process.env")?,
        exec_candidates,
        arg0,
        uid,
        gid,
        additional_gids: p.user().additional_gids().as_deref().unwrap_or(&[]).to_vec(),
        umask: p.user().umask(),
        caps: caps_sets,
        bounding,
        ambient,
        cap_last,
        rlimits,
        no_new_privs: p.no_new_privileges().unwrap_or(false),
        cwd: cstring(p.cwd().as_os_str().as_bytes().to_vec(), p.cwd())?,
        terminal: p.terminal().unwrap_or(false),
        preserve_fds,
        seccomp: None,
        seccomp_listener: None,
        lsm: crate::lsm::LsmPlan::new(p.apparmor_profile().as_deref(), p.selinux_label().as_deref(), cfg)?,
        io_priority: p
            .io_priority()
            .as_ref()
            .map(crate::procattr::io_priority)
            .transpose()
            .map_err(|m| Error::config(cfg, "process.ioPriority", m))?,
        scheduler: p
            .scheduler()
            .as_ref()
            .map(crate::procattr::sched_attr)
            .transpose()
            .map_err(|m| Error::config(cfg, "process.scheduler", m))?,
    })
}

fn rlimit_resource(t: oci_spec::runtime::PosixRlimitType) -> libc::__rlimit_resource_t {
    use oci_spec::runtime::PosixRlimitType as T;
    match t {
        T::RlimitCpu => libc::RLIMIT_CPU,
        T::RlimitFsize => libc::RLIMIT_FSIZE,
        T::RlimitData => libc::RLIMIT_DATA,
        T::RlimitStack => libc::RLIMIT_STACK,
        T::RlimitCore => libc::RLIMIT_CORE,
        T::RlimitRss => libc::RLIMIT_RSS,
        T::RlimitNproc => libc::RLIMIT_NPROC,
        T::RlimitNofile => libc::RLIMIT_NOFILE,
        T::RlimitMemlock => libc::RLIMIT_MEMLOCK,
        T::RlimitAs => libc::RLIMIT_AS,
        T::RlimitLocks => libc::RLIMIT_LOCKS,
        T::RlimitSigpending => libc::RLIMIT_SIGPENDING,
        T::RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        T::RlimitNice => libc::RLIMIT_NICE,
        T::RlimitRtprio => libc::RLIMIT_RTPRIO,
        T::RlimitRttime => libc::RLIMIT_RTTIME,
    }
}

/// The home directory of `uid` from the image's /etc/passwd, read inside the root (a symlink
/// in the image cannot make us read a host file).
fn home_in_rootfs(rootfs: &Path, uid: u32) -> Option<String> {
    use std::io::Read;
    let root = nix::fcntl::open(
        rootfs,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let how = nix::fcntl::OpenHow::new()
        .flags(OFlag::O_RDONLY | OFlag::O_CLOEXEC)
        .resolve(nix::fcntl::ResolveFlag::RESOLVE_IN_ROOT | nix::fcntl::ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let fd = nix::fcntl::openat2(&root, "etc/passwd", how).ok()?;
    let mut s = String::new();
    std::fs::File::from(fd).take(1 << 20).read_to_string(&mut s).ok()?;
    s.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 6 && f[2].parse() == Ok(uid)).then(|| f[5].to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_in_root_cannot_climb() {
        let p = PathInRoot::new(Path::new("/../../etc/./passwd")).unwrap();
        assert_eq!(p.rel.to_str().unwrap(), "etc/passwd");
        assert_eq!(p.display, "/etc/passwd");
        assert_eq!(p.prefixes.len(), 2);
        assert_eq!(p.name.to_str().unwrap(), "passwd");
        let r = PathInRoot::new(Path::new("/")).unwrap();
        assert!(r.is_root());
        assert_eq!(r.rel.to_str().unwrap(), ".");
    }

    #[test]
    fn mount_options() {
        let o = parse_mount_options(
            &["nosuid", "strictatime", "mode=755", "size=65536k", "rslave", "ro", "rw"].map(String::from),
        );
        assert_eq!(o.flags, MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME);
        assert_eq!(o.propagation, MsFlags::MS_SLAVE | MsFlags::MS_REC);
        assert_eq!(o.data, vec!["mode=755", "size=65536k"]);
        let b = parse_mount_options(&["rbind", "ro"].map(String::from));
        assert!(b.rbind && b.flags == MsFlags::MS_RDONLY);
        let n = parse_mount_options(&["newinstance", "ptmxmode=0666", "mode=0620", "gid=5"].map(String::from));
        assert!(n.flags.is_empty());
        assert_eq!(n.data.len(), 4);
        // tmpcopyup is runc's extension, not tmpfs data.
        let t = parse_mount_options(&["tmpcopyup", "mode=1777"].map(String::from));
        assert!(t.copy_up && !n.copy_up);
        assert_eq!(t.data, vec!["mode=1777"]);
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let d = std::env::temp_dir().join(format!("rc-plan-resolve-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("real")).unwrap();
        std::os::unix::fs::symlink("/tmp/outside", d.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../real", d.join("rel")).unwrap();
        std::os::unix::fs::symlink("loop", d.join("loop")).unwrap();
        assert_eq!(resolve_in_root(&d, Path::new("/abs/x")), Path::new("/tmp/outside/x"));
        assert_eq!(resolve_in_root(&d, Path::new("/rel/y")), Path::new("/real/y"));
        assert_eq!(resolve_in_root(&d, Path::new("/plain/z")), Path::new("/plain/z"));
        assert_eq!(resolve_in_root(&d, Path::new("/../../real")), Path::new("/real"));
        // A loop ends after the link limit instead of hanging.
        let _ = resolve_in_root(&d, Path::new("/loop/a"));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn propagation_names() {
        assert_eq!(propagation_flag("private"), Some(MsFlags::MS_PRIVATE));
        assert_eq!(propagation_flag("rshared"), Some(MsFlags::MS_SHARED | MsFlags::MS_REC));
        assert_eq!(propagation_flag("bogus"), None);
    }
}
