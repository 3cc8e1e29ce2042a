//! The state directory: one sub-directory per container under the state root holding
//! `state.json` (written atomically: temp file, rename) and `exec.fifo` (the
//! create → start handshake, present exactly while the container is `created`).
//!
//! Writers serialize on an exclusive `flock` of the container's directory; readers (`state`,
//! `list`) take no lock and rely on the atomic rename. A new container directory is prepared
//! under a temporary name and renamed into place with `RENAME_NOREPLACE`, so a duplicate id
//! fails before anything is touched and no half-made directory is ever visible under the id.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg, OFlag};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::cgroups::CgroupSet;
use crate::error::{Error, Result};

pub const STATE_FILE: &str = "state.json";
pub const EXEC_FIFO: &str = "exec.fifo";
/// A hard link to the first `state.json` (written before anything of the container exists,
/// naming its cgroups). Later writes replace `state.json` by rename and leave this one alone,
/// so `delete --force` can still find what to clean when `state.json` was damaged by hand.
pub const RECOVERY_FILE: &str = ".recovery.json";
const TMP_PREFIX: &str = "~creating.";

/// How far `create` got; a container in `Creating` is invisible to `state` and `list` but
/// `delete --force` still cleans it up.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Creating,
    Created,
}

/// What is persisted about a container, everything later verbs need.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StateFile {
    pub oci_version: String,
    pub id: String,
    pub phase: Phase,
    /// Host pid of the init; 0 until spawned.
    pub pid: i32,
    /// Start time of the init (field 22 of /proc/<pid>/stat), to detect pid reuse.
    pub pid_start_time: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    /// RFC 3339 with nanoseconds, UTC.
    pub created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<HashMap<String, String>>,
    #[serde(default)]
    pub cgroup: CgroupSet,
    /// Whether the container has its own pid namespace (decides kill/delete semantics).
    pub private_pid_ns: bool,
    /// The init names itself [`INIT_WAITING_COMM`] while it waits for `start`, so a status
    /// check can tell a running container without opening the FIFO. Absent (false) in the
    /// state of a container made by an older runtime-cli, whose waiting init keeps the
    /// runtime's name: then the FIFO is always checked.
    #[serde(default)]
    pub init_named: bool,
    /// The hooks that run after `create` (poststart by `start`, poststop by `delete`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<oci_spec::runtime::Hooks>,
    /// The container's seccomp profile, applied to `exec`'d processes too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp: Option<oci_spec::runtime::LinuxSeccomp>,
    /// The container's `linux.resources` as last applied (by `create` or `update`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<oci_spec::runtime::LinuxResources>,
}

/// The container status as the runtime spec defines it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state object printed by `state` and `list --format json`, fields in runc's order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContainerState {
    pub oci_version: String,
    pub id: String,
    pub pid: i32,
    pub status: Status,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<HashMap<String, String>>,
    pub owner: String,
}

/// A container directory held with the writer lock. Dropping it releases the lock.
#[derive(Debug)]
pub struct Locked {
    pub dir: PathBuf,
    _lock: Flock<File>,
}

impl Locked {
    /// The descriptor that holds the lock (a forked child must close its copy).
    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self._lock.as_raw_fd()
    }
}

/// The state root.
#[derive(Debug, Clone)]
pub struct Root {
    path: PathBuf,
}

