//! The caller's side of the console-socket protocol (`cli-contract.md` §4): a listening
//! `AF_UNIX` socket, a receiver that reads the runtime's one message with `recvmsg(2)` and
//! reports exactly what arrived (data bytes, `SCM_RIGHTS` messages, fds), checks of the received
//! fd (pty master or not), and a proxy to talk to the container's shell through that master.
//!
//! The crate denies unsafe code, so a received fd stays a raw number (received with
//! `MSG_CMSG_CLOEXEC`, closed on drop): it is inspected through `/proc/self/fdinfo` and
//! `/proc/self/fd` (never reopened: reopening a `ptmx` would create a new pty) and used for I/O
//! by small `cat` children started with `posix_spawn(3)`, whose file actions `dup2` it onto their
//! stdin or stdout.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, IoSliceMut, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, UnixAddr};
use nix::sys::wait::waitpid;
use nix::unistd::{pipe2, Pid};

/// A listening console socket bound to a filesystem path (what go-runc and conmon create).
#[derive(Debug)]
pub struct ConsoleSocket {
    listener: UnixListener,
    path: PathBuf,
}

impl ConsoleSocket {
    /// Binds and listens on `path` (which must not exist).
    pub fn bind(path: &Path) -> io::Result<ConsoleSocket> {
        let listener = UnixListener::bind(path)?;
        Ok(ConsoleSocket {
            listener,
            path: path.to_path_buf(),
        })
    }

    /// The socket path as `&str` (test paths are UTF-8).
    pub fn path_str(&self) -> &str {
        self.path.to_str().expect("UTF-8 socket path")
    }

