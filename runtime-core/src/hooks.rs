//! Running OCI hooks (runtime-spec `config.md` "POSIX-platform Hooks"; CLI contract §9.3).
//!
//! [`run_hooks`] runs the hooks of one kind in the namespaces of the calling process. The
//! caller chooses where that is: the runtime process for `prestart`, `createRuntime`,
//! `poststart` and `poststop`, the container's init (after it entered the container's
//! namespaces) for `createContainer` and `startContainer`.
//!
//! Each hook runs like runc's `configs.Command.Run`: `path` is executed directly with `args`
//! as the exact argv, the environment is `env` when given (else inherited), stdin is the
//! state JSON then EOF, stdout and stderr are captured for the error message, and `timeout`
//! kills the hook. Error texts follow runc's wording (contract §6.5).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sched::CloneFlags;
use nix::sys::memfd::{memfd_create, MFdFlags};
use nix::unistd::Pid;
use oci_spec::runtime::Hook;
use serde::Serialize;

use crate::error::{errno_text, Error};

/// How much of a hook's stdout and of its stderr is kept for the error message; the rest is
/// read and discarded so the hook never blocks on a full pipe.
const CAPTURE_LIMIT: usize = 64 * 1024;

/// Poll period when no pidfd is available (kernel < 5.3, or `pidfd_open` filtered).
const FALLBACK_PERIOD: Duration = Duration::from_millis(10);

/// The six hook kinds of the runtime-spec, in the order of a container's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookKind {
    Prestart,
    CreateRuntime,
    CreateContainer,
    StartContainer,
    Poststart,
    Poststop,
}

impl HookKind {
    /// All kinds, in lifecycle order (for `features`).
    pub const ALL: [HookKind; 6] = [
        HookKind::Prestart,
        HookKind::CreateRuntime,
        HookKind::CreateContainer,
        HookKind::StartContainer,
        HookKind::Poststart,
        HookKind::Poststop,
    ];

    /// The spec's name of the kind, as in `config.json` and in runc's error messages.
    pub fn name(self) -> &'static str {
        match self {
            HookKind::Prestart => "prestart",
            HookKind::CreateRuntime => "createRuntime",
            HookKind::CreateContainer => "createContainer",
            HookKind::StartContainer => "startContainer",
            HookKind::Poststart => "poststart",
            HookKind::Poststop => "poststop",
        }
    }
}

impl fmt::Display for HookKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Runs `hooks` in array order; the first failure stops the rest and is returned as
/// [`Error::Hook`] (`error running <kind> hook #<i>: ...`, `i` counting from 0 like runc).
pub fn run_hooks(kind: HookKind, hooks: &[Hook], state_json: &[u8]) -> Result<(), Error> {
    for (index, hook) in hooks.iter().enumerate() {
        run_hook(hook, state_json).map_err(|msg| Error::Hook {
            kind: kind.name(),
            index,
            msg,
        })?;
    }
    Ok(())
}

/// Runs `hooks` like [`run_hooks`], each one inside the container: in the namespaces and
/// cgroups of its init (`place`), as runc runs `createContainer` and `startContainer`.
pub fn run_hooks_inside(kind: HookKind, hooks: &[Hook], state_json: &[u8], place: &Inside) -> Result<(), Error> {
    for (index, hook) in hooks.iter().enumerate() {
        let fail = |msg| Error::Hook {
            kind: kind.name(),
            index,
            msg,
        };
        let entry = place
            .entry()
            .map_err(|e| fail(format!("entering the container: {e}")))?;
        let guard = place
            .enter_for_children()
            .map_err(|e| fail(format!("entering the container: {e}")))?;
        let r = run_hook_with(hook, state_json, |cmd| crate::sys::enter_before_exec(cmd, entry));
        drop(guard);
        r.map_err(fail)?;
    }
    Ok(())
}

/// The container's init as a place to run hooks: its namespaces, its cgroups and a working
/// directory (the rootfs before `pivot_root`, `/` after it).
#[derive(Debug)]
pub struct Inside {
    pid: Pid,
    cgroup_dirs: Vec<std::path::PathBuf>,
    cwd: std::ffi::CString,
}

