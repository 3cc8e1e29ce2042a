//! The unsafe half of seccomp: install a BPF program exported by libseccomp with seccomp(2).
//!
//! Called by the container's init between clone and execve, so nothing here allocates or
//! touches libseccomp: the program was compiled in the parent (see `crate::seccomp`).
#![allow(unsafe_code)]

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;

/// Size of one `struct sock_filter` (u16 code, u8 jt, u8 jf, u32 k).
pub const BPF_INSN_LEN: usize = 8;

/// `BPF_MAXINSNS`: the kernel rejects longer seccomp programs with EINVAL.
pub const BPF_MAXINSNS: usize = 4096;

/// `SECCOMP_FILTER_FLAG_NEW_LISTENER`: seccomp(2) then returns a notification listener fd.
pub const SECCOMP_FILTER_FLAG_NEW_LISTENER: u32 = libc::SECCOMP_FILTER_FLAG_NEW_LISTENER as u32;

/// `struct sock_fprog` of linux/filter.h.
#[repr(C)]
struct SockFprog {
    len: libc::c_ushort,
    filter: *const u8,
}

/// seccomp(SECCOMP_SET_MODE_FILTER, flags, prog) for the calling thread.
///
/// `bpf` is an array of `struct sock_filter` in native byte order, as written by
/// `seccomp_export_bpf(3)`. When `flags` holds `SECCOMP_FILTER_FLAG_NEW_LISTENER` the kernel
/// returns the notification listener, which is handed back as an `OwnedFd`.
///
/// Async-signal-safe: one system call, no allocation. The caller must have set
/// `no_new_privs` (or hold `CAP_SYS_ADMIN`), or the kernel answers EACCES.
pub fn seccomp_set_mode_filter(bpf: &[u8], flags: u32) -> Result<Option<OwnedFd>, Errno> {
    if bpf.is_empty() || bpf.len() % BPF_INSN_LEN != 0 {
        return Err(Errno::EINVAL);
    }
    let len = libc::c_ushort::try_from(bpf.len() / BPF_INSN_LEN).map_err(|_| Errno::EINVAL)?;
    let prog = SockFprog {
        len,
        filter: bpf.as_ptr(),
    };
    // SAFETY: `prog` is a valid `sock_fprog` whose `filter` points at `len` complete
    // 8-byte instructions inside `bpf`, which outlives the call. The kernel copies the program
    // with copy_from_user, so the byte buffer's alignment does not matter, and it neither
    // keeps nor writes through the pointer. The other arguments are plain integers.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::c_ulong::from(flags),
            &prog as *const SockFprog,
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    if flags & SECCOMP_FILTER_FLAG_NEW_LISTENER == 0 {
        return Ok(None);
    }
    // SAFETY: with NEW_LISTENER, a successful seccomp(2) returns a new file descriptor (the
    // listener) that nothing else in this process owns.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(r as RawFd) }))
}

/// Test helper: fork, run `child` in the child and `_exit` with its return value; the parent
/// waits and returns the exit code (128 + signal number when the child was killed).
///
/// The test harness is multi-threaded, so `child` must only make async-signal-safe calls
/// (no allocation): the same contract as the container init.
#[cfg(test)]
pub(crate) fn fork_and_wait<F: FnOnce() -> i32>(child: F) -> Result<i32, Errno> {
    use nix::sys::wait::{waitpid, WaitStatus};
    use nix::unistd::{fork, ForkResult};

    // SAFETY: the child branch runs only `child` (async-signal-safe by contract) and leaves
    // with `_exit`, never returning into the test harness, so no state is unwound or dropped
    // twice across the two processes.
    match unsafe { fork() }? {
        ForkResult::Child => {
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(127);
            // SAFETY: `_exit` is async-signal-safe and takes no pointers.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => loop {
            match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => return Ok(code),
                Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(128 + sig as i32),
                Ok(_) | Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
            }
        },
    }
}
