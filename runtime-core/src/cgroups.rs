//! Cgroup placement: find the mounted hierarchies (v1 controllers, named v1 hierarchies and
//! the cgroup2 mount, hybrid hosts included), create the container's cgroup in each, move the
//! init there before it runs anything, and remove it on delete. Resource limits cover the
//! common cgroup v1 files for now; the full set (and v2 conversion) is tracked separately.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use nix::unistd::Pid;
use oci_spec::runtime::LinuxResources;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One mounted cgroup hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    /// Where it is mounted, e.g. `/sys/fs/cgroup/memory`.
    pub mountpoint: PathBuf,
    /// Controller names (`memory`, `cpu`...) or `name=systemd`; empty for cgroup2.
    pub controllers: Vec<String>,
    /// True for the cgroup2 (unified) hierarchy.
    pub v2: bool,
}

impl Hierarchy {
    pub fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }
}

/// Parse `/proc/self/mountinfo` text into the cgroup hierarchies it mounts (first mount of
/// each hierarchy wins, as bind mounts of subtrees may follow).
pub fn parse_mountinfo(text: &str) -> Vec<Hierarchy> {
    let mut out: Vec<Hierarchy> = Vec::new();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let l: Vec<&str> = left.split(' ').collect();
        let r: Vec<&str> = right.split(' ').collect();
        if l.len() < 5 || r.len() < 3 || l[3] != "/" {
            continue;
        }
        let mountpoint = PathBuf::from(unescape(l[4]));
        let h = match r[0] {
            "cgroup2" => Hierarchy {
                mountpoint,
                controllers: vec![],
                v2: true,
            },
            "cgroup" => {
                let controllers = r[2]
                    .split(',')
                    .filter(|o| {
                        !matches!(*o, "rw" | "ro")
                            && !o.starts_with("release_agent")
                            && *o != "clone_children"
                            && *o != "noprefix"
                            && *o != "xattr"
                            && *o != "cpuset_v2_mode"
                            && *o != "nsdelegate"
                            && *o != "favordynmods"
                    })
                    .map(str::to_string)
                    .collect();
                Hierarchy {
                    mountpoint,
                    controllers,
                    v2: false,
                }
            }
            _ => continue,
        };
        if !out.iter().any(|o| o.controllers == h.controllers && o.v2 == h.v2) {
            out.push(h);
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// Parse `/proc/<pid>/cgroup` into (controllers, path) pairs; the v2 entry has no controllers.
pub fn parse_proc_cgroup(text: &str) -> Vec<(Vec<String>, String)> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let _id = it.next()?;
            let ctrls = it.next()?;
            let path = it.next()?;
            let c = if ctrls.is_empty() {
                vec![]
            } else {
                ctrls.split(',').map(str::to_string).collect()
            };
            Some((c, path.to_string()))
        })
        .collect()
}

/// Resolve `linux.cgroupsPath` for one hierarchy, runc's cgroupfs rules: an absolute path is
/// taken from the hierarchy's root; a relative or empty one (empty means the container id) is
/// joined to the caller's own cgroup in that hierarchy.
pub fn resolve(cgroups_path: &str, id: &str, own: &str) -> PathBuf {
    let p = if cgroups_path.is_empty() { id } else { cgroups_path };
    let joined = if p.starts_with('/') {
        PathBuf::from(p)
    } else {
        Path::new(own).join(p)
    };
    crate::spec::clean(&joined)
}

/// The cgroup a container lives in: one directory per hierarchy.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CgroupSet {
    /// Full paths of the container's cgroup in each hierarchy.
    pub dirs: Vec<PathBuf>,
    /// Directories this runtime created (deepest first), removed on delete.
    pub created: Vec<PathBuf>,
}

/// The host's cgroup hierarchies.
pub fn hierarchies() -> Result<Vec<Hierarchy>> {
    let text =
        fs::read_to_string("/proc/self/mountinfo").map_err(|e| Error::io("reading", "/proc/self/mountinfo", e))?;
    Ok(parse_mountinfo(&text))
}