/// Namespaces joined by the hook process itself (between fork and exec), user first.
const JOIN_IN_CHILD: [(&str, CloneFlags); 6] = [
    ("user", CloneFlags::CLONE_NEWUSER),
    ("mnt", CloneFlags::CLONE_NEWNS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
];
/// Namespaces that only apply to children: the spawning thread enters them for the fork.
const JOIN_FOR_CHILDREN: [(&str, CloneFlags); 2] = [
    ("pid", CloneFlags::CLONE_NEWPID),
    ("time", CloneFlags::from_bits_retain(libc::CLONE_NEWTIME)),
];

impl Inside {
    /// The init `pid`, its cgroup directories, and the hook's working directory.
    pub fn new(pid: Pid, cgroup_dirs: &[std::path::PathBuf], cwd: &Path) -> Self {
        Inside {
            pid,
            cgroup_dirs: cgroup_dirs.to_vec(),
            cwd: std::ffi::CString::new(cwd.as_os_str().as_bytes()).unwrap_or_else(|_| c"/".into()),
        }
    }

    /// The init's namespace `name`, when it differs from ours.
    fn foreign_ns(&self, name: &str) -> io::Result<Option<OwnedFd>> {
        use std::os::unix::fs::MetadataExt;
        let theirs = format!("/proc/{}/ns/{name}", self.pid);
        let ours = std::fs::metadata(format!("/proc/thread-self/ns/{name}"));
        let m = std::fs::metadata(&theirs)?;
        if ours.is_ok_and(|o| o.ino() == m.ino() && o.dev() == m.dev()) {
            return Ok(None);
        }
        Ok(Some(File::open(&theirs)?.into()))
    }

    fn entry(&self) -> io::Result<crate::sys::Entry> {
        let mut e = crate::sys::Entry::default();
        for d in &self.cgroup_dirs {
            // v1: `tasks` moves only the writing thread (the forked child has just the one)
            // without the global lock (and RCU grace period) that `cgroup.procs` takes; a
            // v2 directory has no `tasks`.
            for name in ["tasks", "cgroup.procs"] {
                match std::fs::OpenOptions::new().write(true).open(d.join(name)) {
                    Ok(f) => {
                        e.cgroup_files.push(f.into());
                        break;
                    }
                    Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                    Err(err) => return Err(err),
                }
            }
        }
        for (name, flag) in JOIN_IN_CHILD {
            if let Some(fd) = self.foreign_ns(name)? {
                e.become_root |= flag == CloneFlags::CLONE_NEWUSER;
                e.namespaces.push((fd, flag));
            }
        }
        e.cwd = Some(self.cwd.clone());
        Ok(e)
    }

    /// Enter the init's pid and time namespaces for the children of this thread, until the
    /// guard is dropped.
    fn enter_for_children(&self) -> io::Result<ChildrenNs> {
        let mut g = ChildrenNs { restore: Vec::new() };
        for (name, flag) in JOIN_FOR_CHILDREN {
            if let Some(fd) = self.foreign_ns(name)? {
                let own: OwnedFd = File::open(format!("/proc/thread-self/ns/{name}_for_children"))?.into();
                nix::sched::setns(fd.as_fd(), flag)?;
                g.restore.push((own, flag));
            }
        }
        Ok(g)
    }
}

/// Restores this thread's namespaces for children on drop.
struct ChildrenNs {
    restore: Vec<(OwnedFd, CloneFlags)>,
}

impl Drop for ChildrenNs {
    fn drop(&mut self) {
        for (fd, flag) in self.restore.drain(..).rev() {
            let _ = nix::sched::setns(fd.as_fd(), flag);
        }
    }
}

/// `hooks` with the container process's environment given to every `startContainer` hook
/// that has no `env` of its own (contract §9.3: those run as part of the container process).
pub fn with_default_env(
    mut hooks: oci_spec::runtime::Hooks,
    process_env: Option<&[String]>,
) -> oci_spec::runtime::Hooks {
    if let Some(list) = hooks.start_container().clone() {
        let list = list
            .into_iter()
            .map(|mut h| {
                if h.env().is_none() {
                    h.set_env(Some(process_env.unwrap_or(&[]).to_vec()));
                }
                h
            })
            .collect();
        hooks.set_start_container(Some(list));
    }
    hooks
}

/// The pid of `pid` as seen in its own pid namespace (the last `NSpid` entry), for the state
/// given to hooks that run inside the container.
pub fn pid_inside(pid: Pid) -> i32 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("NSpid:"))
                .and_then(|v| v.split_whitespace().last())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(pid.as_raw())
}

