//! Cgroups, our own code over the cgroupfs files (v1, hybrid and v2, detected at run time).
//!
//! Placement (this file): find the mounted hierarchies (v1 controllers, named v1 hierarchies
//! and the cgroup2 mount), resolve `cgroupsPath` as runc does, create the container's cgroup
//! in each (on v2 enabling the controllers down the path), move the init there before it
//! runs anything, freeze/thaw, signal everything, and remove it on delete.
//! [`resources`] writes `linux.resources`, [`devices`] builds device rules (v1 lines and the
//! v2 eBPF program), [`stats`] reads usage in runc's `events` shape.
//!
//! Why not cgroups-rs: see the README's Status section (measured cost, and what it lacks:
//! the v2 device program, hybrid hugetlb, runc's path rules).

pub mod devices;
pub mod resources;
pub mod stats;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use nix::unistd::Pid;
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

/// `--systemd-cgroup`'s `slice:prefix:name` form, as runc expands it: the unit
/// `prefix-name.scope` below the slice (default `system.slice`), each dash of the slice name
/// a level (`a-b.slice` is `/a.slice/a-b.slice`). The path is only computed: without systemd
/// there is nothing to ask for the unit, and the caller reports that.
pub fn systemd_path(cgroups_path: &str, id: &str) -> std::result::Result<PathBuf, String> {
    let (slice, prefix, name) = if cgroups_path.is_empty() {
        ("", "runtime-cli", id)
    } else {
        let parts: Vec<&str> = cgroups_path.split(':').collect();
        if parts.len() != 3 {
            return Err(format!(
                "expected cgroupsPath to be of format \"slice:prefix:name\" for systemd cgroups, got {cgroups_path:?} instead"
            ));
        }
        (parts[0], parts[1], parts[2])
    };
    let slice = if slice.is_empty() { "system.slice" } else { slice };
    let base = slice
        .strip_suffix(".slice")
        .filter(|b| !b.is_empty() && !b.contains('/'))
        .ok_or_else(|| format!("invalid slice name {slice:?}"))?;
    let mut path = PathBuf::from("/");
    if slice != "-.slice" {
        if base.starts_with('-') || base.ends_with('-') || base.contains("--") {
            return Err(format!("invalid slice name {slice:?}"));
        }
        let mut acc = String::new();
        for part in base.split('-') {
            if !acc.is_empty() {
                acc.push('-');
            }
            acc.push_str(part);
            path.push(format!("{acc}.slice"));
        }
    }
    let unit = if name.ends_with(".slice") {
        name.to_string()
    } else if prefix.is_empty() {
        format!("{name}.scope")
    } else {
        format!("{prefix}-{name}.scope")
    };
    path.push(unit);
    Ok(path)
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
    let own = if cgroups_path.starts_with('/') {
        String::new()
    } else {
        fs::read_to_string("/proc/self/cgroup").map_err(|e| Error::io("reading", "/proc/self/cgroup", e))?
    };
    let dirs = dirs_for(&hs, &parse_proc_cgroup(&own), cgroups_path, id);
    Ok((hs, dirs))
}

/// The container's directory in each hierarchy, given the caller's own cgroups (the
/// `/proc/self/cgroup` entries) for relative and empty paths.
pub fn dirs_for(hs: &[Hierarchy], own: &[(Vec<String>, String)], cgroups_path: &str, id: &str) -> Vec<PathBuf> {
    hs.iter()
        .map(|h| {
            let rel = resolve(cgroups_path, id, own_path(h, own));
            h.mountpoint.join(rel.strip_prefix("/").unwrap_or(&rel))
        })
        .collect()
}

/// The caller's own directory in each hierarchy (from `/proc/self/cgroup`): what the `cgroup`
/// mount of a rootless container without a cgroup of its own shows, as with runc.
pub fn own_dirs(hs: &[Hierarchy]) -> Result<Vec<PathBuf>> {
    let text = fs::read_to_string("/proc/self/cgroup").map_err(|e| Error::io("reading", "/proc/self/cgroup", e))?;
    let own = parse_proc_cgroup(&text);
    Ok(hs
        .iter()
        .map(|h| h.mountpoint.join(own_path(h, &own).trim_start_matches('/')))
        .collect())
}

/// The caller's path in hierarchy `h` among its `/proc/self/cgroup` entries (`/` if none):
/// the v2 entry has no controllers, a v1 entry names the hierarchy's controllers.
fn own_path<'a>(h: &Hierarchy, own: &'a [(Vec<String>, String)]) -> &'a str {
    own.iter()
        .find(|(c, _)| {
            if h.v2 {
                c.is_empty()
            } else {
                !c.is_empty() && c.iter().all(|x| h.has(x))
            }
        })
        .map(|(_, p)| p.as_str())
        .unwrap_or("/")
}

