//! `exec`: run one more process inside a container's namespaces and cgroup. An
//! intermediate process joins the init's namespaces (the user namespace first) and clones
//! the new process with CLONE_PARENT, so it lands in the container's pid namespace and is
//! still a child of the caller, which reaps it.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use oci_spec::runtime::{Capability, Process};

use crate::error::{Error, Result};
use crate::plan::{JoinNs, ProcessPlan};
use crate::state::{self, Status};

/// How `exec` runs the process.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    pub process: Process,
    /// Return once the process has started instead of waiting for it.
    pub detach: bool,
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub preserve_fds: u32,
    pub ignore_paused: bool,
    /// Descriptors that become the process's stdin, stdout and stderr instead of the caller's.
    pub stdio: Option<crate::container::StdioFds>,
    /// Where the process came from, for error messages (`--process` file or config.json).
    pub source: PathBuf,
}

/// What `exec` returns: the pid of a detached process, or the exit code of a waited one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecOutcome {
    Detached(Pid),
    Exited(i32),
}

/// The flag form of `exec` (runc's `--cwd`, `--env`, `--user`...), applied on top of the
/// container's configured process.
#[derive(Debug, Clone, Default)]
pub struct ExecOverrides {
    pub args: Vec<String>,
    pub cwd: Option<String>,
    pub env: Vec<String>,
    pub tty: bool,
    pub user: Option<String>,
    pub additional_gids: Vec<String>,
    pub caps: Vec<String>,
    pub no_new_privs: bool,
    pub apparmor: Option<String>,
    pub process_label: Option<String>,
}

/// Read a `--process` file: a runtime-spec `process` object.
pub fn process_from_file(path: &Path) -> Result<Process> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
    crate::spec::parse_json(path, &bytes)
}

/// Build the process for the flag form of `exec` from the container's `config.json`
/// process, runc's rules: args replaced, env appended, terminal from `--tty`, user and
/// groups from the flags, `--cap` added to the bounding, effective and permitted sets.
pub fn process_from_flags(bundle: &Path, o: &ExecOverrides) -> Result<Process> {
    if o.args.is_empty() {
        return Err(Error::InvalidArgument("exec args cannot be empty".into()));
    }
    let spec = crate::spec::load_unchecked(bundle)?;
    let mut p = spec.process().clone().ok_or_else(|| {
        Error::config(
            bundle.join("config.json"),
            "process",
            "is required to exec without --process",
        )
    })?;
    p.set_args(Some(o.args.clone()));
    if let Some(c) = &o.cwd {
        p.set_cwd(PathBuf::from(c));
    }
    let mut env = p.env().clone().unwrap_or_default();
    env.extend(o.env.iter().cloned());
    p.set_env(Some(env));
    p.set_terminal(Some(o.tty));
    if let Some(u) = &o.user {
        let (uid, gid) = match u.split_once(':') {
            Some((a, b)) => (a, Some(b)),
            None => (u.as_str(), None),
        };
        let num = |s: &str| {
            s.parse::<u32>()
                .map_err(|_| Error::InvalidArgument(format!("invalid --user {u:?}: want uid[:gid], numeric")))
        };
        p.user_mut().set_uid(num(uid)?);
        if let Some(g) = gid {
            p.user_mut().set_gid(num(g)?);
        }
    }
    if !o.additional_gids.is_empty() {
        let mut g = p.user().additional_gids().clone().unwrap_or_default();
        for s in &o.additional_gids {
            g.push(
                s.parse()
                    .map_err(|_| Error::InvalidArgument(format!("invalid --additional-gids {s:?}")))?,
            );
        }
        p.user_mut().set_additional_gids(Some(g));
    }
    if !o.caps.is_empty() {
        let mut caps = p.capabilities().clone().unwrap_or_default();
        for c in &o.caps {
            let name = if c.to_ascii_uppercase().starts_with("CAP_") {
                c.to_ascii_uppercase()
            } else {
                format!("CAP_{}", c.to_ascii_uppercase())
            };
            let cap: Capability = serde_json::from_value(serde_json::Value::String(name.clone()))
                .map_err(|_| Error::InvalidArgument(format!("unknown capability {c:?}")))?;
            for set in [
                caps.bounding().clone(),
                caps.effective().clone(),
                caps.permitted().clone(),
            ]
            .iter_mut()
            .enumerate()
            {
                let mut s = set.1.clone().unwrap_or_default();
                s.insert(cap);
                match set.0 {
                    0 => caps.set_bounding(Some(s)),
                    1 => caps.set_effective(Some(s)),
                    _ => caps.set_permitted(Some(s)),
                };
            }
        }
        p.set_capabilities(Some(caps));
    }
    if o.no_new_privs {
        p.set_no_new_privileges(Some(true));
    }
    if let Some(a) = &o.apparmor {
        p.set_apparmor_profile(Some(a.clone()));
    }
    if let Some(l) = &o.process_label {
        p.set_selinux_label(Some(l.clone()));
    }
    Ok(p)
}