impl Root {
    pub fn new(path: PathBuf) -> Self {
        Root { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn dir(&self, id: &str) -> PathBuf {
        self.path.join(id)
    }

    /// Create the root (0700) if needed.
    pub fn ensure(&self) -> Result<()> {
        match fs::DirBuilder::new().recursive(true).mode(0o700).create(&self.path) {
            Ok(()) => Ok(()),
            Err(e) => Err(Error::io("creating state root", &self.path, e)),
        }
    }

    /// Reserve `id`: build its directory under a temporary name with the initial state,
    /// lock it, and rename it into place atomically. Fails with `AlreadyExists` if the id is
    /// taken, leaving the existing container untouched.
    pub fn reserve(&self, initial: &StateFile) -> Result<Locked> {
        self.ensure()?;
        let tmp = self
            .path
            .join(format!("{TMP_PREFIX}{}.{}", std::process::id(), unique()));
        fs::DirBuilder::new()
            .mode(0o711)
            .create(&tmp)
            .map_err(|e| Error::io("creating state directory", &tmp, e))?;
        let cleanup = |e: Error| {
            let _ = fs::remove_dir_all(&tmp);
            e
        };
        let lock = lock_dir(&tmp).map_err(cleanup)?;
        write_state(&tmp, initial).map_err(cleanup)?;
        fs::hard_link(tmp.join(STATE_FILE), tmp.join(RECOVERY_FILE))
            .map_err(|e| cleanup(Error::io("linking", &tmp, e)))?;
        crate::testpoint::hit("state:reserve-tmp");
        let dest = self.dir(&initial.id);
        match nix::fcntl::renameat2(
            nix::fcntl::AT_FDCWD,
            &tmp,
            nix::fcntl::AT_FDCWD,
            &dest,
            nix::fcntl::RenameFlags::RENAME_NOREPLACE,
        ) {
            Ok(()) => Ok(Locked { dir: dest, _lock: lock }),
            Err(nix::errno::Errno::EEXIST) => Err(cleanup(Error::AlreadyExists(initial.id.clone()))),
            Err(e) => Err(cleanup(Error::sys(
                format!("renaming {} to {}", tmp.display(), dest.display()),
                e,
            ))),
        }
    }

    /// Take the writer lock of an existing container directory. `Ok(None)` if there is none.
    pub fn lock(&self, id: &str) -> Result<Option<Locked>> {
        let dir = self.dir(id);
        loop {
            let lock = match lock_dir(&dir) {
                Ok(l) => l,
                Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            };
            // The directory may have been deleted (and maybe re-created) while we waited.
            let held = lock.metadata().map_err(|e| Error::io("checking", &dir, e))?;
            match fs::metadata(&dir) {
                Ok(m) if m.ino() == held.ino() && m.dev() == held.dev() => {
                    return Ok(Some(Locked { dir, _lock: lock }))
                }
                Ok(_) => continue,
                Err(_) => return Ok(None),
            }
        }
    }

    /// Read a container's state file without locking.
    pub fn load(&self, id: &str) -> Result<StateFile> {
        read_state(&self.dir(id), id)
    }

    /// Ids of every entry in the root (temporary entries excluded, stale ones removed).
    pub fn ids(&self) -> Result<Vec<String>> {
        let rd = match fs::read_dir(&self.path) {
            Ok(rd) => rd,
            Err(e) => return Err(Error::io("reading state root", &self.path, e)),
        };
        let mut ids = Vec::new();
        for ent in rd.flatten() {
            let name = ent.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(rest) = name.strip_prefix(TMP_PREFIX) {
                remove_stale_tmp(&ent.path(), rest);
                continue;
            }
            if ent.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                ids.push(name.to_string());
            }
        }
        ids.sort();
        Ok(ids)
    }
}

impl Root {
    /// Remove the temporary directories of `create` processes that died before renaming
    /// theirs into place (a crash leaves them under a name no id can reach).
    pub fn sweep_stale(&self) {
        let Ok(rd) = fs::read_dir(&self.path) else { return };
        for ent in rd.flatten() {
            if let Some(rest) = ent.file_name().to_str().and_then(|n| n.strip_prefix(TMP_PREFIX)) {
                remove_stale_tmp(&ent.path(), rest);
            }
        }
    }
}

/// A temporary directory whose creator process is gone is a leftover of a crashed `create`.
fn remove_stale_tmp(path: &Path, rest: &str) {
    let pid: i32 = rest.split('.').next().and_then(|p| p.parse().ok()).unwrap_or(0);
    if pid > 0 && !Path::new(&format!("/proc/{pid}")).exists() {
        let _ = fs::remove_dir_all(path);
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ N.fetch_add(1, Ordering::Relaxed).rotate_left(48)
}

fn lock_dir(dir: &Path) -> Result<Flock<File>> {
    let f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(dir)
        .map_err(|e| Error::io("opening state directory", dir, e))?;
    Flock::lock(f, FlockArg::LockExclusive).map_err(|(_, e)| Error::sys(format!("locking {}", dir.display()), e))
}

/// Write `state.json` atomically in `dir`. Not fsync'd (neither runc nor crun does): the
/// state describes live processes and means nothing after a crash of the machine, the
/// rename alone makes it atomic for every reader, and on a disk-backed state root an
/// fdatasync cost up to tens of milliseconds per write on a busy machine.
pub fn write_state(dir: &Path, st: &StateFile) -> Result<()> {
    let tmp = dir.join(".state.json.tmp");
    let target = dir.join(STATE_FILE);
    let bytes = serde_json::to_vec(st).map_err(|e| Error::State {
        id: st.id.clone(),
        msg: e.to_string(),
    })?;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(&tmp)
        .map_err(|e| Error::io("writing", &tmp, e))?;
    f.write_all(&bytes).map_err(|e| Error::io("writing", &tmp, e))?;
    crate::testpoint::hit("state:write-tmp");
    fs::rename(&tmp, &target).map_err(|e| Error::io("renaming", &target, e))
}

/// Read `state.json` of `dir`.
pub fn read_state(dir: &Path, id: &str) -> Result<StateFile> {
    let p = dir.join(STATE_FILE);
    let bytes = match fs::read(&p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Error::NotExist(id.to_string())),
        Err(e) => return Err(Error::io("reading", &p, e)),
    };
    serde_json::from_slice(&bytes).map_err(|e| Error::State {
        id: id.to_string(),
        msg: format!("{}: {e}", p.display()),
    })
}

/// The recovery copy of a container's first state (see [`RECOVERY_FILE`]).
pub fn read_recovery(dir: &Path, id: &str) -> Result<StateFile> {
    let p = dir.join(RECOVERY_FILE);
    let bytes = fs::read(&p).map_err(|e| Error::io("reading", &p, e))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::State {
        id: id.to_string(),
        msg: format!("{}: {e}", p.display()),
    })
}

