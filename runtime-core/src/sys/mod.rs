//! Every `unsafe` line of the crate lives here, each with the reason it is sound.
//!
//! The wrappers are small and typed: file descriptors are `OwnedFd`/`BorrowedFd`, strings are
//! `CStr`, and errors are `Errno`. Anything nix already wraps safely is used from nix directly
//! by the callers; this module only covers what nix does not (clone3, execve without
//! allocation, capset, close_range, pidfds, the init's signal handlers).
#![allow(unsafe_code)]

pub mod seccomp;

use std::ffi::{c_char, CStr};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::unistd::Pid;

/// `clone_args` of clone3(2), as the kernel defines it (version 2, 88 bytes).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// What [`spawn`] returns to the parent.
#[derive(Debug)]
pub struct Spawned {
    pub pid: Pid,
    /// A pidfd for the child, when `CLONE_PIDFD` could be used.
    pub pidfd: Option<OwnedFd>,
}

/// Create a child process with `clone3(flags)` (fork semantics: no new stack) and run `child`
/// in it; the child `_exit`s with the code `child` returns and never returns into the caller.
///
/// `flags` may hold `CLONE_NEW*` namespace flags, `CLONE_PARENT` and `CLONE_PIDFD`;
/// `exit_signal` is normally `SIGCHLD`.
///
/// Contract for `child` (checked by review, not by types): when the calling process may be
/// multi-threaded (the C API), `child` must only make async-signal-safe calls: no allocation
/// and no lock that another thread of the parent could have held. The launch plan is
/// therefore built before this call and the child only reads it.
pub fn spawn<F: FnOnce() -> i32>(flags: u64, exit_signal: i32, child: F) -> Result<Spawned, Errno> {
    let mut pidfd: RawFd = -1;
    let mut args = CloneArgs {
        flags,
        exit_signal: exit_signal as u64,
        ..Default::default()
    };
    if flags & (libc::CLONE_PIDFD as u64) != 0 {
        args.pidfd = &mut pidfd as *mut RawFd as u64;
    }
    // SAFETY: clone3 with stack == 0 behaves like fork(2): the child runs on a copy-on-write
    // copy of the caller's stack and address space. `args` is a valid, initialised
    // `clone_args` of the size we pass, and `pidfd` outlives the call. The child branch below
    // never returns: it runs `child` and leaves through `_exit`, so no Rust state is unwound
    // or dropped twice across the two processes.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    if ret == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(127);
        exit_now(code);
    }
    let pidfd = if pidfd >= 0 {
        // SAFETY: the kernel stored a new file descriptor in `pidfd`; nobody else owns it.
        Some(unsafe { OwnedFd::from_raw_fd(pidfd) })
    } else {
        None
    };
    Ok(Spawned {
        pid: Pid::from_raw(ret as i32),
        pidfd,
    })
}

/// `_exit(2)`: leave the process now, running no destructors or atexit handlers (what a
/// forked child must do).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` is async-signal-safe and takes no pointers.
    unsafe { libc::_exit(code) }
}

/// A NULL-terminated array of C string pointers for execve(2), built before the fork so that
/// the child does not allocate. The pointed-to strings are owned by `_owned`.
#[derive(Debug)]
pub struct CStrArray {
    _owned: Vec<std::ffi::CString>,
    ptrs: Vec<*const c_char>,
}

// SAFETY: the raw pointers point into `_owned`, which moves with the struct and is never
// mutated; sharing or sending the array is as safe as sharing the `CString`s themselves.
unsafe impl Send for CStrArray {}
// SAFETY: see above; the array is read-only after construction.
unsafe impl Sync for CStrArray {}