/// Runs every `poststop` hook, continuing past failures (the spec says a poststop failure
/// is only logged), and returns the failures for the caller to log as warnings.
pub fn run_poststop(hooks: &[Hook], state_json: &[u8]) -> Vec<Error> {
    hooks
        .iter()
        .enumerate()
        .filter_map(|(index, hook)| {
            run_hook(hook, state_json).err().map(|msg| Error::Hook {
                kind: HookKind::Poststop.name(),
                index,
                msg,
            })
        })
        .collect()
}

/// The runtime-spec `State` given to hooks on stdin, as compact JSON (contract §3.3).
/// `pid` is left out when it is not positive (poststop after the init is gone), and
/// `annotations` when there are none (Go's `omitempty`, as runc writes it).
pub fn state_json(
    id: &str,
    pid: i32,
    status: &str,
    bundle: &Path,
    annotations: Option<&HashMap<String, String>>,
) -> Vec<u8> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct State<'a> {
        oci_version: &'a str,
        id: &'a str,
        status: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        pid: Option<i32>,
        bundle: Cow<'a, str>,
        // Sorted, so the same state always gives the same bytes.
        #[serde(skip_serializing_if = "Option::is_none")]
        annotations: Option<BTreeMap<&'a str, &'a str>>,
    }
    let state = State {
        oci_version: crate::OCI_VERSION,
        id,
        status,
        pid: (pid > 0).then_some(pid),
        bundle: bundle.to_string_lossy(),
        annotations: annotations
            .filter(|a| !a.is_empty())
            .map(|a| a.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()),
    };
    serde_json::to_vec(&state).expect("a struct of strings and integers always serializes")
}

/// What a hook that ran to completion wrote (bounded by [`CAPTURE_LIMIT`]).
#[derive(Debug, Default)]
struct Captured {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs one hook; the error is the message after `error running <kind> hook #<i>: `.
fn run_hook(hook: &Hook, state_json: &[u8]) -> Result<Captured, String> {
    run_hook_with(hook, state_json, |_| {})
}

/// [`run_hook`], with `prepare` adjusting the command before it is spawned.
fn run_hook_with(hook: &Hook, state_json: &[u8], prepare: impl FnOnce(&mut Command)) -> Result<Captured, String> {
    let path = hook.path();
    let stdin = state_stdin(state_json).map_err(|e| format!("hook stdin: {}", io_text(&e)))?;
    let mut cmd = command(hook);
    prepare(&mut cmd);
    let mut child = cmd
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        // Go's wording, which runc prints: `fork/exec /x: no such file or directory`.
        .map_err(|e| format!("fork/exec {}: {}", path.display(), io_text(&e)))?;

    let timeout = hook.timeout().filter(|&t| t > 0);
    let limit = timeout.map(|t| Duration::from_secs(t.unsigned_abs()));
    let (outcome, out) = match supervise(&mut child, limit) {
        Ok(r) => r,
        Err(e) => {
            // Leave no running or unreaped hook behind.
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("waiting for hook {}: {}", path.display(), io_text(&e)));
        }
    };
    match outcome {
        Outcome::Exited(status) if status.success() => Ok(out),
        Outcome::Exited(status) => Err(format!(
            "{}, stdout: {}, stderr: {}",
            status_text(status),
            captured_text(&out.stdout),
            captured_text(&out.stderr)
        )),
        // runc formats the timeout with `%.1fs`; it is whole seconds in the spec.
        Outcome::TimedOut => Err(format!(
            "hook ran past specified timeout of {}.0s",
            timeout.unwrap_or_default()
        )),
    }
}

