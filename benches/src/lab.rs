//! The bench's environment: one private mount namespace shared by every runtime under test,
//! a busybox rootfs, one bundle per container, and the removal of everything made.

use std::fs;
use std::os::unix::fs::{symlink, DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use serde_json::{json, Value};

pub type Result<T> = std::result::Result<T, String>;

/// Where the bench keeps its files and cgroups; `tag` is `bench-<pid>`.
pub const WORK_BASE: &str = "/run/runtime-cli-bench";
pub const CGROUP_TOP: &str = "/runtime-cli-test";
const CGROUP_FS: &str = "/sys/fs/cgroup";

/// Enter a private mount namespace in which:
/// * `/sys/fs/cgroup/unified` is unmounted: crun 1.8.1 refuses hybrid hosts ("cgroups in
///   hybrid mode not supported"), so all three runtimes see the same pure v1 hierarchy;
/// * every `/sys/fs/cgroup/*/process_api` (the machine's supervisor) is covered by an empty
///   read-only tmpfs, so nothing run here can touch it.
///
/// Must run before any thread exists (unshare(CLONE_NEWNS) fails in a threaded process).
pub fn enter_guarded_namespace() -> Result<()> {
    unshare(CloneFlags::CLONE_NEWNS).map_err(|e| format!("unshare(CLONE_NEWNS): {e}"))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| format!("making / private in the bench's mount namespace: {e}"))?;
    let unified = Path::new(CGROUP_FS).join("unified");
    if is_mount_point(&unified) {
        umount2(&unified, MntFlags::empty()).map_err(|e| format!("umount {}: {e}", unified.display()))?;
        // crun still writes a `cgroup.procs` file per container under `unified/` (it follows
        // the `0::` line of /proc/self/cgroup): give it a private tmpfs there, which dies
        // with this namespace, instead of the host's /sys/fs/cgroup tmpfs beneath the mount.
        mount(
            Some("bench-unified"),
            &unified,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            Some("size=64m,mode=755"),
        )
        .map_err(|e| format!("mounting a tmpfs on {}: {e}", unified.display()))?;
    }
    for h in hierarchies() {
        let guarded = h.join("process_api");
        if guarded.is_dir() {
            mount(
                Some("bench-guard"),
                &guarded,
                Some("tmpfs"),
                MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                Some("size=4k,mode=555"),
            )
            .map_err(|e| format!("covering {}: {e}", guarded.display()))?;
        }
    }
    Ok(())
}

fn is_mount_point(p: &Path) -> bool {
    let Ok(text) = fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let want = p.to_string_lossy();
    text.lines().any(|l| l.split(' ').nth(4) == Some(&want))
}

/// The mounted cgroup hierarchies (`/sys/fs/cgroup/<name>` directories that are cgroup or
/// cgroup2 mounts).
pub fn hierarchies() -> Vec<PathBuf> {
    use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC, CGROUP_SUPER_MAGIC};
    let is_cgroup =
        |p: &Path| statfs(p).is_ok_and(|s| [CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC].contains(&s.filesystem_type()));
    let mut v: Vec<PathBuf> = fs::read_dir(CGROUP_FS)
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| is_cgroup(p)).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// The bench's files: `<WORK_BASE>/<tag>/{rootfs,bundles,state}`.
#[derive(Debug)]
pub struct Lab {
    pub tag: String,
    pub dir: PathBuf,
    pub rootfs: PathBuf,
    base_config: Value,
}

