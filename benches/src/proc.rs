//! Running and waiting for processes. The bench is a child subreaper, so a container init
//! whose runtime exits becomes its child; every wait goes through [`Reaper`], which reaps
//! whatever child exits while it waits for the one it wants (a dying init must not linger
//! as a zombie while a runtime's `delete` waits for it to be gone).

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};

use crate::lab::Result;

#[derive(Debug, Default)]
pub struct Reaper {
    exited: HashMap<i32, i32>,
    /// Where the children's stderr goes (truncated before each command, shown on failure).
    pub err_log: PathBuf,
}

/// Exit code, or 128 + signal.
fn code_of(ws: WaitStatus) -> Option<(i32, i32)> {
    match ws {
        WaitStatus::Exited(p, c) => Some((p.as_raw(), c)),
        WaitStatus::Signaled(p, s, _) => Some((p.as_raw(), 128 + s as i32)),
        _ => None,
    }
}

impl Reaper {
    pub fn new(err_log: PathBuf) -> Self {
        Reaper {
            exited: HashMap::new(),
            err_log,
        }
    }

    /// Drop a remembered exit of `pid`: call it when `pid` names a new process (pids are
    /// reused, and a container's init only becomes the bench's child once its runtime exits).
    pub fn forget(&mut self, pid: i32) {
        self.exited.remove(&pid);
    }

    /// Wait for child `pid` to exit, reaping every other child that exits meanwhile.
    pub fn wait(&mut self, pid: i32) -> Result<i32> {
        if let Some(c) = self.exited.remove(&pid) {
            return Ok(c);
        }
        loop {
            match waitpid(None, Some(WaitPidFlag::__WALL)) {
                Ok(ws) => {
                    if let Some((p, c)) = code_of(ws) {
                        if p == pid {
                            return Ok(c);
                        }
                        self.exited.insert(p, c);
                    }
                }
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(format!("waiting for pid {pid}: {e}")),
            }
        }
    }

    /// Reap children that have already exited (inits of deleted containers).
    pub fn reap_ready(&mut self) {
        while let Ok(ws) = waitpid(None, Some(WaitPidFlag::WNOHANG | WaitPidFlag::__WALL)) {
            match code_of(ws) {
                Some((p, c)) => {
                    self.exited.insert(p, c);
                }
                None if ws == WaitStatus::StillAlive => break,
                None => {}
            }
        }
        // Only the last few matter (a pid waited for right after it exited).
        if self.exited.len() > 10_000 {
            self.exited.clear();
        }
    }

    fn stderr_file(&self) -> Result<File> {
        File::create(&self.err_log).map_err(|e| format!("creating {}: {e}", self.err_log.display()))
    }

    fn failure(&self, what: &str, code: i32) -> String {
        let mut s = String::new();
        let _ = File::open(&self.err_log).and_then(|mut f| f.read_to_string(&mut s));
        format!("{what}: exit status {code}: {}", s.trim())
    }

    /// Run `cmd` (stdin and stdout on /dev/null), wait for it, and return how long it took
    /// from spawn to exit. A non-zero exit is an error naming `what` and showing its stderr.
    pub fn timed(&mut self, cmd: Command, what: &str) -> Result<Duration> {
        self.timed_cpu(cmd, what).map(|(wall, _)| wall)
    }