/// The command for `hook`: `path` executed as is, argv exactly `args`, env exactly `env`.
fn command(hook: &Hook) -> Command {
    let path = hook.path();
    // std searches `PATH` for a program name without a slash; the spec's execv semantics
    // do not, so a relative name is made explicit (the spec requires absolute paths anyway).
    let mut cmd = if path.as_os_str().as_bytes().contains(&b'/') {
        Command::new(path)
    } else {
        Command::new(Path::new(".").join(path))
    };
    match hook.args().as_deref() {
        // args[0] may differ from path (docker: path=/proc/<pid>/exe, args[0]=libnetwork-setkey).
        Some([arg0, rest @ ..]) => {
            cmd.arg0(arg0).args(rest);
        }
        // Like Go's exec.Cmd, an absent or empty `args` means argv = [path].
        _ => {
            cmd.arg0(path);
        }
    }
    // A given `env` (even an empty one) replaces the environment; an absent one inherits the
    // runtime's, as runc does (hooks such as `sh -c '...'` rely on an inherited PATH).
    if let Some(env) = hook.env() {
        cmd.env_clear();
        // An entry without `=` cannot be passed by std and could not be looked up anyway.
        for (key, value) in env.iter().filter_map(|e| e.split_once('=')) {
            cmd.env(key, value);
        }
    }
    cmd
}

/// The hook's stdin: the state JSON in a memfd, positioned at 0, so the hook reads it then
/// EOF. A file instead of runc's pipe needs no writer thread, cannot block on a hook that
/// does not read, and cannot raise SIGPIPE in a host process (C API) that does not ignore it.
fn state_stdin(state_json: &[u8]) -> io::Result<File> {
    let fd = memfd_create("runtime-hook-state", MFdFlags::MFD_CLOEXEC)?;
    let mut file = File::from(fd);
    file.write_all(state_json)?;
    file.rewind()?;
    Ok(file)
}

enum Outcome {
    Exited(ExitStatus),
    TimedOut,
}