impl Lab {
    /// Make the work directory, the busybox rootfs and the base config (`runc spec`, the
    /// common ground of the three runtimes: pid, network, ipc, uts and mount namespaces).
    pub fn new(runc: &Path) -> Result<Lab> {
        let tag = format!("bench-{}", std::process::id());
        let dir = Path::new(WORK_BASE).join(&tag);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o711)
            .create(&dir)
            .map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let rootfs = dir.join("rootfs");
        make_rootfs(&rootfs)?;
        let spec_dir = dir.join("spec");
        mkdir(&spec_dir)?;
        let out = Command::new(runc)
            .args(["spec", "--bundle"])
            .arg(&spec_dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running {} spec: {e}", runc.display()))?;
        if !out.status.success() {
            return Err(format!("runc spec failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let cfg = spec_dir.join("config.json");
        let text = fs::read_to_string(&cfg).map_err(|e| format!("reading {}: {e}", cfg.display()))?;
        let base_config: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", cfg.display()))?;
        Ok(Lab {
            tag,
            dir,
            rootfs,
            base_config,
        })
    }

    pub fn state_root(&self, subject: &str) -> PathBuf {
        self.dir.join("state").join(subject)
    }

    /// The absolute cgroupsPath of container `id` of `subject`: the same depth for everyone.
    pub fn cgroups_path(&self, subject: &str, id: &str) -> String {
        format!("{CGROUP_TOP}/{}/{subject}/{id}", self.tag)
    }

    /// Write the bundle of container `id` of `subject` (a config.json whose root.path is the
    /// shared rootfs) and return its directory.
    pub fn bundle(&self, subject: &str, id: &str, args: &[&str]) -> Result<PathBuf> {
        let b = self.dir.join("bundles").join(subject).join(id);
        fs::DirBuilder::new()
            .recursive(true)
            .create(&b)
            .map_err(|e| format!("creating {}: {e}", b.display()))?;
        let mut cfg = self.base_config.clone();
        cfg["process"]["args"] = json!(args);
        cfg["process"]["terminal"] = json!(false);
        cfg["root"] = json!({"path": self.rootfs, "readonly": true});
        cfg["hostname"] = json!("bench");
        cfg["linux"]["cgroupsPath"] = json!(self.cgroups_path(subject, id));
        let p = b.join("config.json");
        fs::write(&p, serde_json::to_vec_pretty(&cfg).expect("a Value serializes"))
            .map_err(|e| format!("writing {}: {e}", p.display()))?;
        Ok(b)
    }

    /// `unshare` flags for the namespaces of the base config, for the floor measurement.
    pub fn unshare_flags(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        let nss = self.base_config["linux"]["namespaces"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for ns in nss {
            match ns["type"].as_str() {
                Some("mount") => v.push("-m"),
                Some("uts") => v.push("-u"),
                Some("ipc") => v.push("-i"),
                Some("network") => v.push("-n"),
                Some("pid") => v.extend(["-p", "-f"]),
                Some("cgroup") => v.push("-C"),
                Some("user") => v.push("-U"),
                Some("time") => v.push("-T"),
                _ => {}
            }
        }
        v
    }

    pub fn namespaces(&self) -> Vec<String> {
        self.base_config["linux"]["namespaces"]
            .as_array()
            .map(|a| a.iter().filter_map(|n| n["type"].as_str().map(String::from)).collect())
            .unwrap_or_default()
    }
}

fn mkdir(p: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .create(p)
        .map_err(|e| format!("creating {}: {e}", p.display()))
}

/// A minimal busybox-static root: /bin/busybox and the applets the bench runs.
fn make_rootfs(r: &Path) -> Result<()> {
    let busybox = Path::new("/bin/busybox");
    if !is_static_elf(busybox) {
        return Err(
            "/bin/busybox is missing or not statically linked: install busybox-static (benches/run.sh does)".into(),
        );
    }
    for d in ["bin", "etc", "proc", "sys", "dev", "tmp", "root", "run"] {
        mkdir(&r.join(d))?;
    }
    let _ = fs::set_permissions(r.join("tmp"), fs::Permissions::from_mode(0o1777));
    fs::copy(busybox, r.join("bin/busybox")).map_err(|e| format!("copying {}: {e}", busybox.display()))?;
    for applet in ["true", "sleep", "sh", "cat"] {
        let l = r.join("bin").join(applet);
        if !l.exists() {
            symlink("busybox", &l).map_err(|e| format!("linking {}: {e}", l.display()))?;
        }
    }
    fs::write(r.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").map_err(|e| format!("etc/passwd: {e}"))?;
    fs::write(r.join("etc/group"), "root:x:0:\n").map_err(|e| format!("etc/group: {e}"))?;
    Ok(())
}

/// An ELF file without a PT_INTERP program header (no dynamic loader).
fn is_static_elf(p: &Path) -> bool {
    let Ok(b) = fs::read(p) else { return false };
    if b.len() < 64 || &b[..4] != b"\x7fELF" || b[4] != 2 {
        return false;
    }
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes")) as usize;
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    (0..phnum).all(|i| {
        let o = phoff + i * phentsize;
        o + 4 <= b.len() && u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes")) != 3
    })
}

/// Create the parent cgroup `/runtime-cli-test/<tag>/<subject>` in every hierarchy, as an
/// orchestrator's parent cgroup exists before its containers: each runtime then creates and
/// removes only its container's own cgroup (runc and crun never remove parents, runtime-cli
/// removes the ones it created, which would otherwise be a cost only it pays).
pub fn make_parent_cgroups(tag: &str, subject: &str) -> Result<()> {
    for h in hierarchies() {
        let mut cur = h.clone();
        for part in [CGROUP_TOP.trim_start_matches('/'), tag, subject] {
            cur.push(part);
            match fs::create_dir(&cur) {
                Ok(()) => fill_cpuset(&h, &cur),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(format!("creating cgroup {}: {e}", cur.display())),
            }
        }
    }
    Ok(())
}

/// A new v1 cpuset cgroup starts with no cpus and mems: copy its parent's.
fn fill_cpuset(h: &Path, dir: &Path) {
    if !h.join("cpuset.cpus").exists() {
        return;
    }
    let parent = dir.parent().unwrap_or(h);
    for f in ["cpuset.cpus", "cpuset.mems"] {
        if let Ok(v) = fs::read_to_string(parent.join(f)) {
            let _ = fs::write(dir.join(f), v.trim());
        }
    }
}

/// Remove every cgroup under `/sys/fs/cgroup/*/runtime-cli-test/<tag>`, deepest first, with
/// rmdir only (a cgroup that still holds a process stays and is reported), then the shared
/// `/runtime-cli-test` parents if they became empty. Returns the cgroups that could not go.
pub fn remove_cgroups(tag: &str) -> Vec<PathBuf> {
    let mut left = Vec::new();
    for h in hierarchies() {
        let top = h.join(CGROUP_TOP.trim_start_matches('/'));
        let mine = top.join(tag);
        if mine.is_dir() {
            rmdir_tree(&mine, &mut left);
        }
        let _ = fs::remove_dir(&top);
    }
    left
}

fn rmdir_tree(d: &Path, left: &mut Vec<PathBuf>) {
    if let Ok(rd) = fs::read_dir(d) {
        for e in rd.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                rmdir_tree(&e.path(), left);
            }
        }
    }
    if fs::remove_dir(d).is_err() {
        left.push(d.to_path_buf());
    }
}

/// Remove the work directory (state roots, bundles, rootfs). Container mounts live in the
/// containers' own mount namespaces, so nothing is mounted here.
pub fn remove_work(dir: &Path) -> Result<()> {
    fs::remove_dir_all(dir).map_err(|e| format!("removing {}: {e}", dir.display()))?;
    let _ = fs::remove_dir(WORK_BASE);
    Ok(())
}

/// Work directories of earlier bench runs whose process is gone (killed before cleaning up).
pub fn stale_runs() -> Vec<String> {
    let Ok(rd) = fs::read_dir(WORK_BASE) else { return vec![] };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .filter(|n| {
            n.strip_prefix("bench-")
                .and_then(|p| p.parse::<u32>().ok())
                .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
        })
        .collect()
}