/// The part of `state.json` that `list` needs: the big optional fields (`hooks`, `seccomp`,
/// `resources`) are skipped by the parser without being built.
#[derive(Debug, Deserialize)]
pub struct StateSummary<'a> {
    pub oci_version: String,
    pub id: String,
    pub phase: Phase,
    pub pid: i32,
    pub pid_start_time: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    #[serde(default)]
    pub annotations: Option<HashMap<String, String>>,
    #[serde(default, borrow)]
    pub cgroup: SummaryCgroup<'a>,
    #[serde(default)]
    pub init_named: bool,
}

/// The cgroup directories of a [`StateSummary`], borrowed from the read buffer when they
/// hold no escapes (the status check only reads files under them).
#[derive(Debug, Default, Deserialize)]
pub struct SummaryCgroup<'a> {
    #[serde(default, borrow)]
    pub dirs: Vec<CgroupDir<'a>>,
}

/// One cgroup directory of a [`SummaryCgroup`].
#[derive(Debug, Deserialize)]
pub struct CgroupDir<'a>(#[serde(borrow)] pub std::borrow::Cow<'a, str>);

impl AsRef<Path> for CgroupDir<'_> {
    fn as_ref(&self) -> &Path {
        Path::new(&*self.0)
    }
}

/// The directories `list` resolves every entry against, each opened once: the state root
/// and `/proc`. Each container then costs short lookups relative to them (`<id>/state.json`,
/// `<pid>/stat`, `<id>/exec.fifo`) instead of walks of whole paths.
#[derive(Debug)]
pub struct ListDirs {
    root: OwnedFd,
    root_path: PathBuf,
    proc_dir: Option<OwnedFd>,
}

impl ListDirs {
    /// Open `root` (the state root) and `/proc`; `None` if there is no state root yet. A
    /// missing `/proc` is not an error here: every process then looks dead, as it does to
    /// [`pid_alive`].
    pub fn open(root: &Path) -> Result<Option<ListDirs>> {
        let dir = |p: &Path| {
            nix::fcntl::open(
                p,
                OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                nix::sys::stat::Mode::empty(),
            )
        };
        let root_fd = match dir(root) {
            Ok(fd) => fd,
            Err(nix::errno::Errno::ENOENT) => return Ok(None),
            Err(e) => return Err(Error::io("opening state root", root, e.into())),
        };
        Ok(Some(ListDirs {
            root: root_fd,
            root_path: root.to_path_buf(),
            proc_dir: dir(Path::new("/proc")).ok(),
        }))
    }