/// Whether every directory can be created (or exists): the nearest existing ancestor of each
/// missing one is writable by us. False for an unprivileged user (or root of a user namespace)
/// without a delegated subtree.
pub fn creatable(hs: &[Hierarchy], dirs: &[PathBuf]) -> bool {
    hs.iter().zip(dirs).all(|(h, dir)| {
        let mut p = dir.as_path();
        if p.is_dir() {
            return true;
        }
        while !p.exists() && p != h.mountpoint {
            match p.parent() {
                Some(q) => p = q,
                None => break,
            }
        }
        nix::unistd::access(p, nix::unistd::AccessFlags::W_OK).is_ok()
    })
}

/// Create the directories (copying cpuset.cpus/mems into new cpuset levels, which start
/// empty), refusing a pre-existing cgroup that already has processes in it.
pub fn create(hs: &[Hierarchy], dirs: &[PathBuf]) -> Result<CgroupSet> {
    let pure_v2 = resources::Layout::new(hs, dirs).pure_v2;
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
        if h.v2 && pure_v2 {
            enable_controllers(&h.mountpoint, dir);
        }
        if h.has("cpuset") {
            fill_cpuset(&h.mountpoint, dir);
        }
    }
    Ok(set)
}

/// cgroup v2: a controller is usable in a cgroup only when every ancestor lists it in
/// `cgroup.subtree_control`. Enable what each level has, from the mount point down to the
/// container's parent, as runc does; a level that refuses (it has processes of its own, the
/// "no internal processes" rule) is left as it is, and a limit that needs a missing
/// controller then fails naming its file.
fn enable_controllers(mountpoint: &Path, dir: &Path) {
    let Ok(rel) = dir.strip_prefix(mountpoint) else { return };
    let mut cur = mountpoint.to_path_buf();
    let comps: Vec<_> = rel.components().collect();
    for (i, c) in comps.iter().enumerate() {
        let avail = fs::read_to_string(cur.join("cgroup.controllers")).unwrap_or_default();
        let want: Vec<String> = avail.split_whitespace().map(|c| format!("+{c}")).collect();
        let has_procs = i > 0 && fs::read_to_string(cur.join("cgroup.procs")).is_ok_and(|t| !t.trim().is_empty());
        // A level with processes of its own cannot delegate domain controllers (EBUSY), and
        // enabling only the threaded ones there (cpuset, pids) would make the new child an
        // invalid domain that nothing can join (EOPNOTSUPP): leave such a level alone.
        if !want.is_empty() && !has_procs {
            let ctl = cur.join("cgroup.subtree_control");
            if fs::write(&ctl, want.join(" ")).is_err() {
                for w in &want {
                    let _ = fs::write(&ctl, w);
                }
            }
        }
        if i + 1 == comps.len() {
            break;
        }
        cur.push(c);
    }
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

/// How a new child enters a cgroup set by itself, opened before the clone.
///
/// Writing a pid to `cgroup.procs` takes the kernel's global threadgroup lock for writing,
/// which waits for an RCU grace period: 6-25 ms on this project's test machine, most of a
/// `create`. Two ways in avoid it: on v1 a single-threaded child writes "0" to each
/// hierarchy's `tasks` file (moving only the calling thread, which is the whole process,
/// takes no global lock), and on v2 clone3 puts the child in the directory from birth
/// (`CLONE_INTO_CGROUP`). Processes the child then clones inherit its cgroups.
#[derive(Debug, Default)]
pub struct Entry {
    /// v1: each hierarchy's `tasks` file, opened for writing.
    pub tasks: Vec<(std::os::fd::OwnedFd, PathBuf)>,
    /// v2: the directory, for `CLONE_INTO_CGROUP`.
    pub into: Option<(std::os::fd::OwnedFd, PathBuf)>,
}

/// Open what a child needs to enter `set` by itself (see [`Entry`]).
pub fn entry(set: &CgroupSet) -> Result<Entry> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut e = Entry::default();
    for d in &set.dirs {
        let tasks = d.join("tasks");
        match fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(&tasks)
        {
            Ok(f) => e.tasks.push((f.into(), tasks)),
            // v2 has no `tasks` file.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && e.into.is_none() => {
                let f = fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
                    .open(d)
                    .map_err(|err| Error::io("opening cgroup", d, err))?;
                e.into = Some((f.into(), d.clone()));
            }
            Err(err) => return Err(Error::io("opening", tasks, err)),
        }
    }
    Ok(e)
}

impl Entry {
    /// The directory fd for clone3's `CLONE_INTO_CGROUP`, if there is a v2 directory.
    pub fn clone_into(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        use std::os::fd::AsFd;
        self.into.as_ref().map(|(f, _)| f.as_fd())
    }