/// Work out the container's cgroup directories (nothing is created yet).
pub fn plan(cgroups_path: &str, id: &str) -> Result<(Vec<Hierarchy>, Vec<PathBuf>)> {
    let hs = hierarchies()?;
    let needs_own = !cgroups_path.starts_with('/');
    let own = if needs_own {
        let t = fs::read_to_string("/proc/self/cgroup").map_err(|e| Error::io("reading", "/proc/self/cgroup", e))?;
        parse_proc_cgroup(&t)
    } else {
        vec![]
    };
    let mut dirs = Vec::with_capacity(hs.len());
    for h in &hs {
        let own_path = own
            .iter()
            .find(|(c, _)| {
                if h.v2 {
                    c.is_empty()
                } else {
                    !c.is_empty() && c.iter().all(|x| h.has(x))
                }
            })
            .map(|(_, p)| p.as_str())
            .unwrap_or("/");
        let rel = resolve(cgroups_path, id, own_path);
        dirs.push(h.mountpoint.join(rel.strip_prefix("/").unwrap_or(&rel)));
    }
    Ok((hs, dirs))
}

/// Create the directories (copying cpuset.cpus/mems into new cpuset levels, which start
/// empty), refusing a pre-existing cgroup that already has processes in it.
pub fn create(hs: &[Hierarchy], dirs: &[PathBuf]) -> Result<CgroupSet> {
    let mut set = CgroupSet {
        dirs: dirs.to_vec(),
        created: vec![],
    };
    for (h, dir) in hs.iter().zip(dirs) {
        if dir.is_dir() {
            let procs = dir.join("cgroup.procs");
            if fs::read_to_string(&procs)
                .map(|s| !s.trim().is_empty())
                .unwrap_or(false)
            {
                let _ = remove(&set);
                return Err(Error::InvalidArgument(format!(
                    "cgroup {} already has processes in it",
                    dir.display()
                )));
            }
            continue;
        }
        let mut missing = vec![];
        let mut p = dir.as_path();
        while !p.exists() && p != h.mountpoint {
            missing.push(p.to_path_buf());
            match p.parent() {
                Some(q) => p = q,
                None => break,
            }
        }
        for m in missing.iter().rev() {
            if let Err(e) = fs::create_dir(m) {
                if e.kind() != std::io::ErrorKind::AlreadyExists {
                    let _ = remove(&set);
                    return Err(Error::io("creating cgroup", m, e));
                }
                continue;
            }
            set.created.insert(0, m.clone());
        }
        if h.has("cpuset") {
            fill_cpuset(&h.mountpoint, dir);
        }
    }
    Ok(set)
}

/// A new cpuset cgroup starts with empty `cpuset.cpus`/`cpuset.mems`, and no task can join
/// it until they are set. Fill every empty level from the mount point down to `dir` from
/// its parent: a level made by another runtime process a moment ago may still be empty.
fn fill_cpuset(mountpoint: &Path, dir: &Path) {
    let Ok(rel) = dir.strip_prefix(mountpoint) else { return };
    let mut cur = mountpoint.to_path_buf();
    for c in rel.components() {
        let parent = cur.clone();
        cur.push(c);
        for f in ["cpuset.cpus", "cpuset.mems"] {
            let mine = fs::read_to_string(cur.join(f)).unwrap_or_default();
            if mine.trim().is_empty() {
                if let Ok(v) = fs::read_to_string(parent.join(f)) {
                    let _ = fs::write(cur.join(f), v.trim());
                }
            }
        }
    }
}

/// Move `pid` into every directory of the set.
pub fn join(set: &CgroupSet, pid: Pid) -> Result<()> {
    let s = pid.as_raw().to_string();
    for d in &set.dirs {
        let f = d.join("cgroup.procs");
        fs::OpenOptions::new()
            .write(true)
            .open(&f)
            .and_then(|mut fh| fh.write_all(s.as_bytes()))
            .map_err(|e| Error::io("adding the init to cgroup", &f, e))?;
    }
    Ok(())
}

/// The pids in the container's cgroup (from the first hierarchy that has the directory).
pub fn pids(set: &CgroupSet) -> Vec<Pid> {
    for d in &set.dirs {
        if let Ok(t) = fs::read_to_string(d.join("cgroup.procs")) {
            return t
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .map(Pid::from_raw)
                .collect();
        }
    }
    vec![]
}