    /// Read `<id>/state.json` as a [`StateSummary`] borrowing from `buf` (reused from call to
    /// call; it only grows), with the uid that owns the file. One `fstat` of the open file
    /// gives both the owner and the size, so the file is read without a final empty read
    /// (state files are replaced by rename, never written in place).
    pub fn read_summary<'a>(&self, id: &str, buf: &'a mut Vec<u8>) -> Result<(StateSummary<'a>, u32)> {
        let path = || self.root_path.join(id).join(STATE_FILE);
        let rel = format!("{id}/{STATE_FILE}");
        let f = match nix::fcntl::openat(
            self.root.as_fd(),
            rel.as_str(),
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        ) {
            Ok(f) => f,
            Err(nix::errno::Errno::ENOENT) => return Err(Error::NotExist(id.to_string())),
            Err(e) => return Err(Error::io("reading", path(), e.into())),
        };
        let st = nix::sys::stat::fstat(&f).map_err(|e| Error::io("reading", path(), e.into()))?;
        let size = usize::try_from(st.st_size).unwrap_or(0);
        // `buf` stays initialized to its full length (no zeroing per file); `len` is the
        // content. One spare byte, so that a file longer than its size is still read whole.
        if buf.len() < size + 1 {
            buf.resize((size + 1).max(8192), 0);
        }
        let mut len = 0;
        loop {
            if len == buf.len() {
                buf.resize(buf.len() * 2, 0);
            }
            match nix::unistd::read(&f, &mut buf[len..]) {
                Ok(0) => break,
                Ok(n) => {
                    len += n;
                    if len == size {
                        break;
                    }
                }
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(Error::io("reading", path(), e.into())),
            }
        }
        let summary = serde_json::from_slice(&buf[..len]).map_err(|e| Error::State {
            id: id.to_string(),
            msg: format!("{}: {e}", path().display()),
        })?;
        Ok((summary, st.st_uid))
    }

    /// [`init_liveness`], looking the process up relative to the open `/proc`.
    pub fn init_liveness(&self, pid: i32, start_time: u64) -> Option<bool> {
        liveness_at(self.proc_dir.as_ref()?.as_fd(), "", pid, start_time)
    }

    /// Open `<id>/<name>` of the state root for writing without blocking (the exec FIFO
    /// check: see `init_waits_on_fifo`).
    pub fn open_fifo_nonblocking(&self, id: &str, name: &str) -> nix::Result<OwnedFd> {
        nix::fcntl::openat(
            self.root.as_fd(),
            format!("{id}/{name}").as_str(),
            OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
    }
}

/// Read a small pseudo-file (procfs, cgroupfs) into `buf` with one `read` (these files
/// hand their whole content to the first read when the buffer is large enough); `None` if it
/// cannot be opened or read, or does not fit.
pub fn read_pseudo<'a>(path: &Path, buf: &'a mut [u8]) -> Option<&'a [u8]> {
    read_pseudo_at(nix::fcntl::AT_FDCWD, path, buf)
}

