//! What runs in the forked children: the optional intermediate of a two-stage spawn, and the
//! container's init, as named stages that end in `execve` or in an error report to the parent.
//! Nothing here allocates or takes a lock (the plan was built before the fork).
// Child-side errors are fixed-size values on purpose: the forked child must not allocate,
// so they cannot be boxed.
#![allow(clippy::result_large_err, clippy::large_enum_variant)]

use std::convert::Infallible;
use std::fmt::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::sys::socket::MsgFlags;
use nix::unistd::{Gid, Uid};

use crate::plan::{LaunchPlan, ProcessPlan, SpawnMode};
use crate::protocol::{ChildMsg, ParentMsg, Stage, MAX_MSG};
use crate::rootfs::{child_err, ChildError};
use crate::sys;

/// The fds a child works with.
#[derive(Clone, Copy)]
pub(crate) struct ChildFds<'a> {
    pub sock: BorrowedFd<'a>,
    pub fifo: BorrowedFd<'a>,
    /// The caller's console socket, connected, when the process has a terminal.
    pub console: Option<BorrowedFd<'a>>,
    /// Descriptors to make the process's stdin, stdout and stderr.
    pub stdio: Option<[BorrowedFd<'a>; 3]>,
    /// The cgroups the first child moves itself into.
    pub cgroup: &'a crate::cgroups::Entry,
}

pub(crate) fn send(sock: BorrowedFd<'_>, msg: ChildMsg) {
    let mut buf = [0u8; MAX_MSG];
    let n = msg.encode(&mut buf);
    let _ = nix::sys::socket::send(sock.as_raw_fd(), &buf[..n], MsgFlags::MSG_NOSIGNAL);
}

fn report(sock: BorrowedFd<'_>, e: ChildError) -> i32 {
    send(
        sock,
        ChildMsg::Error {
            stage: e.stage,
            errno: e.errno,
            detail: e.detail,
        },
    );
    1
}