/// Send `sig` to every process in the cgroup; returns how many were signalled.
pub fn signal_all(set: &CgroupSet, sig: nix::sys::signal::Signal) -> usize {
    let mut n = 0;
    for p in pids(set) {
        if nix::sys::signal::kill(p, sig).is_ok() {
            n += 1;
        }
    }
    n
}

/// Remove the directories this runtime created, deepest first, retrying briefly while the
/// kernel still counts exiting tasks (EBUSY). A parent that still holds other cgroups (a
/// prefix shared with other containers) is left in place.
pub fn remove(set: &CgroupSet) -> Result<()> {
    for d in &set.created {
        let mut tries = 0;
        loop {
            match fs::remove_dir(d) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                    if has_child_cgroups(d) {
                        break;
                    }
                    if tries >= 200 {
                        return Err(Error::io("removing cgroup", d, e));
                    }
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(e) => return Err(Error::io("removing cgroup", d, e)),
            }
        }
    }
    Ok(())
}

fn has_child_cgroups(d: &Path) -> bool {
    fs::read_dir(d)
        .map(|rd| rd.flatten().any(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false)))
        .unwrap_or(false)
}

/// runc's default device allow-list (`m` for all, the standard character devices, ptys, tun).
pub const DEFAULT_ALLOWED_DEVICES: &[&str] = &[
    "c *:* m",
    "b *:* m",
    "c 1:3 rwm",
    "c 1:8 rwm",
    "c 1:7 rwm",
    "c 5:0 rwm",
    "c 1:5 rwm",
    "c 1:9 rwm",
    "c 136:* rwm",
    "c 5:2 rwm",
    "c 10:200 rwm",
];

/// Which fields of `linux.resources` are implemented: returns the first one set that is not.
pub fn check_supported(r: &LinuxResources) -> std::result::Result<(), &'static str> {
    if r.block_io().as_ref().is_some_and(|b| *b != Default::default()) {
        return Err("blockIO");
    }
    if r.hugepage_limits().as_ref().is_some_and(|h| !h.is_empty()) {
        return Err("hugepageLimits");
    }
    if r.network().is_some() {
        return Err("network");
    }
    if r.rdma().as_ref().is_some_and(|h| !h.is_empty()) {
        return Err("rdma");
    }
    if r.unified().as_ref().is_some_and(|h| !h.is_empty()) {
        return Err("unified");
    }
    if let Some(m) = r.memory() {
        if m.kernel().is_some() || m.kernel_tcp().is_some() {
            return Err("memory.kernel");
        }
    }
    if let Some(c) = r.cpu() {
        if c.realtime_period().is_some() || c.realtime_runtime().is_some() {
            return Err("cpu.realtimePeriod");
        }
        if c.idle().is_some() || c.burst().is_some() {
            return Err("cpu.idle");
        }
    }
    Ok(())
}

fn write_file(dir: &Path, file: &str, value: &str) -> Result<()> {
    let p = dir.join(file);
    fs::write(&p, value).map_err(|e| Error::io("writing cgroup file", &p, e))
}