/// [`read_pseudo`] of `path` relative to the directory `dir`.
pub fn read_pseudo_at<'a>(dir: BorrowedFd<'_>, path: &Path, buf: &'a mut [u8]) -> Option<&'a [u8]> {
    let f = nix::fcntl::openat(
        dir,
        path,
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .ok()?;
    let n = loop {
        match nix::unistd::read(&f, buf) {
            Ok(n) => break n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return None,
        }
    };
    (n < buf.len()).then(|| &buf[..n])
}

/// Start time (clock ticks since boot) and whether the process is a zombie, from
/// `/proc/<pid>/stat`; `None` if there is no such process.
pub fn proc_start_time(pid: Pid) -> Option<(u64, bool)> {
    let mut buf = [0u8; 1024];
    parse_stat(read_stat_at(nix::fcntl::AT_FDCWD, "/proc/", pid.as_raw(), &mut buf)?)
}

/// The text of `<prefix><pid>/stat` relative to `dir` (`prefix` is `/proc/` with the
/// current directory, or empty relative to an open `/proc`), without allocating.
fn read_stat_at<'b>(dir: BorrowedFd<'_>, prefix: &str, pid: i32, buf: &'b mut [u8; 1024]) -> Option<&'b str> {
    use std::os::unix::ffi::OsStrExt;
    let mut path = [0u8; 32];
    let mut w = &mut path[..];
    let _ = write!(w, "{prefix}{pid}/stat");
    let n = 32 - w.len();
    let path = Path::new(std::ffi::OsStr::from_bytes(&path[..n]));
    std::str::from_utf8(read_pseudo_at(dir, path, buf)?).ok()
}

/// Parse the fields we need out of `/proc/<pid>/stat` text (the command may hold spaces and
/// parentheses, so split after the last `)`).
pub fn parse_stat(s: &str) -> Option<(u64, bool)> {
    let rest = &s[s.rfind(')')? + 1..];
    let mut f = rest.split_whitespace();
    // The first field is field 3 (state); starttime is field 22, 19 further on.
    let zombie = matches!(f.next(), Some("Z") | Some("X"));
    Some((f.nth(18)?.parse().ok()?, zombie))
}

/// The name (`comm`) the init gives itself when it is ready and waits for `start`. The exec
/// of the program replaces it, so an init whose name differs has certainly left the wait;
/// one with this name is checked on the FIFO (a program could take the same name).
pub const INIT_WAITING_COMM: &std::ffi::CStr = c"rcli:[INIT]";

/// The `comm` field of `/proc/<pid>/stat` text: between the first `(` and the last `)`.
pub fn stat_comm(s: &str) -> Option<&[u8]> {
    Some(&s.as_bytes()[s.find('(')? + 1..s.rfind(')')?])
}

/// Whether `pid` is a live (not zombie) process that started at `start_time` (`None` if
/// not), and if so whether it may still wait for `start`: its name is [`INIT_WAITING_COMM`].
/// `Some(false)` is certain: the process has exec'd since it was ready.
pub fn init_liveness(pid: i32, start_time: u64) -> Option<bool> {
    liveness_at(nix::fcntl::AT_FDCWD, "/proc/", pid, start_time)
}

/// [`init_liveness`] with `<prefix><pid>/stat` looked up relative to `dir`.
fn liveness_at(dir: BorrowedFd<'_>, prefix: &str, pid: i32, start_time: u64) -> Option<bool> {
    if pid <= 0 {
        return None;
    }
    let mut buf = [0u8; 1024];
    let s = read_stat_at(dir, prefix, pid, &mut buf)?;
    let (t, zombie) = parse_stat(s)?;
    (t == start_time && !zombie).then(|| stat_comm(s) == Some(INIT_WAITING_COMM.to_bytes()))
}

/// Whether the recorded init is still the same live process.
pub fn init_alive(st: &StateFile) -> bool {
    pid_alive(st.pid, st.pid_start_time)
}

/// Whether `pid` is a live (not zombie) process that started at `start_time`.
pub fn pid_alive(pid: i32, start_time: u64) -> bool {
    init_liveness(pid, start_time).is_some()
}

/// Current time as RFC 3339 with nanoseconds in UTC, e.g. `2026-08-22T17:21:51.123456789Z`.
pub fn now_rfc3339() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(d.as_secs() as i64, d.subsec_nanos())
}