    /// Child side: move the calling (single-threaded) process into every v1 hierarchy.
    /// Async-signal-safe: no allocation. On failure, the `tasks` file that refused.
    pub fn enter_v1(&self) -> std::result::Result<(), (nix::errno::Errno, &Path)> {
        for (f, p) in &self.tasks {
            loop {
                match nix::unistd::write(f, b"0") {
                    Ok(_) => break,
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => return Err((e, p)),
                }
            }
        }
        Ok(())
    }

    /// Parent side, when clone3 did not take `CLONE_INTO_CGROUP` (`into_used` false): move
    /// `pid` into the v2 directory through `cgroup.procs`.
    pub fn finish(&self, into_used: bool, pid: Pid) -> Result<()> {
        match &self.into {
            Some((_, d)) if !into_used => join_dirs(std::slice::from_ref(d), pid),
            _ => Ok(()),
        }
    }
}

/// Move `pid` into each of `dirs` through `cgroup.procs` (the slow way, see [`Entry`]).
fn join_dirs(dirs: &[PathBuf], pid: Pid) -> Result<()> {
    let s = pid.as_raw().to_string();
    for d in dirs {
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
    frozen_in(&set.dirs)
}

/// [`frozen`] from the cgroup directories alone.
pub fn frozen_in<P: AsRef<Path>>(dirs: &[P]) -> bool {
    // The v1 freezer hierarchy is normally mounted at `.../freezer`: try it first, so a
    // status check (every verb, and `list` once per container) opens one file instead of
    // failing on every hierarchy listed before it. A path component equal to `freezer`
    // (split on '/': the empty and `.` parts never match).
    let in_freezer = |d: &&P| {
        use std::os::unix::ffi::OsStrExt;
        d.as_ref()
            .as_os_str()
            .as_bytes()
            .split(|b| *b == b'/')
            .any(|c| c == b"freezer")
    };
    for d in dirs
        .iter()
        .filter(in_freezer)
        .chain(dirs.iter().filter(|d| !in_freezer(d)))
    {
        let mut buf = [0u8; 64];
        if let Some(s) = crate::state::read_pseudo(&d.as_ref().join("freezer.state"), &mut buf) {
            return s.trim_ascii() == b"FROZEN";
        }
    }
    for d in dirs {
        let mut buf = [0u8; 64];
        if let Some(s) = crate::state::read_pseudo(&d.as_ref().join("cgroup.freeze"), &mut buf) {
            if s.trim_ascii() == b"1" {
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
    fn systemd_paths() {
        assert_eq!(
            systemd_path("system.slice:docker:abc", "x").unwrap(),
            Path::new("/system.slice/docker-abc.scope")
        );
        assert_eq!(
            systemd_path("a-b-c.slice:p:n", "x").unwrap(),
            Path::new("/a.slice/a-b.slice/a-b-c.slice/p-n.scope")
        );
        assert_eq!(systemd_path(":p:n", "x").unwrap(), Path::new("/system.slice/p-n.scope"));
        assert_eq!(
            systemd_path("", "id").unwrap(),
            Path::new("/system.slice/runtime-cli-id.scope")
        );
        assert!(systemd_path("/abs/path", "x").is_err());
        assert!(systemd_path("bad:p:n", "x").is_err());
        assert!(systemd_path("a--b.slice:p:n", "x").is_err());
    }

    #[test]
    fn path_resolution() {
        assert_eq!(resolve("/a/b", "id", "/own"), Path::new("/a/b"));
        assert_eq!(resolve("a/b", "id", "/own"), Path::new("/own/a/b"));
        assert_eq!(resolve("", "id", "/own"), Path::new("/own/id"));
        assert_eq!(resolve("/../../x", "id", "/own"), Path::new("/x"));
        assert_eq!(resolve("../../x", "id", "/own/deep"), Path::new("/x"));
        let hs = parse_mountinfo(MOUNTINFO);
        let own =
            parse_proc_cgroup("5:memory:/process_api/m\n4:cpu,cpuacct:/process_api/c\n1:name=systemd:/s\n0::/u\n");
        let d = dirs_for(&hs, &own, "", "ctr");
        assert_eq!(d[0], Path::new("/sys/fs/cgroup/unified/u/ctr"));
        assert_eq!(d[1], Path::new("/sys/fs/cgroup/systemd/s/ctr"));
        assert_eq!(d[2], Path::new("/sys/fs/cgroup/memory/process_api/m/ctr"));
        assert_eq!(d[3], Path::new("/sys/fs/cgroup/cpu,cpuacct/process_api/c/ctr"));
        let d = dirs_for(&hs, &own, "rel/x", "ctr");
        assert_eq!(d[2], Path::new("/sys/fs/cgroup/memory/process_api/m/rel/x"));
        let d = dirs_for(&hs, &own, "/abs/x", "ctr");
        assert_eq!(d[3], Path::new("/sys/fs/cgroup/cpu,cpuacct/abs/x"));
    }
}