/// Waits for `child` while draining its stdout and stderr, killing it (SIGKILL) when `limit`
/// passes. The wait ends when the hook exits, not when its pipes close: a daemon forked by
/// the hook may hold them open for ever (runc would hang there).
fn supervise(child: &mut Child, limit: Option<Duration>) -> io::Result<(Outcome, Captured)> {
    let deadline = limit.map(|l| Instant::now() + l);
    let mut stdout = Capture::new(child.stdout.take().map(OwnedFd::from))?;
    let mut stderr = Capture::new(child.stderr.take().map(OwnedFd::from))?;
    // The child is not reaped yet, so its pid cannot have been reused.
    let pidfd = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let pidfd = crate::sys::pidfd_open(pidfd).ok();
    loop {
        if let Some(status) = child.try_wait()? {
            // The hook's own writes are all in the pipes now; take what is there.
            stdout.read_available()?;
            stderr.read_available()?;
            return Ok((Outcome::Exited(status), Captured::from_parts(stdout, stderr)));
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            child.kill()?;
            child.wait()?;
            return Ok((Outcome::TimedOut, Captured::from_parts(stdout, stderr)));
        }
        let mut wait = deadline.map(|d| d - now);
        if pidfd.is_none() {
            wait = Some(wait.map_or(FALLBACK_PERIOD, |w| w.min(FALLBACK_PERIOD)));
        }
        let mut fds = Vec::with_capacity(3);
        if let Some(p) = &pidfd {
            // A pidfd polls readable once the process has exited.
            fds.push(PollFd::new(p.as_fd(), PollFlags::POLLIN));
        }
        for file in [&stdout.file, &stderr.file].into_iter().flatten() {
            fds.push(PollFd::new(file.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, poll_timeout(wait)) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
        stdout.read_available()?;
        stderr.read_available()?;
    }
}

/// A poll timeout that does not wake before `wait` has passed (rounded up to a millisecond).
fn poll_timeout(wait: Option<Duration>) -> PollTimeout {
    match wait {
        None => PollTimeout::NONE,
        Some(w) => {
            let ms = w.as_nanos().div_ceil(1_000_000);
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
        }
    }
}

/// One non-blocking output pipe of a hook and the first [`CAPTURE_LIMIT`] bytes read from it.
struct Capture {
    /// `None` once the pipe reached EOF (or was never there).
    file: Option<File>,
    data: Vec<u8>,
    truncated: bool,
}

impl Capture {
    fn new(fd: Option<OwnedFd>) -> io::Result<Self> {
        if let Some(fd) = &fd {
            fcntl(fd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
        }
        Ok(Capture {
            file: fd.map(File::from),
            data: Vec::new(),
            truncated: false,
        })
    }

    /// Reads what the pipe holds now. Bounded per call so a hook writing without pause
    /// cannot keep the caller from checking for exit and timeout.
    fn read_available(&mut self) -> io::Result<()> {
        let Some(file) = &mut self.file else {
            return Ok(());
        };
        let mut buf = [0u8; 16 * 1024];
        for _ in 0..64 {
            match file.read(&mut buf) {
                Ok(0) => {
                    self.file = None;
                    return Ok(());
                }
                Ok(n) => {
                    let keep = n.min(CAPTURE_LIMIT - self.data.len());
                    self.data.extend_from_slice(&buf[..keep]);
                    self.truncated |= keep < n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Captured {
    fn from_parts(stdout: Capture, stderr: Capture) -> Self {
        let mark = |c: Capture| {
            let mut data = c.data;
            if c.truncated {
                data.extend_from_slice(b"...[truncated]");
            }
            data
        };
        Captured {
            stdout: mark(stdout),
            stderr: mark(stderr),
        }
    }
}

/// Captured output for the one-line error message: lossy UTF-8, final newline dropped.
fn captured_text(data: &[u8]) -> Cow<'_, str> {
    let data = data.strip_suffix(b"\n").unwrap_or(data);
    String::from_utf8_lossy(data)
}

/// An I/O error as Go prints it: errno text without Rust's "(os error N)".
fn io_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => errno_text(Errno::from_raw(n)),
        None => e.to_string(),
    }
}

/// Go's `ProcessState.String()`: `exit status 1`, `signal: killed (core dumped)`.
fn status_text(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    let mut s = match status.signal() {
        Some(sig) => format!("signal: {}", signal_text(sig)),
        None => status.to_string(),
    };
    if status.core_dumped() {
        s.push_str(" (core dumped)");
    }
    s
}

/// Go's `syscall.Signal.String()` texts for the signals a hook commonly dies of.
fn signal_text(sig: i32) -> Cow<'static, str> {
    let text = match sig {
        libc::SIGHUP => "hangup",
        libc::SIGINT => "interrupt",
        libc::SIGQUIT => "quit",
        libc::SIGILL => "illegal instruction",
        libc::SIGTRAP => "trace/breakpoint trap",
        libc::SIGABRT => "aborted",
        libc::SIGBUS => "bus error",
        libc::SIGFPE => "floating point exception",
        libc::SIGKILL => "killed",
        libc::SIGUSR1 => "user defined signal 1",
        libc::SIGSEGV => "segmentation fault",
        libc::SIGUSR2 => "user defined signal 2",
        libc::SIGPIPE => "broken pipe",
        libc::SIGALRM => "alarm clock",
        libc::SIGTERM => "terminated",
        libc::SIGXCPU => "CPU time limit exceeded",
        libc::SIGXFSZ => "file size limit exceeded",
        libc::SIGSYS => "bad system call",
        _ => return Cow::Owned(format!("signal {sig}")),
    };
    Cow::Borrowed(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A scratch directory removed on drop (no tempfile dependency).
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Self {
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "runtime-core-hooks-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }
        fn file(&self, name: &str) -> String {
            self.0.join(name).to_str().unwrap().to_string()
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn hook(path: &str, args: &[&str]) -> Hook {
        let mut h = Hook::default();
        h.set_path(path.into());
        h.set_args(Some(args.iter().map(|s| s.to_string()).collect()));
        h
    }

    fn sh(script: &str) -> Hook {
        hook("/bin/sh", &["sh", "-c", script])
    }

    fn state() -> Vec<u8> {
        state_json("c1", 42, "created", Path::new("/b"), None)
    }

    fn stdout_of(h: &Hook, state: &[u8]) -> String {
        String::from_utf8(run_hook(h, state).unwrap().stdout).unwrap()
    }

    #[test]
    fn hooks_kind_names_are_the_specs() {
        let names: Vec<_> = HookKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(
            names,
            [
                "prestart",
                "createRuntime",
                "createContainer",
                "startContainer",
                "poststart",
                "poststop"
            ]
        );
    }

    #[test]
    fn hooks_run_in_order() {
        let dir = Scratch::new();
        let log = dir.file("log");
        let hooks: Vec<_> = (1..=3).map(|i| sh(&format!("echo {i} >> {log}"))).collect();
        run_hooks(HookKind::Prestart, &hooks, &state()).unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "1\n2\n3\n");
    }

    #[test]
    fn hooks_argv0_may_differ_from_path() {
        let h = hook(
            "/bin/sh",
            &["libnetwork-setkey", "-c", "tr '\\0' '\\n' < /proc/$$/cmdline"],
        );
        let out = stdout_of(&h, &state());
        assert_eq!(out.lines().next(), Some("libnetwork-setkey"));

        // Without args, argv is [path].
        let mut h = Hook::default();
        h.set_path("/bin/true".into());
        run_hooks(HookKind::Poststart, &[h], &state()).unwrap();
    }

    #[test]
    fn hooks_env_is_exactly_the_list() {
        let mut h = hook("/usr/bin/env", &["env"]);
        h.set_env(Some(vec!["A=1".into(), "B=two words".into()]));
        let out = stdout_of(&h, &state());
        let mut lines: Vec<_> = out.lines().collect();
        lines.sort();
        assert_eq!(lines, ["A=1", "B=two words"]);

        // No `env`: the runtime's environment is inherited.
        if std::env::var_os("PATH").is_some() {
            let out = stdout_of(&hook("/usr/bin/env", &["env"]), &state());
            assert!(out.lines().any(|l| l.starts_with("PATH=")), "{out}");
        }
    }

    #[test]
    fn hooks_stdin_is_the_state_then_eof() {
        let mut ann = HashMap::new();
        ann.insert("k".to_string(), "v".to_string());
        let st = state_json("c1", 42, "created", Path::new("/b"), Some(&ann));
        let out = stdout_of(&sh("cat"), &st);
        assert_eq!(out.as_bytes(), st.as_slice());
    }

    #[test]
    fn hooks_failure_has_status_and_output_and_stops_the_rest() {
        let dir = Scratch::new();
        let log = dir.file("log");
        let hooks = [
            hook("/bin/true", &["true"]),
            sh("echo out; echo err >&2; exit 3"),
            sh(&format!("echo ran >> {log}")),
        ];
        let e = run_hooks(HookKind::CreateRuntime, &hooks, &state()).unwrap_err();
        assert!(matches!(
            e,
            Error::Hook {
                kind: "createRuntime",
                index: 1,
                ..
            }
        ));
        assert_eq!(
            e.to_string(),
            "error running createRuntime hook #1: exit status 3, stdout: out, stderr: err"
        );
        assert!(!Path::new(&log).exists(), "hooks after a failure must not run");
    }

    #[test]
    fn hooks_missing_binary_is_a_go_style_exec_error() {
        let h = hook("/nonexistent/hook", &["hook"]);
        let e = run_hooks(HookKind::Prestart, &[h], &state()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "error running prestart hook #0: fork/exec /nonexistent/hook: no such file or directory"
        );
    }

    #[test]
    fn hooks_relative_path_is_not_searched_in_path() {
        // "true" exists in PATH, but execv semantics resolve it against the cwd.
        let h = hook("true", &["true"]);
        let e = run_hooks(HookKind::Prestart, &[h], &state()).unwrap_err();
        assert!(e.to_string().contains("no such file or directory"), "{e}");
    }

    #[test]
    fn hooks_killed_by_signal_says_so() {
        let e = run_hooks(HookKind::Poststart, &[sh("kill -9 $$")], &state()).unwrap_err();
        assert!(e.to_string().contains("signal: killed"), "{e}");
    }

    #[test]
    fn hooks_timeout_kills_the_hook() {
        // `; true` keeps sh from exec'ing sleep: the orphaned sleep still holds the pipes.
        let mut h = sh("sleep 5; true");
        h.set_timeout(Some(1));
        let t = Instant::now();
        let e = run_hooks(HookKind::Prestart, &[h], &state()).unwrap_err();
        assert!(t.elapsed() < Duration::from_secs(3), "took {:?}", t.elapsed());
        assert_eq!(
            e.to_string(),
            "error running prestart hook #0: hook ran past specified timeout of 1.0s"
        );
    }

    #[test]
    fn hooks_daemon_holding_stdout_does_not_block() {
        let t = Instant::now();
        let out = stdout_of(&sh("sleep 5 & echo started"), &state());
        assert_eq!(out, "started\n");
        assert!(t.elapsed() < Duration::from_secs(3), "took {:?}", t.elapsed());
    }

    #[test]
    fn hooks_large_state_unread_does_not_hang() {
        let mut ann = HashMap::new();
        ann.insert("big".to_string(), "x".repeat(4 << 20));
        let st = state_json("c1", 42, "created", Path::new("/b"), Some(&ann));
        let t = Instant::now();
        run_hooks(HookKind::Prestart, &[hook("/bin/true", &["true"])], &st).unwrap();
        assert!(t.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn hooks_output_is_bounded() {
        let h = sh("head -c 1000000 /dev/zero | tr '\\0' a; exit 1");
        let e = run_hooks(HookKind::Prestart, &[h], &state()).unwrap_err();
        let msg = e.to_string();
        assert!(msg.len() < CAPTURE_LIMIT + 200, "{}", msg.len());
        assert!(msg.contains("[truncated]"));
    }

    #[test]
    fn hooks_poststop_runs_all_and_collects_failures() {
        let dir = Scratch::new();
        let log = dir.file("log");
        let hooks = [
            hook("/bin/false", &["false"]),
            sh(&format!("echo a >> {log}")),
            hook("/nonexistent/hook", &["hook"]),
            sh(&format!("echo b >> {log}")),
        ];
        let errors = run_poststop(&hooks, &state());
        let indices: Vec<_> = errors
            .iter()
            .map(|e| match e {
                Error::Hook {
                    kind: "poststop",
                    index,
                    ..
                } => *index,
                other => panic!("unexpected {other}"),
            })
            .collect();
        assert_eq!(indices, [0, 2]);
        assert_eq!(
            errors[0].to_string(),
            "error running poststop hook #0: exit status 1, stdout: , stderr: "
        );
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "a\nb\n");
    }

    #[test]
    fn hooks_state_json_shape() {
        let st = state_json("c1", 42, "running", Path::new("/bundle"), None);
        assert_eq!(
            String::from_utf8(st).unwrap(),
            format!(
                r#"{{"ociVersion":"{}","id":"c1","status":"running","pid":42,"bundle":"/bundle"}}"#,
                crate::OCI_VERSION
            )
        );
        let mut ann = HashMap::new();
        ann.insert("b".to_string(), "2".to_string());
        ann.insert("a".to_string(), "1".to_string());
        let st = state_json("c1", 0, "stopped", Path::new("/bundle"), Some(&ann));
        let v: serde_json::Value = serde_json::from_slice(&st).unwrap();
        assert!(v.get("pid").is_none());
        assert_eq!(v["status"], "stopped");
        assert_eq!(v["annotations"]["a"], "1");
        assert!(String::from_utf8(st)
            .unwrap()
            .ends_with(r#""annotations":{"a":"1","b":"2"}}"#));
        let empty = HashMap::new();
        let st = state_json("c1", 1, "created", Path::new("/b"), Some(&empty));
        assert!(!String::from_utf8(st).unwrap().contains("annotations"));
    }
}