/// Format a Unix time as RFC 3339 (UTC, nanoseconds).
pub fn rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86400);
    let sod = secs.rem_euclid(86400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// The user name of `uid` from /etc/passwd, or `#uid`.
pub fn owner_name(uid: u32) -> String {
    if let Ok(t) = fs::read_to_string("/etc/passwd") {
        for l in t.lines() {
            let mut f = l.split(':');
            let (Some(name), _, Some(u)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            if u.parse() == Ok(uid) {
                return name.to_string();
            }
        }
    }
    format!("#{uid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339(951782400, 5), "2000-02-29T00:00:00.000000005Z");
        assert_eq!(rfc3339(1787419311, 123456789), "2026-08-22T17:21:51.123456789Z");
        assert_eq!(rfc3339(4102444799, 0), "2099-12-31T23:59:59.000000000Z");
    }

    #[test]
    fn stat_parsing() {
        let s = "123 (a) b) c) S 1 123 123 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 98765 1000 10";
        assert_eq!(parse_stat(s), Some((98765, false)));
        let z = "1 (x) Z 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 42 0 0";
        assert_eq!(parse_stat(z), Some((42, true)));
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S 1"), None);
        assert_eq!(stat_comm(s), Some(&b"a) b) c"[..]));
        assert_eq!(stat_comm("9 (rcli:[INIT]) S 1"), Some(INIT_WAITING_COMM.to_bytes()));
        assert_eq!(stat_comm("garbage"), None);
    }

    fn sample(id: &str) -> StateFile {
        StateFile {
            oci_version: "1.0.2".into(),
            id: id.into(),
            phase: Phase::Creating,
            pid: 0,
            pid_start_time: 0,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: now_rfc3339(),
            annotations: None,
            cgroup: CgroupSet::default(),
            private_pid_ns: true,
            init_named: true,
            hooks: None,
            seccomp: None,
            resources: None,
        }
    }

    fn tmp_root() -> Root {
        let p = std::env::temp_dir().join(format!("rc-state-test-{}-{}", std::process::id(), unique()));
        Root::new(p)
    }

    #[test]
    fn reserve_is_exclusive_and_atomic() {
        let root = tmp_root();
        let st = sample("c1");
        let l = root.reserve(&st).unwrap();
        assert_eq!(root.load("c1").unwrap(), st);
        assert!(matches!(root.reserve(&st), Err(Error::AlreadyExists(_))));
        drop(l);
        assert_eq!(root.ids().unwrap(), vec!["c1".to_string()]);
        let mut st2 = st.clone();
        st2.phase = Phase::Created;
        let l = root.lock("c1").unwrap().unwrap();
        write_state(&l.dir, &st2).unwrap();
        assert_eq!(root.load("c1").unwrap().phase, Phase::Created);
        assert!(root.lock("nope").unwrap().is_none());
        assert!(matches!(root.load("nope"), Err(Error::NotExist(_))));
        fs::remove_dir_all(root.path()).unwrap();
    }

    #[test]
    fn summary_matches_the_full_state() {
        let root = tmp_root();
        let mut st = sample("c3");
        // Larger than the first read buffer.
        st.annotations = Some(HashMap::from([("k".to_string(), "v".repeat(20000))]));
        st.cgroup.dirs = vec!["/sys/fs/cgroup/x".into(), "/sys/fs/cgroup/y".into()];
        st.resources = Some(Default::default());
        st.hooks = Some(Default::default());
        let l = root.reserve(&st).unwrap();
        let mut buf = Vec::new();
        let list = ListDirs::open(root.path()).unwrap().unwrap();
        let (s, uid) = list.read_summary("c3", &mut buf).unwrap();
        assert_eq!(uid, nix::unistd::getuid().as_raw());
        assert_eq!(
            (s.oci_version, s.id, s.phase, s.pid, s.pid_start_time),
            (
                st.oci_version.clone(),
                st.id.clone(),
                st.phase,
                st.pid,
                st.pid_start_time
            )
        );
        assert_eq!(
            (s.bundle, s.rootfs, s.created),
            (st.bundle.clone(), st.rootfs.clone(), st.created.clone())
        );
        assert_eq!(s.annotations, st.annotations);
        let dirs: Vec<PathBuf> = s.cgroup.dirs.iter().map(|d| PathBuf::from(d.as_ref())).collect();
        assert_eq!(dirs, st.cgroup.dirs);
        assert!(matches!(list.read_summary("nope", &mut buf), Err(Error::NotExist(_))));
        fs::write(l.dir.join(STATE_FILE), b"{half").unwrap();
        let e = list.read_summary("c3", &mut buf).unwrap_err().to_string();
        assert!(e.contains("state.json"), "{e}");
        fs::remove_dir_all(root.path()).unwrap();
    }

    #[test]
    fn own_start_time_is_read() {
        let me = Pid::this();
        let (t, zombie) = proc_start_time(me).unwrap();
        let text = fs::read_to_string("/proc/self/stat").unwrap();
        assert_eq!(parse_stat(&text), Some((t, zombie)));
        assert!(!zombie);
        assert_eq!(proc_start_time(Pid::from_raw(i32::MAX)), None);
    }

    #[test]
    fn corrupt_state_is_an_error_naming_the_file() {
        let root = tmp_root();
        let l = root.reserve(&sample("c2")).unwrap();
        fs::write(l.dir.join(STATE_FILE), b"{half").unwrap();
        let e = root.load("c2").unwrap_err().to_string();
        assert!(e.contains("state.json"), "{e}");
        fs::remove_dir_all(root.path()).unwrap();
    }

    #[test]
    fn public_state_has_runc_field_order() {
        let s = ContainerState {
            oci_version: "1.0.2".into(),
            id: "x".into(),
            pid: 1,
            status: Status::Running,
            bundle: "/b".into(),
            rootfs: "/b/r".into(),
            created: "t".into(),
            annotations: None,
            owner: String::new(),
        };
        let j = serde_json::to_string(&s).unwrap();
        assert_eq!(
            j,
            r#"{"ociVersion":"1.0.2","id":"x","pid":1,"status":"running","bundle":"/b","rootfs":"/b/r","created":"t","owner":""}"#
        );
    }
}