impl CStrArray {
    pub fn new(items: Vec<std::ffi::CString>) -> Self {
        let mut ptrs: Vec<*const c_char> = items.iter().map(|s| s.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        CStrArray { _owned: items, ptrs }
    }
}

/// execve(2) with prebuilt argument and environment arrays; returns only on failure.
pub fn execve(path: &CStr, argv: &CStrArray, envp: &CStrArray) -> Errno {
    // SAFETY: `path` is a valid C string; `argv.ptrs` and `envp.ptrs` are NULL-terminated
    // arrays of pointers to valid C strings owned by the arrays, alive for the call.
    unsafe { libc::execve(path.as_ptr(), argv.ptrs.as_ptr(), envp.ptrs.as_ptr()) };
    Errno::last()
}

/// In a forked child (before exec): close this process's copies of descriptors that belong
/// to the parent alone (its end of the socket pair, the state directory lock). Held by the
/// child, they would outlive a parent that dies mid-way: the child would never see the
/// socket close, and the container's lock would never be released.
pub fn close_parent_fds(fds: &[RawFd]) {
    for &fd in fds {
        // SAFETY: called only in the child of `spawn`, which leaves through `_exit` or
        // `execve` and never drops the parent's `OwnedFd` values (they live on in the
        // parent's copy of memory only). Closing the child's copy of the descriptor does not
        // affect the parent's; close(2) is async-signal-safe.
        unsafe { libc::close(fd) };
    }
}

/// Mark every fd from `first` upwards close-on-exec (close_range with CLOSE_RANGE_CLOEXEC).
pub fn cloexec_from(first: u32) -> Result<(), Errno> {
    // SAFETY: close_range takes plain integers; CLOSE_RANGE_CLOEXEC only sets flags and closes
    // nothing, so no OwnedFd of this process is invalidated.
    let r = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// setdomainname(2).
pub fn set_domainname(name: &[u8]) -> Result<(), Errno> {
    // SAFETY: the pointer and length describe the `name` slice, which is alive for the call.
    let r = unsafe { libc::setdomainname(name.as_ptr() as *const c_char, name.len()) };
    Errno::result(r).map(drop)
}

/// The three capability sets of capset(2), as 64-bit masks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapSets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

/// capset(2) for the calling thread (version 3, 64-bit sets).
pub fn capset(sets: CapSets) -> Result<(), Errno> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut header = Header {
        version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
        pid: 0,
    };
    let data = [
        Data {
            effective: sets.effective as u32,
            permitted: sets.permitted as u32,
            inheritable: sets.inheritable as u32,
        },
        Data {
            effective: (sets.effective >> 32) as u32,
            permitted: (sets.permitted >> 32) as u32,
            inheritable: (sets.inheritable >> 32) as u32,
        },
    ];
    // SAFETY: header and data have the layout capset(2) expects for version 3 (one header,
    // two data elements) and live for the duration of the call.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut header as *mut Header, data.as_ptr()) };
    Errno::result(r).map(drop)
}

fn prctl(op: libc::c_int, a: libc::c_ulong, b: libc::c_ulong) -> Result<(), Errno> {
    // SAFETY: the prctl operations used here (capability bounding set and ambient set) take
    // integer arguments only.
    let r = unsafe { libc::prctl(op, a, b, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    Errno::result(r).map(drop)
}

/// Drop one capability from the bounding set (PR_CAPBSET_DROP). EINVAL (a capability this
/// kernel does not know) is not an error.
pub fn capbset_drop(cap: u32) -> Result<(), Errno> {
    match prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0) {
        Err(Errno::EINVAL) => Ok(()),
        r => r,
    }
}

/// Raise one capability in the ambient set.
pub fn ambient_raise(cap: u32) -> Result<(), Errno> {
    prctl(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
        cap as libc::c_ulong,
    )
}

/// Clear the ambient set.
pub fn ambient_clear() -> Result<(), Errno> {
    prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong, 0)
}

/// The highest capability number this kernel knows (from /proc/sys/kernel/cap_last_cap),
/// read before the fork.
pub fn cap_last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

/// pidfd_open(2).
pub fn pidfd_open(pid: Pid) -> Result<OwnedFd, Errno> {
    // SAFETY: integer arguments only; on success the return value is a new fd we own.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if r < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) })
}

/// pidfd_send_signal(2).
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, sig: i32) -> Result<(), Errno> {
    // SAFETY: a valid borrowed fd, an integer signal and a NULL siginfo (allowed by the API).
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    Errno::result(r).map(drop)
}