    /// [`Reaper::timed`], and the CPU time (user + system) of the process and of the
    /// descendants it waited for, from the growth of getrusage(RUSAGE_CHILDREN): on a busy
    /// machine the work done is steadier than the wall time.
    pub fn timed_cpu(&mut self, mut cmd: Command, what: &str) -> Result<(Duration, Duration)> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(self.stderr_file()?);
        let cpu0 = children_cpu();
        let t0 = Instant::now();
        let child = cmd.spawn().map_err(|e| format!("{what}: spawning: {e}"))?;
        self.forget(child.id() as i32);
        let code = self.wait(child.id() as i32)?;
        let dt = t0.elapsed();
        let cpu = children_cpu().saturating_sub(cpu0);
        if code != 0 {
            return Err(self.failure(what, code));
        }
        Ok((dt, cpu))
    }

    /// Run `cmd` untimed; its exit code is returned, not judged.
    pub fn status(&mut self, mut cmd: Command) -> Result<i32> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(self.stderr_file()?);
        let child = cmd.spawn().map_err(|e| format!("spawning {cmd:?}: {e}"))?;
        self.forget(child.id() as i32);
        self.wait(child.id() as i32)
    }

    /// Run `cmd` untimed and fail unless it exits 0.
    pub fn must(&mut self, cmd: Command, what: &str) -> Result<()> {
        match self.status(cmd)? {
            0 => Ok(()),
            c => Err(self.failure(what, c)),
        }
    }

    /// Peak RSS (KiB) of the process `prog args` runs as: the bench re-executes itself as a
    /// probe that spawns it, waits for it and reports getrusage(RUSAGE_CHILDREN).ru_maxrss,
    /// which for its single child is what wait4(2) reports for that child (the maximum over
    /// the runtime process and the descendants it reaped). See [`rss_probe_main`].
    pub fn peak_rss(&mut self, prog: &Path, args: &[String], what: &str) -> Result<u64> {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut cmd = Command::new(exe);
        cmd.arg(RSS_PROBE).arg(prog).args(args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(self.stderr_file()?);
        let mut child = cmd.spawn().map_err(|e| format!("{what}: spawning the probe: {e}"))?;
        self.forget(child.id() as i32);
        let mut out = String::new();
        child
            .stdout
            .take()
            .expect("piped")
            .read_to_string(&mut out)
            .map_err(|e| format!("{what}: reading the probe: {e}"))?;
        let code = self.wait(child.id() as i32)?;
        if code != 0 {
            return Err(self.failure(what, code));
        }
        out.trim()
            .parse()
            .map_err(|_| format!("{what}: bad probe output {out:?}"))
    }
}

/// User + system CPU time of the reaped children so far.
pub fn children_cpu() -> Duration {
    cpu_of(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
}

/// User + system CPU time of the bench process itself so far.
pub fn self_cpu() -> Duration {
    cpu_of(nix::sys::resource::UsageWho::RUSAGE_SELF)
}

fn cpu_of(who: nix::sys::resource::UsageWho) -> Duration {
    let Ok(ru) = nix::sys::resource::getrusage(who) else {
        return Duration::ZERO;
    };
    let tv = |t: nix::sys::time::TimeVal| Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000);
    tv(ru.user_time()) + tv(ru.system_time())
}

/// argv[1] that makes the bench binary act as the RSS probe.
pub const RSS_PROBE: &str = "__rss-probe";

/// The probe: run argv[2..] with stdin/stdout on /dev/null and stderr inherited, print the
/// peak RSS in KiB of that child, exit with its code.
pub fn rss_probe_main(args: &[String]) -> i32 {
    let Some((prog, rest)) = args.split_first() else {
        eprintln!("{RSS_PROBE}: no program");
        return 2;
    };
    let status = Command::new(prog)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status();
    let status = match status {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{RSS_PROBE}: {prog}: {e}");
            return 2;
        }
    };
    match nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN) {
        Ok(ru) => println!("{}", ru.max_rss()),
        Err(e) => {
            eprintln!("{RSS_PROBE}: getrusage: {e}");
            return 2;
        }
    }
    status.code().unwrap_or(1)
}

/// Read a pid file written by a runtime.
pub fn read_pid(p: &Path) -> Result<i32> {
    std::fs::read_to_string(p)
        .map_err(|e| format!("reading {}: {e}", p.display()))?
        .trim()
        .parse()
        .map_err(|_| format!("{}: not a pid", p.display()))
}