/// Everything the exec'd process needs, decided before the fork.
#[derive(Debug)]
pub struct ExecPlan {
    pub join: Vec<JoinNs>,
    pub process: ProcessPlan,
    /// With a terminal: the console size (rows, columns), if any.
    pub console_size: Option<Option<(u16, u16)>>,
}

const NAMESPACES: [(&str, CloneFlags); 8] = [
    ("user", CloneFlags::CLONE_NEWUSER),
    ("mnt", CloneFlags::CLONE_NEWNS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("pid", CloneFlags::CLONE_NEWPID),
    ("time", CloneFlags::from_bits_retain(libc::CLONE_NEWTIME)),
];

/// Open every namespace of `pid` that differs from ours, user namespace first.
fn namespaces_of(pid: Pid) -> Result<Vec<JoinNs>> {
    let mut out = Vec::new();
    for (name, flag) in NAMESPACES {
        let theirs = format!("/proc/{pid}/ns/{name}");
        let ours = format!("/proc/self/ns/{name}");
        let (Ok(a), Ok(b)) = (std::fs::metadata(&theirs), std::fs::metadata(&ours)) else {
            continue;
        };
        if a.ino() == b.ino() && a.dev() == b.dev() {
            continue;
        }
        let fd: OwnedFd = nix::fcntl::open(theirs.as_str(), OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|e| Error::sys(format!("opening {theirs}"), e))?;
        out.push(JoinNs { flag, fd, path: theirs });
    }
    Ok(out)
}

impl crate::Runtime {
    /// Run a process in a running (or created) container.
    pub fn exec(&self, id: &str, opts: ExecOptions) -> Result<ExecOutcome> {
        crate::spec::validate_id(id)?;
        let st = self.load_visible(id)?;
        crate::testpoint::hit("exec:loaded");
        match self.status(&st) {
            Status::Stopped => return Err(Error::wrong_state(id, "cannot exec in a stopped container")),
            Status::Paused if !opts.ignore_paused => {
                return Err(Error::wrong_state(
                    id,
                    "cannot exec in a paused container (use --ignore-paused to override)",
                ))
            }
            _ => {}
        }
        let p = &opts.process;
        let src = opts.source.as_path();
        match p.args() {
            Some(a) if !a.is_empty() && !a[0].is_empty() => {}
            _ => return Err(Error::config(src, "args", "must not be empty")),
        }
        if !p.cwd().is_absolute() {
            return Err(Error::config(src, "cwd", "must be a non-empty absolute path"));
        }
        let terminal = p.terminal().unwrap_or(false);
        match (terminal, opts.detach, &opts.console_socket) {
            (true, true, None) => {
                return Err(Error::InvalidArgument(
                    "cannot allocate tty if runc will detach without setting console socket".into(),
                ))
            }
            (false, _, Some(_)) | (true, false, Some(_)) => {
                return Err(Error::InvalidArgument(
                    "cannot use console socket if runc will not detach or allocate tty".into(),
                ))
            }
            _ => {}
        }
        crate::container::check_stdio(&opts.stdio, terminal)?;
        let mut process = crate::plan::process_plan(p, &st.rootfs, src, opts.preserve_fds)?;
        (process.seccomp, process.seccomp_listener) = crate::plan::compile_seccomp(st.seccomp.as_ref(), src)?;
        let plan = ExecPlan {
            join: namespaces_of(Pid::from_raw(st.pid))?,
            process,
            console_size: terminal.then(|| {
                p.console_size().filter(|b| b.height() > 0 && b.width() > 0).map(|b| {
                    (
                        b.height().min(u16::MAX as u64) as u16,
                        b.width().min(u16::MAX as u64) as u16,
                    )
                })
            }),
        };
        // The namespace fds are open: make sure they were the init's, not a recycled pid's.
        if !state::init_alive(&st) {
            return Err(Error::wrong_state(id, "cannot exec in a stopped container"));
        }
        // A foreground terminal without a console socket is proxied to our stdio.
        let mut proxy = None;
        let console = match &opts.console_socket {
            Some(path) => Some(crate::container::connect_console(path)?),
            None if terminal => {
                let (ours, theirs) = crate::ttyproxy::pair()?;
                proxy = Some(ours);
                Some(theirs)
            }
            None => None,
        };
        let listener_at = |pid: Pid, fd: OwnedFd| -> Result<()> {
            let Some(l) = &plan.process.seccomp_listener else {
                return Err(Error::InitDied("unexpected seccomp listener".into()));
            };
            let state = crate::hooks::state_json(id, st.pid, "running", &st.bundle, st.annotations.as_ref());
            crate::seccomp::send_to_listener(l, pid.as_raw(), &state, fd.as_fd())
        };
        let pid = spawn_exec(&plan, &st.cgroup, console, opts.stdio.as_deref(), &listener_at)?;
        crate::testpoint::hit("exec:ready");
        let master = match proxy.as_ref().map(|s| crate::ttyproxy::receive_master(s.as_fd())) {
            Some(Err(e)) => {
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
                let _ = waitpid(pid, None);
                return Err(e);
            }
            Some(Ok(m)) => Some(m),
            None => None,
        };
        drop(proxy);
        if opts.detach {
            if let Some(pf) = &opts.pid_file {
                if let Err(e) = crate::container::write_pid_file(pf, pid) {
                    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
                    let _ = waitpid(pid, None);
                    return Err(e);
                }
            }
            return Ok(ExecOutcome::Detached(pid));
        }
        if let Some(pf) = &opts.pid_file {
            crate::container::write_pid_file(pf, pid)?;
        }
        Ok(ExecOutcome::Exited(match master {
            Some(m) => crate::ttyproxy::proxy_until_exit(m, pid),
            None => crate::container::forward_signals_until_exit(pid),
        }))
    }
}

fn spawn_exec(
    plan: &ExecPlan,
    cg: &crate::cgroups::CgroupSet,
    console: Option<OwnedFd>,
    stdio: Option<&[OwnedFd; 3]>,
    listener_at: &dyn Fn(Pid, OwnedFd) -> Result<()>,
) -> Result<Pid> {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType};
    let (parent_sock, child_sock) =
        nix::sys::socket::socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC)
            .map_err(|e| Error::sys("socketpair", e))?;
    let sock = child_sock.as_fd();
    let con = console.as_ref().map(|c| c.as_fd());
    let stdio = stdio.map(|[a, b, c]| [a.as_fd(), b.as_fd(), c.as_fd()]);
    let theirs = [std::os::fd::AsRawFd::as_raw_fd(&parent_sock)];
    let entry = crate::cgroups::entry(cg)?;
    let first = crate::sys::spawn(0, libc::SIGCHLD, entry.clone_into(), || {
        crate::sys::close_parent_fds(&theirs);
        crate::init::exec_child(plan, &entry, sock, con, stdio)
    })
    .map_err(|e| Error::sys("clone3", e))?;
    crate::testpoint::hit("exec:spawned");
    drop(child_sock);
    drop(console);
    let mut pid = None;
    let join = crate::container::Join {
        entry: &entry,
        into_used: first.into_cgroup,
    };
    let r = crate::container::drive_exec(&join, &parent_sock, first.pid, &mut pid, listener_at);
    let _ = waitpid(first.pid, None);
    if r.is_ok() {
        // As `start` does for the init: return with the program in place, so that the pid
        // we hand out (`--pid-file`) runs the program, not the runtime.
        crate::container::await_exec(&parent_sock);
    }
    match r {
        Ok(()) => Ok(pid.expect("ready implies a pid")),
        Err(e) => {
            if let Some(p) = pid {
                let _ = nix::sys::signal::kill(p, nix::sys::signal::Signal::SIGKILL);
                let _ = waitpid(p, None);
            }
            Err(e)
        }
    }
}