extern "C" fn exit_on_signal(sig: libc::c_int) {
    // Async-signal-safe: only _exit.
    exit_now(128 + sig)
}

/// Install, in the waiting container init, a handler that exits with `128 + signal` for every
/// signal whose default action would terminate a process. Needed because pid 1 of a pid
/// namespace ignores signals it has no handler for; `execve` resets handlers to the default,
/// so the user program is unaffected.
pub fn install_exit_handlers() {
    const SIGNALS: [libc::c_int; 14] = [
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGQUIT,
        libc::SIGTERM,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGALRM,
        libc::SIGPIPE,
        libc::SIGVTALRM,
        libc::SIGPROF,
        libc::SIGXCPU,
        libc::SIGXFSZ,
        libc::SIGIO,
        libc::SIGPWR,
    ];
    for sig in SIGNALS {
        // SAFETY: sigaction with a zeroed struct, an `extern "C"` handler that only calls the
        // async-signal-safe `_exit`, and an empty mask; the pointers are valid for the call.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = exit_on_signal as *const () as usize;
            libc::sigemptyset(&mut act.sa_mask);
            libc::sigaction(sig, &act, std::ptr::null_mut());
        }
    }
}

/// Reset the signal mask to empty and every signal disposition to the default (except
/// SIGKILL/SIGSTOP, which cannot be changed), so that the container's program starts clean.
pub fn reset_signals() {
    // SAFETY: sigprocmask with a valid empty set; signal(2) with SIG_DFL for plain integers.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        for sig in 1..32 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
    }
}

/// Block every signal in the calling thread and return the previous mask, so that a
/// foreground `run` can forward signals from a signalfd-free loop (`sigtimedwait`).
pub fn block_all_signals() -> libc::sigset_t {
    // SAFETY: valid sigset pointers for the duration of the call.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        old
    }
}

/// Restore a signal mask saved by [`block_all_signals`].
pub fn restore_signal_mask(old: &libc::sigset_t) {
    // SAFETY: `old` is a valid sigset obtained from pthread_sigmask.
    unsafe {
        libc::pthread_sigmask(libc::SIG_SETMASK, old, std::ptr::null_mut());
    }
}

/// Wait up to `timeout_ms` for any blocked signal; returns its number, or None on timeout.
pub fn wait_signal(timeout_ms: u64) -> Option<i32> {
    // SAFETY: valid sigset and timespec pointers for the duration of the call; a NULL siginfo
    // pointer is allowed.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        let ts = libc::timespec {
            tv_sec: (timeout_ms / 1000) as libc::time_t,
            tv_nsec: ((timeout_ms % 1000) * 1_000_000) as libc::c_long,
        };
        let r = libc::sigtimedwait(&all, std::ptr::null_mut(), &ts);
        if r > 0 {
            Some(r)
        } else {
            None
        }
    }
}

/// Start a new session keyring for the calling process (keyctl JOIN_SESSION_KEYRING), so the
/// container does not share the caller's keys. EPERM/ENOSYS (keyrings blocked, e.g. by a
/// seccomp policy around us) are tolerated as runc does.
pub fn join_session_keyring(name: &CStr) -> Result<(), Errno> {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_int = 1;
    // SAFETY: keyctl with an operation code and a valid C string pointer.
    let r = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.as_ptr()) };
    match Errno::result(r) {
        Ok(_) | Err(Errno::ENOSYS) | Err(Errno::EPERM) => Ok(()),
        Err(e) => Err(e),
    }
}

/// umask(2).
pub fn set_umask(mask: u32) {
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(mask));
}

