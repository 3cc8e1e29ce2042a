//! Every `unsafe` line of the crate lives here, each with the reason it is sound.
//!
//! The wrappers are small and typed: file descriptors are `OwnedFd`/`BorrowedFd`, strings are
//! `CStr`, and errors are `Errno`. Anything nix already wraps safely is used from nix directly
//! by the callers; this module only covers what nix does not (clone3, execve without
//! allocation, capset, close_range, pidfds, the init's signal handlers).
#![allow(unsafe_code)]

pub mod bpf;
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
    /// The child was born in the cgroup passed to [`spawn`].
    pub into_cgroup: bool,
}

/// clone3's flag for starting the child in a cgroup v2 directory (Linux 5.7). Not libc's
/// constant: libc 0.2 declares it as a c_int, which truncates the value to 0.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Create a child process with `clone3(flags)` (fork semantics: no new stack) and run `child`
/// in it; the child `_exit`s with the code `child` returns and never returns into the caller.
///
/// `flags` may hold `CLONE_NEW*` namespace flags, `CLONE_PARENT` and `CLONE_PIDFD`;
/// `exit_signal` is normally `SIGCHLD`. With `cgroup` (a cgroup v2 directory) the child is
/// born there (`CLONE_INTO_CGROUP`); if the kernel refuses that, the clone is retried
/// without it and [`Spawned::into_cgroup`] says so.
///
/// Contract for `child` (checked by review, not by types): when the calling process may be
/// multi-threaded (the C API), `child` must only make async-signal-safe calls: no allocation
/// and no lock that another thread of the parent could have held. The launch plan is
/// therefore built before this call and the child only reads it.
pub fn spawn<F: FnOnce() -> i32>(
    flags: u64,
    exit_signal: i32,
    cgroup: Option<BorrowedFd<'_>>,
    child: F,
) -> Result<Spawned, Errno> {
    let mut pidfd: RawFd = -1;
    let mut args = CloneArgs {
        flags,
        exit_signal: exit_signal as u64,
        ..Default::default()
    };
    if flags & (libc::CLONE_PIDFD as u64) != 0 {
        args.pidfd = &mut pidfd as *mut RawFd as u64;
    }
    if let Some(fd) = cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = fd.as_raw_fd() as u64;
    }
    // SAFETY: clone3 with stack == 0 behaves like fork(2): the child runs on a copy-on-write
    // copy of the caller's stack and address space. `args` is a valid, initialised
    // `clone_args` of the size we pass, and `pidfd` outlives the call. The child branch below
    // never returns: it runs `child` and leaves through `_exit`, so no Rust state is unwound
    // or dropped twice across the two processes.
    let clone3 = |args: &mut CloneArgs| unsafe {
        libc::syscall(
            libc::SYS_clone3,
            args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    let mut ret = clone3(&mut args);
    if ret < 0 && args.flags & CLONE_INTO_CGROUP != 0 {
        // An older kernel, or a directory it will not take this way: the caller joins the
        // child through cgroup.procs instead (which reports the real problem, if any).
        args.flags &= !CLONE_INTO_CGROUP;
        args.cgroup = 0;
        ret = clone3(&mut args);
    }
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
        into_cgroup: args.flags & CLONE_INTO_CGROUP != 0,
    })
}

// The credential calls below are raw system calls on purpose. glibc's wrappers of
// setresuid/setresgid/setgroups apply the change to every thread glibc knows of
// (`__nptl_setxid`, signalling each one and waiting for it). A child made with clone3 from
// a multi-threaded process (the C API inside Go or a shim) is single-threaded, but glibc's
// thread list still names the parent's threads, so the wrapper waits forever for threads
// that do not exist in the child. The raw calls change the calling thread, which is the
// whole process here.

/// setresuid(2) with all three ids set to `uid`, as a raw system call (see above).
pub fn setresuid(uid: nix::unistd::Uid) -> Result<(), Errno> {
    let u = uid.as_raw();
    // SAFETY: a system call with plain integer arguments.
    Errno::result(unsafe { libc::syscall(libc::SYS_setresuid, u, u, u) }).map(drop)
}

/// setresgid(2) with all three ids set to `gid`, as a raw system call (see above).
pub fn setresgid(gid: nix::unistd::Gid) -> Result<(), Errno> {
    let g = gid.as_raw();
    // SAFETY: a system call with plain integer arguments.
    Errno::result(unsafe { libc::syscall(libc::SYS_setresgid, g, g, g) }).map(drop)
}