    /// Accepts a connection that is already pending in the listen backlog, without waiting:
    /// `Ok(None)` when nobody has connected. Use it after the runtime has exited (as go-runc
    /// does) to check that the runtime connected and sent before exiting.
    pub fn accept_pending(&self) -> io::Result<Option<UnixStream>> {
        self.listener.set_nonblocking(true)?;
        let r = self.listener.accept();
        self.listener.set_nonblocking(false)?;
        match r {
            Ok((s, _)) => {
                s.set_nonblocking(false)?;
                Ok(Some(s))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// An fd received through `SCM_RIGHTS` (close-on-exec; closed when dropped).
#[derive(Debug)]
pub struct ReceivedFd(RawFd);

impl ReceivedFd {
    /// The fd number in this process.
    pub fn raw(&self) -> RawFd {
        self.0
    }

    /// `tty-index` from `/proc/self/fdinfo/<fd>`: the kernel prints it only for a pty master
    /// (`ptmx`), and it is the `N` of the slave's `/dev/pts/N`.
    pub fn pty_index(&self) -> Option<u32> {
        let text = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", self.0)).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("tty-index:"))
            .and_then(|v| v.trim().parse().ok())
    }

    /// `(major, minor)` of the character device the fd refers to (stat through the
    /// `/proc/self/fd` link, without opening it); `None` for anything but a device.
    pub fn rdev(&self) -> Option<(u64, u64)> {
        let m = std::fs::metadata(format!("/proc/self/fd/{}", self.0)).ok()?;
        let rdev = m.rdev();
        (rdev != 0).then(|| (nix::sys::stat::major(rdev), nix::sys::stat::minor(rdev)))
    }

    /// `isatty(fd)`, answered by a child `sh -c 'test -t 0'` whose stdin is this fd.
    pub fn isatty(&self) -> io::Result<bool> {
        let pid = spawn(&["/bin/sh", "-c", "test -t 0"], &[(self.0, 0)])?;
        match waitpid(pid, None).map_err(io::Error::from)? {
            nix::sys::wait::WaitStatus::Exited(_, code) => Ok(code == 0),
            other => Err(io::Error::other(format!("`test -t 0` child ended with {other:?}"))),
        }
    }
}

impl Drop for ReceivedFd {
    fn drop(&mut self) {
        let _ = nix::unistd::close(self.0);
    }
}

/// Everything that arrived on one console-socket connection.
#[derive(Debug)]
pub struct ConsoleMessage {
    /// Data bytes of the first `recvmsg`.
    pub data: Vec<u8>,
    /// Number of `SOL_SOCKET`/`SCM_RIGHTS` control messages of the first `recvmsg`.
    pub scm_rights_messages: usize,
    /// The fds of those control messages.
    pub fds: Vec<ReceivedFd>,
    /// Other control messages of the first `recvmsg` (debug text).
    pub other_control_messages: Vec<String>,
    /// The kernel truncated the control data (`MSG_CTRUNC`: more fds than this receiver's room for 16).
    pub control_truncated: bool,
    /// Data bytes that arrived after the first message, until EOF.
    pub trailing_bytes: usize,
    /// Fds that arrived after the first message, until EOF (closed at once).
    pub trailing_fds: usize,
    /// The runtime closed the connection (EOF was read) within the time limit.
    pub eof: bool,
}

/// Reads the console message from an accepted connection: one `recvmsg` with room for 8 KiB of
/// data and 16 fds, then keeps reading until EOF (or `timeout`) to see whether anything else
/// was sent.
pub fn receive_console_message(stream: &UnixStream, timeout: Duration) -> io::Result<ConsoleMessage> {
    stream.set_read_timeout(Some(timeout))?;
    let fd = stream.as_raw_fd();
    let mut buf = vec![0u8; 8192];
    let mut cmsg_buf = nix::cmsg_space!([RawFd; 16]);
    let (data, scm, fds, other, ctrunc) = {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let msg = recvmsg::<UnixAddr>(fd, &mut iov, Some(&mut cmsg_buf), MsgFlags::MSG_CMSG_CLOEXEC)
            .map_err(io::Error::from)?;
        let bytes = msg.bytes;
        let ctrunc = msg.flags.contains(MsgFlags::MSG_CTRUNC);
        let mut scm = 0;
        let mut fds = Vec::new();
        let mut other = Vec::new();
        if let Ok(cmsgs) = msg.cmsgs() {
            for c in cmsgs {
                match c {
                    ControlMessageOwned::ScmRights(v) => {
                        scm += 1;
                        fds.extend(v.into_iter().map(ReceivedFd));
                    }
                    o => other.push(format!("{o:?}")),
                }
            }
        }
        (bytes, scm, fds, other, ctrunc)
    };
    buf.truncate(data);
    let mut out = ConsoleMessage {
        data: buf,
        scm_rights_messages: scm,
        fds,
        other_control_messages: other,
        control_truncated: ctrunc,
        trailing_bytes: 0,
        trailing_fds: 0,
        eof: data == 0,
    };
    let deadline = Instant::now() + timeout;
    while !out.eof && Instant::now() < deadline {
        let mut more = vec![0u8; 8192];
        let mut cbuf = nix::cmsg_space!([RawFd; 16]);
        let mut iov = [IoSliceMut::new(&mut more)];
        let msg = match recvmsg::<UnixAddr>(fd, &mut iov, Some(&mut cbuf), MsgFlags::MSG_CMSG_CLOEXEC) {
            Ok(m) => m,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break, // timeout or error: no EOF seen
        };
        if let Ok(cmsgs) = msg.cmsgs() {
            for c in cmsgs {
                if let ControlMessageOwned::ScmRights(v) = c {
                    out.trailing_fds += v.len();
                    drop(v.into_iter().map(ReceivedFd).collect::<Vec<_>>());
                }
            }
        }
        if msg.bytes == 0 {
            out.eof = true;
        }
        out.trailing_bytes += msg.bytes;
    }
    Ok(out)
}

/// Starts `argv` (absolute program path) with `posix_spawn`, `dup2`ing each `(from, to)` fd
/// pair first. Every other fd of this process is close-on-exec (Rust opens everything so).
fn spawn(argv: &[&str], dups: &[(RawFd, RawFd)]) -> io::Result<Pid> {
    let mut actions = nix::spawn::PosixSpawnFileActions::init().map_err(io::Error::from)?;
    for (from, to) in dups {
        actions.add_dup2(*from, *to).map_err(io::Error::from)?;
    }
    let attr = nix::spawn::PosixSpawnAttr::init().map_err(io::Error::from)?;
    let args: Vec<CString> = argv.iter().map(|a| CString::new(*a).expect("no NUL in argv")).collect();
    let env = [CString::new("PATH=/usr/sbin:/usr/bin:/sbin:/bin").expect("no NUL")];
    nix::spawn::posix_spawn(args[0].as_c_str(), &actions, &attr, &args, &env).map_err(io::Error::from)
}

/// Waits up to `timeout` for `fd` to become readable and reads once; `Ok(None)` on timeout,
/// `Ok(Some(empty))` at EOF.
pub fn read_with_timeout(fd: &OwnedFd, timeout: Duration) -> io::Result<Option<Vec<u8>>> {
    let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
    let mut pfd = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    loop {
        match poll(&mut pfd, PollTimeout::from(ms)) {
            Ok(0) => return Ok(None),
            Ok(_) => break,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let mut buf = vec![0u8; 4096];
    loop {
        match nix::unistd::read(fd, &mut buf) {
            Ok(n) => {
                buf.truncate(n);
                return Ok(Some(buf));
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(nix::errno::Errno::EIO) => return Ok(Some(Vec::new())), // a pty whose other side is gone
            Err(e) => return Err(e.into()),
        }
    }
}

/// Reads `fd` until EOF or until `timeout` passes; returns the bytes and whether EOF was seen.
pub fn read_until_eof(fd: &OwnedFd, timeout: Duration) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + timeout;
    let mut all = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (all, false);
        }
        match read_with_timeout(fd, left.min(Duration::from_millis(500))) {
            Ok(Some(b)) if b.is_empty() => return (all, true),
            Ok(Some(b)) => all.extend_from_slice(&b),
            Ok(None) => {}
            Err(_) => return (all, false),
        }
    }
}

/// Removes ANSI escape sequences (`ESC [ ... letter`, `ESC ] ... BEL`, other `ESC x`) and
/// carriage returns, so terminal output can be compared line by line.
pub fn strip_terminal_codes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\x1b' => match it.next() {
                Some('[') => {
                    for d in it.by_ref() {
                        if d.is_ascii_alphabetic() || d == '~' {
                            break;
                        }
                    }
                }
                Some(']') => {
                    for d in it.by_ref() {
                        if d == '\x07' {
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Talks to a container through a pty master: one `cat` child copies the master to a pipe this
/// process reads, another copies a pipe this process writes to the master. Both children are
/// killed (by pid) and reaped on drop.
#[derive(Debug)]
pub struct PtyProxy {
    input: Option<File>,
    output: OwnedFd,
    pids: Vec<Pid>,
    seen: Vec<u8>,
}

impl PtyProxy {
    /// Starts the two `cat` children on `master`.
    pub fn new(master: &ReceivedFd) -> io::Result<PtyProxy> {
        let (out_r, out_w) = pipe2(OFlag::O_CLOEXEC).map_err(io::Error::from)?;
        let (in_r, in_w) = pipe2(OFlag::O_CLOEXEC).map_err(io::Error::from)?;
        let reader = spawn(&["/bin/cat"], &[(master.raw(), 0), (out_w.as_raw_fd(), 1)])?;
        let mut proxy = PtyProxy {
            input: Some(File::from(in_w)),
            output: out_r,
            pids: vec![reader],
            seen: Vec::new(),
        };
        // On failure `proxy` is dropped, which kills and reaps the reader.
        let writer = spawn(&["/bin/cat"], &[(in_r.as_raw_fd(), 0), (master.raw(), 1)])?;
        proxy.pids.push(writer);
        Ok(proxy)
    }

    /// Writes `text` to the terminal (as if typed).
    pub fn send(&mut self, text: &str) -> io::Result<()> {
        let f = self
            .input
            .as_mut()
            .ok_or_else(|| io::Error::other("input already closed"))?;
        f.write_all(text.as_bytes())?;
        f.flush()
    }

    /// Reads terminal output until `done(everything read so far)` holds, EOF, or `timeout`;
    /// returns whether `done` held.
    pub fn read_until(&mut self, timeout: Duration, done: impl Fn(&str) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if done(&self.text()) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            match read_with_timeout(&self.output, left.min(Duration::from_millis(200))) {
                Ok(Some(b)) if b.is_empty() => return done(&self.text()),
                Ok(Some(b)) => self.seen.extend_from_slice(&b),
                Ok(None) => {}
                Err(_) => return done(&self.text()),
            }
        }
    }

    /// Everything read so far, raw (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.seen).into_owned()
    }

    /// Everything read so far as lines, with terminal codes and `\r` removed and surrounding
    /// blanks trimmed.
    pub fn lines(&self) -> Vec<String> {
        strip_terminal_codes(&self.text())
            .lines()
            .map(|l| l.trim().to_string())
            .collect()
    }
}

impl Drop for PtyProxy {
    fn drop(&mut self) {
        drop(self.input.take());
        for pid in &self.pids {
            // Our own children, not yet reaped: the pid cannot have been reused.
            let _ = kill(*pid, Signal::SIGKILL);
            let _ = waitpid(*pid, None);
        }
    }
}