/// Wait for the parent's go-ahead; a closed socket means the runtime died: give up.
fn wait_go(sock: BorrowedFd<'_>) -> Result<(), ChildError> {
    let mut buf = [0u8; MAX_MSG];
    loop {
        match nix::sys::socket::recv(sock.as_raw_fd(), &mut buf, MsgFlags::empty()) {
            Ok(0) => sys::exit_now(1),
            Ok(n) => {
                return match ParentMsg::decode(&buf[..n]) {
                    Ok(ParentMsg::Go) => Ok(()),
                    Err(_) => Err(child_err!(
                        Stage::Sync,
                        Errno::EPROTO,
                        "unexpected message from the runtime"
                    )),
                }
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(child_err!(Stage::Sync, e, "reading from the runtime")),
        }
    }
}

/// Move this (single-threaded) child into the container's v1 cgroups before it does
/// anything else; the processes it clones inherit them.
fn enter_cgroups(entry: &crate::cgroups::Entry) -> Result<(), ChildError> {
    entry
        .enter_v1()
        .map_err(|(e, p)| child_err!(Stage::Cgroup, e, "writing 0 to {}", p.display()))
}

/// Entry point of the first child.
pub(crate) fn child_main(plan: &LaunchPlan, fds: ChildFds<'_>) -> i32 {
    let r = enter_cgroups(fds.cgroup).and_then(|()| match plan.mode {
        SpawnMode::Direct => init(plan, fds, false).map(|_| 0),
        SpawnMode::TwoStage => intermediate(plan, fds),
    });
    match r {
        Ok(code) => code,
        Err(e) => report(fds.sock, e),
    }
}

fn join_namespaces(plan: &LaunchPlan, only: Option<CloneFlags>) -> Result<(), ChildError> {
    for j in &plan.join {
        if only.is_some_and(|f| f != j.flag) {
            continue;
        }
        nix::sched::setns(&j.fd, j.flag).map_err(|e| child_err!(Stage::JoinNamespace, e, "{}", j.path))?;
    }
    Ok(())
}

fn become_ns_root() -> Result<(), ChildError> {
    let root_g = Gid::from_raw(0);
    let root_u = Uid::from_raw(0);
    sys::setresgid(root_g).map_err(|e| child_err!(Stage::SetIds, e, "setresgid(0)"))?;
    sys::setresuid(root_u).map_err(|e| child_err!(Stage::SetIds, e, "setresuid(0)"))
}

/// Two-stage spawn, first stage: join namespaces (the user namespace first), create the user
/// namespace and have the parent map it, then clone the init with CLONE_PARENT so that it is
/// the runtime's child, report its pid and exit.
fn intermediate(plan: &LaunchPlan, fds: ChildFds<'_>) -> Result<i32, ChildError> {
    join_namespaces(plan, Some(CloneFlags::CLONE_NEWUSER))?;
    if plan.join.iter().any(|j| j.flag == CloneFlags::CLONE_NEWUSER) {
        // Our host uid is not mapped in the joined namespace: files we create would fail
        // with EOVERFLOW. Become its root, as the init of that namespace is.
        become_ns_root()?;
    }
    for j in plan.join.iter().filter(|j| j.flag != CloneFlags::CLONE_NEWUSER) {
        nix::sched::setns(&j.fd, j.flag).map_err(|e| child_err!(Stage::JoinNamespace, e, "{}", j.path))?;
    }
    if plan.new_user {
        nix::sched::unshare(CloneFlags::CLONE_NEWUSER)
            .map_err(|e| child_err!(Stage::UnshareNamespace, e, "user namespace"))?;
        send(fds.sock, ChildMsg::UserNsCreated);
        wait_go(fds.sock)?;
        become_ns_root()?;
    }
    // The id maps are written (a rootless parent can only write them while we are
    // dumpable): from now on no process in the container may open our /proc entries, and
    // the init cloned below inherits that (CVE-2019-5736 class).
    sys::set_not_dumpable().map_err(|e| child_err!(Stage::Sync, e, "PR_SET_DUMPABLE"))?;
    let flags = (plan.clone_flags - CloneFlags::CLONE_NEWUSER).bits() as u64 | libc::CLONE_PARENT as u64;
    // With CLONE_PARENT the kernel wants exit_signal 0: the init inherits ours (SIGCHLD).
    let spawned = sys::spawn(flags, 0, None, || match init(plan, fds, true) {
        Ok(never) => match never {},
        Err(e) => report(fds.sock, e),
    })
    .map_err(|e| child_err!(Stage::Spawn, e, "cloning the container init"))?;
    send(fds.sock, ChildMsg::InitPid(spawned.pid.as_raw()));
    Ok(0)
}

/// The container's init: finish the namespaces, build the root filesystem, drop to the
/// process's credentials, report ready, wait for `start`, exec.
fn init(plan: &LaunchPlan, fds: ChildFds<'_>, joined: bool) -> Result<Infallible, ChildError> {
    wait_go(fds.sock)?;
    // Not before: the parent has just written our id maps, which a rootless parent can only
    // do while we are dumpable. Until now we were alone in new namespaces; from here on no
    // process in the container may open our /proc entries, /proc/<pid>/exe (the runtime
    // binary) above all (CVE-2019-5736 class).
    sys::set_not_dumpable().map_err(|e| child_err!(Stage::Sync, e, "PR_SET_DUMPABLE"))?;
    if !joined {
        join_namespaces(plan, None)?;
        if plan.new_user {
            become_ns_root()?;
        }
    }
    if !plan.late_unshare.is_empty() {
        nix::sched::unshare(plan.late_unshare)
            .map_err(|e| child_err!(Stage::UnshareNamespace, e, "cgroup or time namespace"))?;
    }
    if let Some(offsets) = &plan.time_offsets {
        enter_time_namespace(offsets)?;
    }
    if let Some(h) = &plan.hostname {
        nix::unistd::sethostname(std::ffi::OsStr::from_bytes_nb(h))
            .map_err(|e| child_err!(Stage::Hostname, e, "sethostname"))?;
    }
    if let Some(d) = &plan.domainname {
        sys::set_domainname(d).map_err(|e| child_err!(Stage::Hostname, e, "setdomainname"))?;
    }
    if plan.new_keyring {
        sys::join_session_keyring(c"_ses").map_err(|e| child_err!(Stage::Keyring, e, "keyctl"))?;
    }
    sys::set_umask(0);
    if plan.clone_flags.contains(CloneFlags::CLONE_NEWNS) {
        let root = crate::rootfs::prepare(&plan.rootfs, &plan.sysctls)?;
        let pty = match (&plan.console, fds.console) {
            (Some(c), Some(sock)) => Some(crate::rootfs::setup_console(root.as_fd(), c, sock)?),
            _ => None,
        };
        if let Some(slave) = &pty {
            crate::rootfs::use_console(slave, plan.process.uid, plan.process.gid)?;
        }
        drop(pty);
        if plan.hook_sync {
            send(fds.sock, ChildMsg::HookPoint);
            wait_go(fds.sock)?;
        }
        crate::rootfs::finish(&plan.rootfs, root)?;
    } else {
        return Err(child_err!(Stage::Mount, Errno::EINVAL, "a mount namespace is required"));
    }
    if let Some(persona) = plan.personality {
        sys::set_personality(persona).map_err(|e| child_err!(Stage::Process, e, "personality({persona:#x})"))?;
    }
    if let Some(m) = &plan.mem_policy {
        sys::set_mempolicy(m).map_err(|e| child_err!(Stage::Process, e, "set_mempolicy(mode {:#x})", m.mode))?;
    }
    let p = &plan.process;
    let exe = prepare_process(p, fds.sock, fds.stdio)?;

    // The name `ps` shows while the init waits for `start`, and the sign that a status check
    // reads in /proc/<pid>/stat: until the exec replaces it, the init has not started the
    // program (see `state::INIT_WAITING_COMM`).
    sys::set_comm(crate::state::INIT_WAITING_COMM).map_err(|e| child_err!(Stage::Sync, e, "PR_SET_NAME"))?;
    send(fds.sock, ChildMsg::Ready);
    sys::install_exit_handlers();
    let mut b = [0u8; 1];
    loop {
        match nix::unistd::read(fds.fifo, &mut b) {
            Ok(1) => break,
            Err(Errno::EINTR) => continue,
            _ => sys::exit_now(1),
        }
    }
    exec_prepared(p, exe)
}

/// Set the offsets of the time namespace just unshared (it is only ours "for children"
/// so far, so its offsets can still change), then enter it ourselves.
fn enter_time_namespace(offsets: &[u8]) -> Result<(), ChildError> {
    use nix::fcntl::{open, OFlag};
    use nix::sys::stat::Mode;
    let f = open(
        c"/proc/self/timens_offsets",
        OFlag::O_WRONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| child_err!(Stage::UnshareNamespace, e, "opening /proc/self/timens_offsets"))?;
    nix::unistd::write(&f, offsets).map_err(|e| child_err!(Stage::UnshareNamespace, e, "writing time offsets"))?;
    let ns = open(
        c"/proc/self/ns/time_for_children",
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| child_err!(Stage::UnshareNamespace, e, "opening the new time namespace"))?;
    nix::sched::setns(&ns, CloneFlags::from_bits_retain(libc::CLONE_NEWTIME))
        .map_err(|e| child_err!(Stage::JoinNamespace, e, "entering the new time namespace"))
}

trait OsStrNb {
    fn from_bytes_nb(b: &[u8]) -> &std::ffi::OsStr;
}
impl OsStrNb for std::ffi::OsStr {
    fn from_bytes_nb(b: &[u8]) -> &std::ffi::OsStr {
        std::os::unix::ffi::OsStrExt::from_bytes(b)
    }
}

fn setrlimit(res: libc::__rlimit_resource_t, soft: u64, hard: u64) -> Result<(), Errno> {
    let lim = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    sys::setrlimit(res, &lim)
}

/// Credentials plus the seccomp filter. Without no_new_privs, loading a filter needs
/// CAP_SYS_ADMIN, so it goes in before the capabilities are dropped; with it, after
/// everything else (as late as possible, as runc does). A filter with SCMP_ACT_NOTIFY rules
/// yields its listener, which is handed to the runtime (for `listenerPath`) right away.
fn set_credentials_and_seccomp(p: &ProcessPlan, sock: BorrowedFd<'_>) -> Result<(), ChildError> {
    let load = |p: &ProcessPlan| -> Result<(), ChildError> {
        let Some(sc) = &p.seccomp else { return Ok(()) };
        let listener = sc
            .load()
            .map_err(|e| child_err!(Stage::Seccomp, e, "loading the seccomp filter"))?;
        if let Some(fd) = listener {
            let mut buf = [0u8; MAX_MSG];
            let n = ChildMsg::SeccompListener.encode(&mut buf);
            sys::send_fd(sock, fd.as_fd(), &buf[..n])
                .map_err(|e| child_err!(Stage::Seccomp, e, "sending the seccomp listener to the runtime"))?;
            wait_go(sock)?;
            // Our copy goes now: only the listener at `listenerPath` holds it.
            drop(fd);
        }
        Ok(())
    };
    if !p.no_new_privs {
        load(p)?;
    }
    set_credentials(p)?;
    if p.no_new_privs {
        load(p)?;
    }
    Ok(())
}

/// Capabilities and ids, in the order that keeps exactly the requested capabilities across
/// the uid change: bounding set, keepcaps, groups, gid, uid, the three sets, ambient,
/// no_new_privs.
fn set_credentials(p: &ProcessPlan) -> Result<(), ChildError> {
    for cap in 0..=p.cap_last.min(63) {
        if p.bounding & (1u64 << cap) == 0 {
            sys::capbset_drop(cap).map_err(|e| {
                child_err!(
                    Stage::Capabilities,
                    e,
                    "dropping capability {cap} from the bounding set"
                )
            })?;
        }
    }
    nix::sys::prctl::set_keepcaps(true).map_err(|e| child_err!(Stage::User, e, "PR_SET_KEEPCAPS"))?;
    match sys::setgroups(&p.additional_gids) {
        Ok(()) => {}
        // setgroups is denied in a user namespace whose gid map was written without it.
        Err(Errno::EPERM) if p.additional_gids.is_empty() => {}
        Err(e) => return Err(child_err!(Stage::User, e, "setgroups")),
    }
    fix_stdio_owner(p.uid);
    let g = Gid::from_raw(p.gid);
    sys::setresgid(g).map_err(|e| child_err!(Stage::User, e, "setresgid({})", p.gid))?;
    let u = Uid::from_raw(p.uid);
    sys::setresuid(u).map_err(|e| child_err!(Stage::User, e, "setresuid({})", p.uid))?;
    sys::capset(p.caps).map_err(|e| child_err!(Stage::Capabilities, e, "capset"))?;
    sys::ambient_clear().map_err(|e| child_err!(Stage::Capabilities, e, "clearing ambient set"))?;
    for cap in 0..=p.cap_last.min(63) {
        // A capability outside the inheritable set cannot be ambient (EPERM); runc goes on
        // without it, and so does this runtime, so that runc's default spec works unchanged.
        if p.ambient & (1u64 << cap) != 0 {
            match sys::ambient_raise(cap) {
                Ok(()) | Err(Errno::EPERM) | Err(Errno::EINVAL) => {}
                Err(e) => return Err(child_err!(Stage::Capabilities, e, "raising ambient capability {cap}")),
            }
        }
    }
    nix::sys::prctl::set_keepcaps(false).map_err(|e| child_err!(Stage::User, e, "PR_SET_KEEPCAPS"))?;
    if p.no_new_privs {
        nix::sys::prctl::set_no_new_privs().map_err(|e| child_err!(Stage::User, e, "PR_SET_NO_NEW_PRIVS"))?;
    }
    Ok(())
}

/// Give fds 0-2 to the process's user (runc does the same) so that a non-root process can
/// reopen `/dev/stdout` or `/proc/self/fd/1` when the caller passed pipes or files. Character
/// devices are never touched: the host's /dev/null and the caller's tty keep their owner.
/// Errors (an owner not mapped in the user namespace, a read-only filesystem) are ignored.
fn fix_stdio_owner(uid: u32) {
    for fd in [sys::stdio_fd(0), sys::stdio_fd(1), sys::stdio_fd(2)] {
        let Ok(st) = nix::sys::stat::fstat(fd) else { continue };
        if st.st_uid == uid || st.st_mode & libc::S_IFMT == libc::S_IFCHR {
            continue;
        }
        let _ = nix::unistd::fchown(fd, Some(Uid::from_raw(uid)), None);
    }
}

/// Resolve `args[0]` the way Go's exec.LookPath does, so that a missing program is a
/// `create`-time error with runc's wording.
fn find_executable(p: &ProcessPlan) -> Result<&std::ffi::CStr, ChildError> {
    let mut denied = false;
    for c in &p.exec_candidates {
        match nix::sys::stat::stat(c.as_c_str()) {
            Ok(st) => {
                let is_reg = st.st_mode & libc::S_IFMT == libc::S_IFREG;
                if is_reg && st.st_mode & 0o111 != 0 {
                    return Ok(c.as_c_str());
                }
                denied = true;
            }
            Err(e) if p.exec_candidates.len() == 1 && p.arg0.contains('/') => {
                return Err(child_err!(Stage::Exec, e, "exec: {:?}: stat {}", p.arg0, p.arg0));
            }
            Err(_) => {}
        }
    }
    if denied {
        return Err(child_err!(Stage::Exec, Errno::EACCES, "exec: {:?}", p.arg0));
    }
    Err(child_err!(
        Stage::Exec,
        0,
        "exec: {:?}: executable file not found in $PATH",
        p.arg0
    ))
}

/// Entry point of the `exec` intermediate: enter the container's cgroups, join its
/// namespaces (user first, pid and time last: they apply to children), then clone the
/// process with CLONE_PARENT.
pub(crate) fn exec_child(
    plan: &crate::exec::ExecPlan,
    cgroup: &crate::cgroups::Entry,
    sock: BorrowedFd<'_>,
    console: Option<BorrowedFd<'_>>,
    stdio: Option<[BorrowedFd<'_>; 3]>,
) -> i32 {
    let r = (|| -> Result<i32, ChildError> {
        enter_cgroups(cgroup)?;
        // Before joining anything: the container must not reach the runtime binary through
        // this process or the one it clones (CVE-2019-5736 class).
        sys::set_not_dumpable().map_err(|e| child_err!(Stage::Sync, e, "PR_SET_DUMPABLE"))?;
        for j in plan.join.iter().filter(|j| j.flag == CloneFlags::CLONE_NEWUSER) {
            nix::sched::setns(&j.fd, j.flag).map_err(|e| child_err!(Stage::JoinNamespace, e, "{}", j.path))?;
            become_ns_root()?;
        }
        for j in plan.join.iter().filter(|j| j.flag != CloneFlags::CLONE_NEWUSER) {
            nix::sched::setns(&j.fd, j.flag).map_err(|e| child_err!(Stage::JoinNamespace, e, "{}", j.path))?;
        }
        let spawned = sys::spawn(libc::CLONE_PARENT as u64, 0, None, || {
            match exec_process(plan, sock, console, stdio) {
                Ok(never) => match never {},
                Err(e) => report(sock, e),
            }
        })
        .map_err(|e| child_err!(Stage::Spawn, e, "cloning the exec process"))?;
        send(sock, ChildMsg::InitPid(spawned.pid.as_raw()));
        Ok(0)
    })();
    match r {
        Ok(c) => c,
        Err(e) => report(sock, e),
    }
}

/// The exec'd process: it is already in the container's namespaces (joining the mount
/// namespace set its root and cwd to the container's root); wait for the cgroup, then
/// credentials, cwd, exec.
fn exec_process(
    plan: &crate::exec::ExecPlan,
    sock: BorrowedFd<'_>,
    console: Option<BorrowedFd<'_>>,
    stdio: Option<[BorrowedFd<'_>; 3]>,
) -> Result<Infallible, ChildError> {
    let p = &plan.process;
    wait_go(sock)?;
    if let (Some(size), Some(console)) = (plan.console_size, console) {
        // Our root is the container's now (joining its mount namespace set it).
        let slave = crate::rootfs::exec_console(size, console)?;
        crate::rootfs::use_console(&slave, p.uid, p.gid)?;
    }
    let exe = prepare_process(p, sock, stdio)?;
    send(sock, ChildMsg::Ready);
    exec_prepared(p, exe)
}

/// The steps shared by the init and exec'd processes before exec: the caller's stdio
/// descriptors (before the credentials change, so that their owner is fixed up as for
/// inherited stdio), rlimits, cwd (tried as root first: the runtime may reach what the user
/// cannot, then again as the user), credentials and seccomp, the executable's lookup, the umask.
fn prepare_process<'p>(
    p: &'p ProcessPlan,
    sock: BorrowedFd<'_>,
    stdio: Option<[BorrowedFd<'_>; 3]>,
) -> Result<&'p std::ffi::CStr, ChildError> {
    if let Some(fds) = stdio {
        // The parent dup'd these with F_DUPFD_CLOEXEC, so they are >= 3 and dup2 cannot
        // overwrite one with another.
        for (target, fd) in (0..).zip(fds) {
            sys::dup_to_stdio(fd, target).map_err(|e| child_err!(Stage::Exec, e, "dup2 onto fd {target}"))?;
        }
    }
    for &(res, soft, hard) in &p.rlimits {
        setrlimit(res, soft, hard).map_err(|e| child_err!(Stage::Rlimit, e, "resource {res}"))?;
    }
    if let Some(v) = p.io_priority {
        sys::ioprio_set(v).map_err(|e| child_err!(Stage::Process, e, "ioprio_set({v:#x})"))?;
    }
    if let Some(a) = &p.scheduler {
        sys::sched_setattr(a).map_err(|e| child_err!(Stage::Process, e, "sched_setattr(policy {})", a.policy))?;
    }
    let cwd_done = nix::unistd::chdir(p.cwd.as_c_str()).is_ok();
    apply_lsm(&p.lsm)?;
    set_credentials_and_seccomp(p, sock)?;
    if !cwd_done {
        nix::unistd::chdir(p.cwd.as_c_str())
            .map_err(|e| child_err!(Stage::Cwd, e, "chdir to cwd ({:?}) failed", p.cwd))?;
    }
    let exe = find_executable(p)?;
    sys::set_umask(p.umask.unwrap_or(0o022));
    Ok(exe)
}

/// The AppArmor profile and SELinux label for the coming exec, written (as root, before the
/// capabilities go) to this thread's attr files in the container's own procfs.
fn apply_lsm(l: &crate::lsm::LsmPlan) -> Result<(), ChildError> {
    if let Some(v) = &l.apparmor {
        // Kernels since 5.8 have the per-LSM directory; older ones only attr/exec.
        match crate::lsm::write_exec_attr(c"apparmor/exec", v) {
            Err(Errno::ENOENT) => crate::lsm::write_exec_attr(c"exec", v),
            r => r,
        }
        .map_err(|e| {
            child_err!(
                Stage::Lsm,
                e,
                "applying AppArmor profile ({})",
                v.to_str().unwrap_or("?")
            )
        })?;
    }
    if let Some(v) = &l.selinux {
        crate::lsm::write_exec_attr(c"exec", v)
            .map_err(|e| child_err!(Stage::Lsm, e, "setting SELinux label {}", v.to_str().unwrap_or("?")))?;
    }
    Ok(())
}

/// Hand over to the program: default signal state, only stdio and the preserved fds left
/// open, execve. Reached after the runtime stopped listening, so a failure can only be said
/// on the process's stderr.
fn exec_prepared(p: &ProcessPlan, exe: &std::ffi::CStr) -> ! {
    sys::reset_signals();
    let _ = sys::cloexec_from(3 + p.preserve_fds);
    for fd in 3..3 + p.preserve_fds as i32 {
        sys::clear_cloexec(fd);
    }
    let e = sys::execve(exe, &p.args, &p.env);
    let mut d = crate::protocol::Detail::new();
    let _ = writeln!(d, "runtime-cli: exec {:?}: {}", p.arg0, e.desc());
    let _ = nix::unistd::write(sys::stdio_fd(2), d.as_bytes());
    sys::exit_now(127)
}