/// setgroups(2) as a raw system call (see above).
pub fn setgroups(gids: &[libc::gid_t]) -> Result<(), Errno> {
    // SAFETY: the kernel reads `gids.len()` gid_t values from the pointer, all inside the slice.
    Errno::result(unsafe { libc::syscall(libc::SYS_setgroups, gids.len(), gids.as_ptr()) }).map(drop)
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

/// PR_SET_NAME: the calling thread's name (`comm`, at most 15 bytes; longer is cut).
pub fn set_comm(name: &std::ffi::CStr) -> Result<(), Errno> {
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes from the pointer;
    // `name` is NUL-terminated and outlives the call.
    let r = unsafe {
        libc::prctl(
            libc::PR_SET_NAME,
            name.as_ptr(),
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
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

/// Receive one message from a unix socket together with at most one descriptor passed with
/// SCM_RIGHTS (the container init hands over its seccomp listener this way). Returns the
/// payload length and the descriptor, if one came. A message carrying more descriptors than
/// expected has the extra ones closed.
pub fn recv_with_fd(sock: BorrowedFd<'_>, buf: &mut [u8]) -> Result<(usize, Option<OwnedFd>), Errno> {
    const SPACE: usize = 64; // room for CMSG_SPACE of a few ints
    #[repr(C, align(8))]
    struct Buf([u8; SPACE]);
    let mut cbuf = Buf([0; SPACE]);
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain data; zeroed is a valid "empty" value that we fill below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.0.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = SPACE;
    // SAFETY: msg points at a valid iovec over `buf` and a control buffer of SPACE bytes, all
    // alive for the call; MSG_CMSG_CLOEXEC makes any received descriptor close-on-exec.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
    let n = Errno::result(n)? as usize;
    let mut out: Option<OwnedFd> = None;
    // SAFETY: the kernel filled msg_control/msg_controllen; CMSG_FIRSTHDR/CMSG_NXTHDR walk
    // only inside that buffer, and each SCM_RIGHTS payload holds (cmsg_len - CMSG_LEN(0)) / 4
    // descriptors that were installed in this process for us, owned by nobody else.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(cmsg) as *const RawFd;
                let count = ((*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / std::mem::size_of::<RawFd>();
                for i in 0..count {
                    let fd = OwnedFd::from_raw_fd(std::ptr::read_unaligned(data.add(i)));
                    if out.is_none() {
                        out = Some(fd);
                    }
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((n, out))
}

/// PR_SET_DUMPABLE 0: the calling process's `/proc/<pid>` entries become root-owned and
/// `/proc/<pid>/exe`, `mem`, `fd/` need CAP_SYS_PTRACE in the user namespace the process
/// was created in (the host's), so a process in the container cannot open the runtime
/// binary through a child of the runtime that has not exec'd yet (CVE-2019-5736 class).
/// execve of the container's program makes it dumpable again.
pub fn set_not_dumpable() -> Result<(), Errno> {
    prctl(libc::PR_SET_DUMPABLE, 0, 0)
}

/// Where a command started by [`enter_before_exec`] goes between fork and exec.
#[derive(Debug, Default)]
pub struct Entry {
    /// `tasks` (v1) or `cgroup.procs` (v2) files, opened for writing, that the child moves
    /// itself into.
    pub cgroup_files: Vec<OwnedFd>,
    /// Namespaces to join, in order (the user namespace first).
    pub namespaces: Vec<(OwnedFd, nix::sched::CloneFlags)>,
    /// Become uid/gid 0 after joining (a joined user namespace maps its root, not ours).
    pub become_root: bool,
    /// Directory to change to after joining the mount namespace.
    pub cwd: Option<std::ffi::CString>,
}

/// Make `cmd`'s child join `entry` (cgroups, then namespaces, ids, cwd) right before it
/// execs. A failure makes `spawn` fail with that error.
pub fn enter_before_exec(cmd: &mut std::process::Command, entry: Entry) {
    use std::os::fd::AsFd;
    use std::os::unix::process::CommandExt;
    let entry = std::sync::Arc::new(entry);
    let hook = move || -> std::io::Result<()> {
        for f in &entry.cgroup_files {
            // "0" is the writing process itself, in v1 and v2.
            nix::unistd::write(f.as_fd(), b"0")?;
        }
        for (fd, flag) in &entry.namespaces {
            nix::sched::setns(fd.as_fd(), *flag)?;
        }
        if entry.become_root {
            let (u, g) = (nix::unistd::Uid::from_raw(0), nix::unistd::Gid::from_raw(0));
            nix::unistd::setresgid(g, g, g)?;
            nix::unistd::setresuid(u, u, u)?;
        }
        if let Some(d) = &entry.cwd {
            nix::unistd::chdir(d.as_c_str())?;
        }
        Ok(())
    };
    // SAFETY: the closure runs in the forked child before exec. It only makes the raw
    // system calls write(2), setns(2), setresgid/setresuid(2) and chdir(2) on data prepared
    // before the fork (fds and a C string owned by the Arc); it neither allocates nor takes
    // a lock, so it is async-signal-safe even when the parent is multi-threaded.
    unsafe {
        cmd.pre_exec(hook);
    }
}

/// ioprio_set(IOPRIO_WHO_PROCESS, 0, value): the calling process's I/O priority.
pub fn ioprio_set(value: u32) -> Result<(), Errno> {
    // SAFETY: ioprio_set takes three integers; no memory is passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_ioprio_set,
            1, /* IOPRIO_WHO_PROCESS */
            0,
            value as libc::c_long,
        )
    };
    Errno::result(r).map(drop)
}

/// sched_setattr(0, attr, 0): the calling thread's scheduling policy.
pub fn sched_setattr(attr: &crate::procattr::SchedAttr) -> Result<(), Errno> {
    // SAFETY: `attr` is a valid, initialised `struct sched_attr` (repr(C), its `size` field
    // says how much of it the kernel reads) that outlives the call; the kernel only reads it.
    let r = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, attr as *const _, 0) };
    Errno::result(r).map(drop)
}

/// personality(2) with a persona value.
pub fn set_personality(persona: u64) -> Result<(), Errno> {
    // SAFETY: personality takes one integer and touches no memory of ours.
    let r = unsafe { libc::personality(persona as libc::c_ulong) };
    Errno::result(r).map(drop)
}

/// set_mempolicy(mode, nodemask, maxnode).
pub fn set_mempolicy(p: &crate::procattr::MemPolicy) -> Result<(), Errno> {
    let mask = if p.nodemask.is_empty() {
        std::ptr::null()
    } else {
        p.nodemask.as_ptr()
    };
    // SAFETY: `mask` is null or points to `nodemask`, whose length in bits is at least
    // `maxnode - 1` (built together in procattr::mem_policy); the kernel only reads it.
    let r = unsafe { libc::syscall(libc::SYS_set_mempolicy, p.mode as libc::c_long, mask, p.maxnode) };
    Errno::result(r).map(drop)
}

/// Take ownership of a descriptor the kernel just installed in this process (SCM_RIGHTS).
pub fn own_received_fd(fd: RawFd) -> OwnedFd {
    // SAFETY: the caller got `fd` from a received SCM_RIGHTS message: it is open, owned by
    // nobody else in this process, and is closed exactly once by the returned OwnedFd.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// The window size (rows, columns) of the terminal `fd` (TIOCGWINSZ).
pub fn get_winsize(fd: BorrowedFd<'_>) -> Result<(u16, u16), Errno> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a winsize into the valid, writable pointer we pass.
    Errno::result(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) })?;
    Ok((ws.ws_row, ws.ws_col))
}

/// `struct mount_attr` of mount_setattr(2).
#[repr(C)]
#[derive(Default)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

const OPEN_TREE_CLONE: libc::c_uint = 1;
const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;

/// open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC [| AT_RECURSIVE]): a
/// detached copy of the mount (tree) at `path`.
pub fn open_tree_clone(path: &CStr, recursive: bool) -> Result<OwnedFd, Errno> {
    let mut flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    // SAFETY: `path` is a valid NUL-terminated string for the duration of the call.
    let fd = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, path.as_ptr(), flags) };
    let fd = Errno::result(fd)? as RawFd;
    // SAFETY: open_tree returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// mount_setattr(tree, "", AT_EMPTY_PATH [| AT_RECURSIVE], MOUNT_ATTR_IDMAP with `userns`):
/// make the detached mount `tree` an id-mapped mount.
pub fn mount_set_idmap(tree: BorrowedFd<'_>, userns: BorrowedFd<'_>, recursive: bool) -> Result<(), Errno> {
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_IDMAP,
        userns_fd: userns.as_raw_fd() as u64,
        ..Default::default()
    };
    let mut flags = libc::AT_EMPTY_PATH as libc::c_uint;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    // SAFETY: the empty path is a valid C string, `attr` is a valid mount_attr whose size
    // we pass; the kernel only reads them.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    Errno::result(r).map(drop)
}

/// move_mount(tree, "", target, "", F_EMPTY_PATH | T_EMPTY_PATH): attach a detached mount
/// on the directory (or file) that `target` names.
pub fn move_mount_to(tree: BorrowedFd<'_>, target: BorrowedFd<'_>) -> Result<(), Errno> {
    const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
    // SAFETY: the empty paths are valid C strings; the fds are borrowed for the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            target.as_raw_fd(),
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    Errno::result(r).map(drop)
}

/// fd 0, 1 or 2 as a borrowed descriptor, without touching `std::io::stdin()` and friends:
/// their first use initialises buffered state (a heap allocation), which a child cloned from
/// a multi-threaded process must not do (another thread may hold the allocator's lock).
pub fn stdio_fd(n: RawFd) -> BorrowedFd<'static> {
    debug_assert!((0..=2).contains(&n));
    // SAFETY: fds 0-2 are never closed by this crate; if one is not open, calls on it fail
    // with EBADF, which every caller tolerates. Nothing takes ownership of it.
    unsafe { BorrowedFd::borrow_raw(n) }
}