/// Apply the supported resource limits to the v1 hierarchies (device rules, memory, pids,
/// cpu, cpuset). On a cgroup2-only host, only what maps one to one is written.
pub fn apply(hs: &[Hierarchy], set: &CgroupSet, r: &LinuxResources, extra_devices: &[String]) -> Result<()> {
    let dir_of = |ctrl: &str| -> Option<&Path> {
        hs.iter()
            .zip(&set.dirs)
            .find(|(h, _)| h.has(ctrl))
            .map(|(_, d)| d.as_path())
    };
    let v2 = hs.iter().zip(&set.dirs).find(|(h, _)| h.v2).map(|(_, d)| d.as_path());
    let only_v2 = hs.iter().all(|h| h.v2);

    if let Some(devs) = r.devices() {
        if let Some(d) = dir_of("devices") {
            for rule in devs {
                let kind = rule.typ().map(|t| t.as_str().to_string()).unwrap_or_else(|| "a".into());
                let major = rule.major().map(|m| m.to_string()).unwrap_or_else(|| "*".into());
                let minor = rule.minor().map(|m| m.to_string()).unwrap_or_else(|| "*".into());
                let access = rule.access().clone().unwrap_or_else(|| "rwm".into());
                let line = if kind == "a" {
                    "a".to_string()
                } else {
                    format!("{kind} {major}:{minor} {access}")
                };
                let file = if rule.allow() { "devices.allow" } else { "devices.deny" };
                write_file(d, file, &line)?;
            }
            // runc appends its default allow-list after the configured rules, so that a
            // config that denies everything still has the standard devices.
            for line in DEFAULT_ALLOWED_DEVICES {
                write_file(d, "devices.allow", line)?;
            }
            for dev in extra_devices {
                write_file(d, "devices.allow", dev)?;
            }
        } else if only_v2 && devs.iter().any(|d| !d.allow() || d.typ().is_some()) {
            // Device rules on cgroup2 need an eBPF program: not yet implemented.
            return Err(Error::NotSupported("linux.resources.devices on cgroup v2".into()));
        }
    }
    if let Some(m) = r.memory() {
        if let Some(d) = dir_of("memory") {
            if let Some(l) = m.limit() {
                write_file(d, "memory.limit_in_bytes", &l.to_string())?;
            }
            if let Some(l) = m.reservation() {
                write_file(d, "memory.soft_limit_in_bytes", &l.to_string())?;
            }
            if let Some(l) = m.swap() {
                write_file(d, "memory.memsw.limit_in_bytes", &l.to_string())?;
            }
            if let Some(s) = m.swappiness() {
                write_file(d, "memory.swappiness", &s.to_string())?;
            }
            if m.disable_oom_killer() == Some(true) {
                write_file(d, "memory.oom_control", "1")?;
            }
        } else if let Some(d) = v2.filter(|_| only_v2) {
            if let Some(l) = m.limit() {
                write_file(d, "memory.max", &if l < 0 { "max".into() } else { l.to_string() })?;
            }
            if let Some(l) = m.reservation() {
                write_file(d, "memory.low", &if l < 0 { "max".into() } else { l.to_string() })?;
            }
        }
    }
    if let Some(p) = r.pids() {
        let v = if p.limit() <= 0 {
            "max".to_string()
        } else {
            p.limit().to_string()
        };
        if let Some(d) = dir_of("pids") {
            write_file(d, "pids.max", &v)?;
        } else if let Some(d) = v2.filter(|_| only_v2) {
            write_file(d, "pids.max", &v)?;
        }
    }
    if let Some(c) = r.cpu() {
        if let Some(d) = dir_of("cpu") {
            if let Some(s) = c.shares().filter(|s| *s > 0) {
                write_file(d, "cpu.shares", &s.to_string())?;
            }
            if let Some(p) = c.period().filter(|p| *p > 0) {
                write_file(d, "cpu.cfs_period_us", &p.to_string())?;
            }
            if let Some(q) = c.quota().filter(|q| *q != 0) {
                write_file(d, "cpu.cfs_quota_us", &q.to_string())?;
            }
        } else if let Some(d) = v2.filter(|_| only_v2) {
            if let Some(s) = c.shares().filter(|s| *s > 0) {
                // runc's conversion of shares [2, 262144] to weight [1, 10000].
                let w = 1 + ((s.clamp(2, 262144) - 2) * 9999) / 262142;
                write_file(d, "cpu.weight", &w.to_string())?;
            }
            if c.quota().is_some() || c.period().is_some() {
                let q = c
                    .quota()
                    .filter(|q| *q > 0)
                    .map(|q| q.to_string())
                    .unwrap_or_else(|| "max".into());
                write_file(d, "cpu.max", &format!("{q} {}", c.period().unwrap_or(100000)))?;
            }
        }
        let cs = dir_of("cpuset").or(v2.filter(|_| only_v2));
        if let Some(d) = cs {
            if let Some(cpus) = c.cpus().as_deref().filter(|s| !s.is_empty()) {
                write_file(d, "cpuset.cpus", cpus)?;
            }
            if let Some(mems) = c.mems().as_deref().filter(|s| !s.is_empty()) {
                write_file(d, "cpuset.mems", mems)?;
            }
        }
    }
    Ok(())
}

/// The directories among `dirs` that do not exist yet (deepest first): what `create` will
/// make and `delete` may remove.
pub fn missing(hs: &[Hierarchy], dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (h, dir) in hs.iter().zip(dirs) {
        let mut p = dir.as_path();
        let mut chain = vec![];
        while !p.exists() && p != h.mountpoint {
            chain.push(p.to_path_buf());
            match p.parent() {
                Some(q) => p = q,
                None => break,
            }
        }
        out.extend(chain);
    }
    out
}

