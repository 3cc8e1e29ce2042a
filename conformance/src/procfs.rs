//! Reading `/proc`: process identity (pid + start time, to survive pid reuse), parents,
//! cgroup membership, and the mount table.

use std::path::PathBuf;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// The interesting fields of `/proc/<pid>/stat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcStat {
    /// Process id.
    pub pid: i32,
    /// `comm` (without parentheses).
    pub comm: String,
    /// State letter (`R`, `S`, `Z`, ...).
    pub state: char,
    /// Parent pid.
    pub ppid: i32,
    /// Start time in clock ticks since boot (field 22).
    pub starttime: u64,
}

impl ProcStat {
    /// Parses `/proc/<pid>/stat`; `None` when the process does not exist.
    pub fn read(pid: i32) -> Option<ProcStat> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let open = text.find('(')?;
        let close = text.rfind(')')?;
        let comm = text.get(open + 1..close)?.to_string();
        let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
        // rest[0] is field 3 (state); field N is rest[N - 3].
        let state = rest.first()?.chars().next()?;
        let ppid = rest.get(1)?.parse().ok()?;
        let starttime = rest.get(19)?.parse().ok()?;
        Some(ProcStat {
            pid,
            comm,
            state,
            ppid,
            starttime,
        })
    }

    /// The executable (`/proc/<pid>/exe`), when readable.
    pub fn exe(&self) -> Option<PathBuf> {
        std::fs::read_link(format!("/proc/{}/exe", self.pid)).ok()
    }

    /// A zombie or dead entry.
    pub fn is_dead(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// A process identity that survives pid reuse: pid plus start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcId {
    /// Host pid.
    pub pid: i32,
    /// Start time (clock ticks since boot).
    pub starttime: u64,
}

impl ProcId {
    /// Identity of the live process `pid`, if there is one.
    pub fn of(pid: i32) -> Option<ProcId> {
        if pid <= 0 {
            return None;
        }
        ProcStat::read(pid).map(|s| ProcId {
            pid,
            starttime: s.starttime,
        })
    }

    /// The same process still exists and is not a zombie.
    pub fn is_alive(&self) -> bool {
        ProcStat::read(self.pid).is_some_and(|s| s.starttime == self.starttime && !s.is_dead())
    }

    /// Current `/proc/<pid>/stat`, if it is still this process.
    pub fn stat(&self) -> Option<ProcStat> {
        ProcStat::read(self.pid).filter(|s| s.starttime == self.starttime)
    }

    /// Sends `sig` if (and only if) this very process is still alive.
    pub fn signal(&self, sig: Signal) -> bool {
        self.is_alive() && kill(Pid::from_raw(self.pid), sig).is_ok()
    }
}

/// All numeric entries of `/proc`.
pub fn all_pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .map(|d| d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default()
}

/// Live (non-zombie) descendants of `pid`, in no particular order.
pub fn descendants(pid: i32) -> Vec<ProcStat> {
    let all: Vec<ProcStat> = all_pids().into_iter().filter_map(ProcStat::read).collect();
    let mut out: Vec<ProcStat> = Vec::new();
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for s in all.iter().filter(|s| s.ppid == p) {
            frontier.push(s.pid);
            if !s.is_dead() {
                out.push(s.clone());
            }
        }
    }
    out
}

/// Pids of live processes whose `/proc/<pid>/cgroup` places them in `cgroup_path` (or below it)
/// in any hierarchy. `cgroup_path` is absolute, e.g. `/runtime-cli-test/x`.
pub fn processes_in_cgroup(cgroup_path: &str) -> Vec<i32> {
    let want = cgroup_path.trim_end_matches('/');
    let below = format!("{want}/");
    all_pids()
        .into_iter()
        .filter(|pid| {
            let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/cgroup")) else {
                return false;
            };
            let member = text.lines().any(|l| {
                let path = l.splitn(3, ':').nth(2).unwrap_or("");
                path == want || path.starts_with(&below)
            });
            member && ProcStat::read(*pid).is_some_and(|s| !s.is_dead())
        })
        .collect()
}

/// Lines of `/proc/self/mountinfo` (this process's mount namespace).
pub fn mountinfo() -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Mount points (field 5 of mountinfo, unescaped `\040` etc. left as is) at or below `dir`.
pub fn mount_points_below(dir: &std::path::Path) -> Vec<PathBuf> {
    let dir = dir.to_string_lossy();
    let dir = dir.trim_end_matches('/');
    let below = format!("{dir}/");
    mountinfo()
        .iter()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_string))
        .filter(|m| m == dir || m.starts_with(&below))
        .map(PathBuf::from)
        .collect()
}
