//! A foreground `run` or `exec` with a terminal and no `--console-socket` (runc's behaviour,
//! `cli-contract.md` §4): the runtime acts as its own console socket, receives the pty
//! master, puts the caller's terminal in raw mode, copies the caller's stdin to the master
//! and the master to the caller's stdout, follows window-size changes, forwards signals to
//! the process, and restores the terminal when the process exits.

use std::io::{self, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::socket::{recvmsg, socketpair, AddressFamily, ControlMessageOwned, MsgFlags, SockFlag, SockType};
use nix::sys::termios::{self, SetArg, Termios};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::error::{Error, Result};

/// A connected socket pair: `ours` receives the master, `theirs` is given to the child as
/// if it were a connection to a console socket.
pub(crate) fn pair() -> Result<(OwnedFd, OwnedFd)> {
    socketpair(AddressFamily::Unix, SockType::Stream, None, SockFlag::SOCK_CLOEXEC)
        .map_err(|e| Error::sys("socketpair for the terminal", e))
}

/// Receive the pty master the child sent over `sock` (SCM_RIGHTS).
pub(crate) fn receive_master(sock: BorrowedFd<'_>) -> Result<OwnedFd> {
    let mut buf = [0u8; 256];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(sock.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
        .map_err(|e| Error::sys("receiving the terminal", e))?;
    for c in msg.cmsgs().map_err(|e| Error::sys("receiving the terminal", e))? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            if let Some(&fd) = fds.first() {
                return Ok(crate::sys::own_received_fd(fd));
            }
        }
    }
    Err(Error::sys("receiving the terminal: no descriptor", Errno::EPROTO))
}

/// The caller's terminal in raw mode until dropped.
struct RawMode {
    saved: Option<Termios>,
}

impl RawMode {
    fn enter() -> RawMode {
        let stdin = io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).ok();
        if let Some(t) = &saved {
            let mut raw = t.clone();
            termios::cfmakeraw(&mut raw);
            let _ = termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw);
        }
        RawMode { saved }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(t) = &self.saved {
            let _ = termios::tcsetattr(io::stdin().as_fd(), SetArg::TCSANOW, t);
        }
    }
}

fn copy_winsize(master: BorrowedFd<'_>) {
    if let Ok((rows, cols)) = crate::sys::get_winsize(io::stdin().as_fd()) {
        let _ = crate::sys::set_winsize(master, rows, cols);
    }
}

fn write_all(fd: BorrowedFd<'_>, mut data: &[u8]) -> bool {
    while !data.is_empty() {
        match nix::unistd::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(Errno::EINTR) | Err(Errno::EAGAIN) => continue,
            Err(_) => return false,
        }
    }
    true
}

/// Proxy the terminal until `pid` (a child of this process) exits; returns its exit code
/// (128 + signal when killed). The caller's terminal is restored on return.
pub(crate) fn proxy_until_exit(master: OwnedFd, pid: Pid) -> i32 {
    let old = crate::sys::block_all_signals();
    let sigfd = SignalFd::with_flags(&SigSet::all(), SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK).ok();
    let raw = RawMode::enter();
    copy_winsize(master.as_fd());
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut stdin_open = true;
    let mut master_open = true;
    let mut code = None;
    let mut buf = [0u8; 8192];
    while code.is_none() || master_open {
        if code.is_some() {
            // The process is gone: drain what it wrote, without waiting for other holders
            // of the slave (a daemon it left behind) to close it.
            match nix::unistd::read(master.as_fd(), &mut buf) {
                Ok(n) if n > 0 && write_all(stdout.as_fd(), &buf[..n]) => continue,
                _ => break,
            }
        }
        // Poll order: signals, master, stdin (the last two only while open).
        let mut fds = Vec::with_capacity(3);
        if let Some(s) = &sigfd {
            fds.push(PollFd::new(s.as_fd(), PollFlags::POLLIN));
        }
        let master_at = master_open.then(|| {
            fds.push(PollFd::new(master.as_fd(), PollFlags::POLLIN));
            fds.len() - 1
        });
        let stdin_at = stdin_open.then(|| {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
            fds.len() - 1
        });
        let timeout = if sigfd.is_some() {
            PollTimeout::NONE
        } else {
            PollTimeout::from(100u16)
        };
        match poll(&mut fds, timeout) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => break,
        }
        let ready = |i: Option<usize>| {
            i.and_then(|i| fds.get(i))
                .and_then(|f| f.revents())
                .is_some_and(|r| r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR))
        };
        let sig_ready = sigfd.is_some() && ready(Some(0));
        let (master_ready, stdin_ready) = (ready(master_at), ready(stdin_at));
        drop(fds);
        if master_ready {
            match nix::unistd::read(master.as_fd(), &mut buf) {
                Ok(n) if n > 0 => {
                    let _ = write_all(stdout.as_fd(), &buf[..n]);
                }
                Err(Errno::EINTR) | Err(Errno::EAGAIN) => {}
                // EOF or EIO: every slave descriptor is closed.
                _ => master_open = false,
            }
        }
        if stdin_ready {
            match nix::unistd::read(stdin.as_fd(), &mut buf) {
                Ok(n) if n > 0 => {
                    let _ = write_all(master.as_fd(), &buf[..n]);
                }
                Err(Errno::EINTR) | Err(Errno::EAGAIN) => {}
                _ => stdin_open = false,
            }
        }
        if sig_ready || sigfd.is_none() {
            while let Some(sig) = sigfd.as_ref().and_then(|s| s.read_signal().ok().flatten()) {
                match sig.ssi_signo as i32 {
                    libc::SIGCHLD | libc::SIGURG => {}
                    libc::SIGWINCH => copy_winsize(master.as_fd()),
                    s => {
                        if let Ok(s) = Signal::try_from(s) {
                            let _ = nix::sys::signal::kill(pid, s);
                        }
                    }
                }
            }
        }
        // Reap everything (we may be a subreaper); the process's status is the answer.
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(p, c)) if p == pid => code = Some(c),
                Ok(WaitStatus::Signaled(p, s, _)) if p == pid => code = Some(128 + s as i32),
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(_) => continue,
            }
        }
        if code.is_some() {
            let _ = nix::fcntl::fcntl(
                master.as_fd(),
                nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
            );
        }
    }
    drop(raw);
    crate::sys::restore_signal_mask(&old);
    code.unwrap_or(255)
}