/// Whether the container's cgroup is frozen (v1 freezer or v2 cgroup.freeze).
pub fn frozen(set: &CgroupSet) -> bool {
    // The v1 freezer hierarchy is normally mounted at `.../freezer`: try it first, so a
    // status check (every verb, and `list` once per container) opens one file instead of
    // failing on every hierarchy listed before it.
    let in_freezer = |d: &&PathBuf| d.components().any(|c| c.as_os_str() == "freezer");
    for d in set
        .dirs
        .iter()
        .filter(in_freezer)
        .chain(set.dirs.iter().filter(|d| !in_freezer(d)))
    {
        if let Ok(s) = fs::read_to_string(d.join("freezer.state")) {
            return s.trim() == "FROZEN";
        }
    }
    for d in &set.dirs {
        if let Ok(s) = fs::read_to_string(d.join("cgroup.freeze")) {
            if s.trim() == "1" {
                return true;
            }
        }
    }
    false
}

/// Thaw the container's cgroup if it is frozen (a frozen task does not die until thawed).
pub fn thaw(set: &CgroupSet) {
    for d in &set.dirs {
        let v1 = d.join("freezer.state");
        if v1.exists() {
            let _ = fs::write(&v1, "THAWED");
        }
        let v2 = d.join("cgroup.freeze");
        if v2.exists() {
            let _ = fs::write(&v2, "0");
        }
    }
}

/// Freeze the container's cgroup (v1 freezer if mounted, else v2 `cgroup.freeze`) and wait
/// until the kernel reports it frozen.
pub fn freeze(set: &CgroupSet) -> Result<()> {
    let v1 = set.dirs.iter().map(|d| d.join("freezer.state")).find(|p| p.exists());
    let (file, value, check, done): (PathBuf, &str, PathBuf, &str) = match v1 {
        Some(f) => (f.clone(), "FROZEN", f, "FROZEN"),
        None => {
            let d = set
                .dirs
                .iter()
                .find(|d| d.join("cgroup.freeze").exists())
                .ok_or_else(|| Error::NotSupported("pause: no freezer cgroup for this container".into()))?;
            (d.join("cgroup.freeze"), "1", d.join("cgroup.events"), "frozen 1")
        }
    };
    for _ in 0..1000 {
        fs::write(&file, value).map_err(|e| Error::io("writing", &file, e))?;
        let now = fs::read_to_string(&check).map_err(|e| Error::io("reading", &check, e))?;
        if now.lines().any(|l| l.trim() == done) {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    thaw(set);
    Err(Error::sys(
        format!("freezing {}", file.display()),
        nix::errno::Errno::EBUSY,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
32 30 0:28 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
35 30 0:31 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
36 30 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpu,cpuacct
99 35 0:31 /sub /mnt/x rw - cgroup cgroup rw,memory
";

    #[test]
    fn mountinfo_hybrid() {
        let hs = parse_mountinfo(MOUNTINFO);
        assert_eq!(hs.len(), 4);
        assert!(hs[0].v2 && hs[0].mountpoint == Path::new("/sys/fs/cgroup/unified"));
        assert_eq!(hs[1].controllers, vec!["name=systemd"]);
        assert!(hs[2].has("memory"));
        assert!(hs[3].has("cpu") && hs[3].has("cpuacct"));
    }

    #[test]
    fn proc_cgroup() {
        let v = parse_proc_cgroup("4:memory:/process_api/abc\n1:name=systemd:/\n0::/\n");
        assert_eq!(v[0], (vec!["memory".to_string()], "/process_api/abc".to_string()));
        assert_eq!(v[2], (vec![], "/".to_string()));
    }

    #[test]
    fn path_resolution() {
        assert_eq!(resolve("/a/b", "id", "/own"), Path::new("/a/b"));
        assert_eq!(resolve("a/b", "id", "/own"), Path::new("/own/a/b"));
        assert_eq!(resolve("", "id", "/own"), Path::new("/own/id"));
        assert_eq!(resolve("/../../x", "id", "/own"), Path::new("/x"));
        assert_eq!(resolve("../../x", "id", "/own/deep"), Path::new("/x"));
    }
}