/// Clear FD_CLOEXEC on a descriptor handed to the container (`--preserve-fds`).
pub fn clear_cloexec(fd: RawFd) {
    // SAFETY: fcntl(F_SETFD) on an integer descriptor only changes its flags; an invalid fd
    // yields EBADF, which is ignored.
    unsafe {
        libc::fcntl(fd, libc::F_SETFD, 0);
    }
}

/// setrlimit(2).
pub fn setrlimit(res: libc::__rlimit_resource_t, lim: &libc::rlimit) -> Result<(), Errno> {
    // SAFETY: `lim` is a valid rlimit for the duration of the call.
    let r = unsafe { libc::setrlimit(res, lim) };
    Errno::result(r).map(drop)
}

/// Unlock a pty master (TIOCSPTLCK 0) and open its peer (TIOCGPTPEER), the slave, without
/// a path lookup (the slave cannot be swapped under us).
pub fn pty_peer(master: BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int from the valid pointer we pass.
    Errno::result(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) })?;
    // SAFETY: TIOCGPTPEER takes open flags as its integer argument and returns a new fd.
    let fd = unsafe {
        libc::ioctl(
            master.as_raw_fd(),
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    let fd = Errno::result(fd)?;
    // SAFETY: the kernel returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Set a terminal's window size (TIOCSWINSZ).
pub fn set_winsize(fd: BorrowedFd<'_>, rows: u16, cols: u16) -> Result<(), Errno> {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize from the valid pointer we pass.
    Errno::result(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) }).map(drop)
}

/// Make `fd` the controlling terminal of the calling session leader (TIOCSCTTY).
pub fn set_controlling_tty(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    // SAFETY: TIOCSCTTY takes an integer argument (0: do not steal).
    Errno::result(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSCTTY, 0) }).map(drop)
}

/// dup2(2) onto one of the standard descriptors 0, 1, 2.
pub fn dup_to_stdio(fd: BorrowedFd<'_>, target: RawFd) -> Result<(), Errno> {
    assert!((0..=2).contains(&target), "only stdio targets");
    // SAFETY: dup2 on a valid fd to 0..=2; those are owned by the process, not by any
    // OwnedFd in this program, so replacing them invalidates nothing.
    Errno::result(unsafe { libc::dup2(fd.as_raw_fd(), target) }).map(drop)
}

/// Send one file descriptor over a connected unix socket with SCM_RIGHTS and a short,
/// non-empty payload, in one sendmsg, without allocating (the console-socket protocol).
pub fn send_fd(sock: BorrowedFd<'_>, fd: BorrowedFd<'_>, payload: &[u8]) -> Result<(), Errno> {
    const SPACE: usize = 24; // CMSG_SPACE(sizeof(int)) on 64-bit Linux
    #[repr(C, align(8))]
    struct Buf([u8; SPACE]);
    let mut cbuf = Buf([0; SPACE]);
    let mut iov = libc::iovec {
        iov_base: payload.as_ptr() as *mut libc::c_void,
        iov_len: payload.len(),
    };
    // SAFETY: msghdr is plain data; zeroed is a valid "empty" value that we fill below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.0.as_mut_ptr() as *mut libc::c_void;
    // SAFETY: CMSG_SPACE is a pure computation on an integer.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
    debug_assert!(msg.msg_controllen <= SPACE);
    // SAFETY: msg_control points at an aligned buffer of msg_controllen bytes, so the
    // first header and its data lie inside it; we write one header and one int.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut RawFd, fd.as_raw_fd());
    }
    // SAFETY: msg and everything it points to (iov, payload, cbuf) are alive for the call.
    let r = unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
    Errno::result(r).map(drop)
}

/// Close a descriptor this process holds only as a borrowed copy (a forked child closing
/// what its parent still owns). The caller must not use the fd afterwards.
pub fn close_fd(fd: RawFd) {
    // SAFETY: closes the child's copy of a descriptor inherited across clone; the parent's
    // copy (and its OwnedFd) is unaffected, and the child does not use the fd again.
    unsafe {
        libc::close(fd);
    }
}
