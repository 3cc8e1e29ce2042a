//! OCI bundles for the tests: a busybox-static rootfs and a `runc spec`-like `config.json`.

use std::fs;
use std::io;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{json, Value};

use crate::TEST_BASE;

const BUSYBOX: &str = "/bin/busybox";

/// An OCI bundle directory: `rootfs/` plus `config.json`.
///
/// The configuration lives in memory ([`Bundle::config_mut`], [`Bundle::args`], ...) and is
/// written by [`Bundle::save`]; the [`crate::TestCtx`] helpers that take a `&Bundle` save it
/// before they run the runtime.
#[derive(Debug)]
pub struct Bundle {
    dir: PathBuf,
    config: Value,
}

impl Bundle {
    /// Creates `dir` (must not exist) with a fresh rootfs and the default config running
    /// `args` in the cgroup `cgroups_path` (absolute, below `/runtime-cli-test/`).
    pub fn create(dir: &Path, cgroups_path: &str, args: &[&str]) -> io::Result<Bundle> {
        fs::create_dir_all(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
        build_rootfs(&dir.join("rootfs"))?;
        let b = Bundle {
            dir: dir.to_path_buf(),
            config: default_config(args, cgroups_path),
        };
        b.save();
        Ok(b)
    }

    /// The bundle directory (absolute).
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The bundle directory as a `&str` (test paths are always UTF-8).
    pub fn dir_str(&self) -> &str {
        self.dir.to_str().expect("bundle paths are UTF-8")
    }

    /// `<bundle>/rootfs`.
    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    /// A path inside the rootfs as seen from the host, e.g. `rootfs_path("tmp/marker")`.
    pub fn rootfs_path(&self, rel: &str) -> PathBuf {
        self.rootfs().join(rel.trim_start_matches('/'))
    }

    /// The configuration (in memory).
    pub fn config(&self) -> &Value {
        &self.config
    }

    /// The configuration, for arbitrary changes (call [`Bundle::save`] or a `TestCtx` helper
    /// afterwards).
    pub fn config_mut(&mut self) -> &mut Value {
        &mut self.config
    }

    /// Sets `process.args`.
    pub fn args(&mut self, args: &[&str]) -> &mut Self {
        self.config["process"]["args"] = json!(args);
        self
    }

    /// Sets `process.terminal`.
    pub fn terminal(&mut self, on: bool) -> &mut Self {
        self.config["process"]["terminal"] = json!(on);
        self
    }

    /// Sets `annotations`.
    pub fn annotations(&mut self, pairs: &[(&str, &str)]) -> &mut Self {
        let map: serde_json::Map<String, Value> = pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        self.config["annotations"] = Value::Object(map);
        self
    }

    /// `linux.cgroupsPath` (empty string when absent).
    pub fn cgroups_path(&self) -> String {
        self.config["linux"]["cgroupsPath"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Writes `config.json` (pretty-printed, mode 0644).
    pub fn save(&self) {
        let path = self.dir.join("config.json");
        let text = serde_json::to_string_pretty(&self.config).expect("config serialises");
        fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Re-reads `config.json` from disk into memory (e.g. after `spec` wrote it).
    pub fn reload(&mut self) {
        let path = self.dir.join("config.json");
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        self.config = serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()));
    }
}

/// The default `config.json`: mirrors `runc spec` (runc 1.1.5) except `terminal: false`,
/// `root.readonly: false` (tests write markers), the given `args`, hostname `runtime-cli-test`
/// and an absolute `linux.cgroupsPath`.
pub fn default_config(args: &[&str], cgroups_path: &str) -> Value {
    let caps = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    json!({
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": caps.clone(),
                "effective": caps.clone(),
                "permitted": caps.clone(),
                "ambient": caps
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": false},
        "hostname": "runtime-cli-test",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
        ],
        "linux": {
            "cgroupsPath": cgroups_path,
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [
                {"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}
            ],
            "maskedPaths": [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
            ],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

struct Template {
    busybox: PathBuf,
    applets: Vec<String>,
}

/// A private copy of busybox (hard-linked into every rootfs) and its applet list, made once per
/// process. The copy lives in `/run/runtime-cli-test/.cache/` (same filesystem as the bundles),
/// keyed by the host binary's size and mtime, so a test container can never modify the host's
/// `/bin/busybox` through a hard link.
fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| {
        let meta = fs::metadata(BUSYBOX).unwrap_or_else(|e| {
            panic!("{BUSYBOX}: {e} (apt-get install busybox-static; the rootfs needs a static busybox)")
        });
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .unwrap_or_default();
        let cache = Path::new(TEST_BASE).join(".cache");
        fs::create_dir_all(&cache).unwrap_or_else(|e| panic!("mkdir {}: {e}", cache.display()));
        let _ = fs::set_permissions(TEST_BASE, fs::Permissions::from_mode(0o755));
        let busybox = cache.join(format!("busybox-{}-{}", meta.len(), mtime.as_secs()));
        let fresh = fs::metadata(&busybox).is_ok_and(|m| m.len() == meta.len());
        if !fresh {
            let tmp = cache.join(format!(".busybox.{}", std::process::id()));
            fs::copy(BUSYBOX, &tmp).unwrap_or_else(|e| panic!("copy {BUSYBOX}: {e}"));
            fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755)).expect("chmod busybox copy");
            fs::rename(&tmp, &busybox).expect("rename busybox copy");
        }
        let out = std::process::Command::new(&busybox)
            .arg("--list")
            .output()
            .expect("busybox --list");
        assert!(out.status.success(), "busybox --list failed: {out:?}");
        let applets: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|a| !a.is_empty() && *a != "busybox" && !a.contains('/'))
            .map(str::to_string)
            .collect();
        assert!(
            applets.iter().any(|a| a == "sh"),
            "busybox has no `sh` applet: {BUSYBOX} is not busybox-static?"
        );
        Template { busybox, applets }
    })
}

/// Builds a busybox rootfs at `rootfs` (a real directory; runc refuses a symlinked rootfs):
/// the usual top-level directories, `/bin/busybox` (a hard link to a private copy) with one
/// relative symlink per applet, `/etc/passwd`, `/etc/group`, `/etc/hostname`.
pub fn build_rootfs(rootfs: &Path) -> io::Result<()> {
    let t = template();
    for d in [
        "bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "root", "run", "var/tmp",
    ] {
        fs::create_dir_all(rootfs.join(d))?;
    }
    fs::set_permissions(rootfs, fs::Permissions::from_mode(0o755))?;
    for d in ["tmp", "var/tmp"] {
        fs::set_permissions(rootfs.join(d), fs::Permissions::from_mode(0o1777))?;
    }
    let bb = rootfs.join("bin/busybox");
    if fs::hard_link(&t.busybox, &bb).is_err() {
        fs::copy(&t.busybox, &bb)?;
    }
    for a in &t.applets {
        symlink("busybox", rootfs.join("bin").join(a))?;
    }
    fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
    )?;
    fs::write(rootfs.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n")?;
    fs::write(rootfs.join("etc/hostname"), "runtime-cli-test\n")?;
    Ok(())
}
