//! The container's root filesystem, set up by the init inside its new mount namespace:
//! propagation, the rootfs bind, every configured mount, devices, `/dev` symlinks, masked
//! and read-only paths, then `pivot_root` (or move + chroot) and the read-only root.
//!
//! Every destination is resolved inside the root with `openat2(RESOLVE_IN_ROOT)` and the
//! mount is made on the resulting file descriptor (`/proc/self/fd/N`), so a symlink in the
//! image, even one swapped in during setup, cannot point a mount outside the container.
//! Runs in the forked child: nothing here allocates; failures are [`ChildError`]s.
// Child-side errors are fixed-size values on purpose: the forked child must not allocate,
// so they cannot be boxed.
#![allow(clippy::result_large_err, clippy::large_enum_variant)]

use std::ffi::CStr;
use std::fmt::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::mount::{MntFlags, MsFlags};
use nix::sys::stat::{Mode, SFlag};

use crate::plan::{MountKind, MountStep, PathInRoot, RootfsPlan};
use crate::protocol::{Detail, Stage};

/// A failure in the child: the stage, the errno (0 if none) and a context line.
#[derive(Debug)]
pub(crate) struct ChildError {
    pub stage: Stage,
    pub errno: i32,
    pub detail: Detail,
}

macro_rules! child_err {
    ($stage:expr, $errno:expr, $($arg:tt)*) => {{
        let mut d = $crate::protocol::Detail::new();
        let _ = ::std::write!(d, $($arg)*);
        $crate::rootfs::ChildError { stage: $stage, errno: ($errno) as i32, detail: d }
    }};
}
pub(crate) use child_err;

/// `/proc/self/fd/N` in a stack buffer.
pub(crate) struct FdPath {
    buf: [u8; 32],
}

impl FdPath {
    pub fn new(fd: BorrowedFd<'_>) -> Self {
        let mut buf = [0u8; 32];
        let prefix = b"/proc/self/fd/";
        buf[..prefix.len()].copy_from_slice(prefix);
        let mut n = fd.as_raw_fd() as u32;
        let mut digits = [0u8; 10];
        let mut i = 0;
        loop {
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            i += 1;
            if n == 0 {
                break;
            }
        }
        for k in 0..i {
            buf[prefix.len() + k] = digits[i - 1 - k];
        }
        FdPath { buf }
    }

    pub fn as_cstr(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.buf).expect("NUL-terminated by construction")
    }
}

fn in_root_how(flags: OFlag) -> OpenHow {
    OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS)
}

/// Open `rel` inside `root` as an O_PATH fd.
pub(crate) fn open_in_root(root: BorrowedFd<'_>, rel: &CStr) -> Result<OwnedFd, Errno> {
    nix::fcntl::openat2(root, rel, in_root_how(OFlag::O_PATH))
}

/// Open `p` inside `root`, creating missing components (directories, and the last one as an
/// empty file when `file` is set).
pub(crate) fn ensure(root: BorrowedFd<'_>, p: &PathInRoot, file: bool) -> Result<OwnedFd, Errno> {
    match open_in_root(root, &p.rel) {
        Err(Errno::ENOENT) => {}
        other => return other,
    }
    create_prefixes(root, &p.prefixes, file)?;
    open_in_root(root, &p.rel)
}

/// Create whichever of `prefixes` (`a`, `a/b`, `a/b/c`) are missing, each in a parent that
/// was itself resolved inside the root; the last one as an empty file when `last_file`.
fn create_prefixes(root: BorrowedFd<'_>, prefixes: &[std::ffi::CString], last_file: bool) -> Result<(), Errno> {
    let n = prefixes.len();
    for (i, prefix) in prefixes.iter().enumerate() {
        match open_in_root(root, prefix) {
            Ok(_) => continue,
            Err(Errno::ENOENT) => {}
            Err(e) => return Err(e),
        }
        let (parent, name) = if i == 0 {
            (None, prefix.as_c_str())
        } else {
            let plen = prefixes[i - 1].as_bytes().len() + 1;
            let name = CStr::from_bytes_with_nul(&prefix.as_bytes_with_nul()[plen..]).map_err(|_| Errno::EINVAL)?;
            (Some(open_in_root(root, &prefixes[i - 1])?), name)
        };
        let dir = parent.as_ref().map(|f| f.as_fd()).unwrap_or(root);
        let r = if last_file && i + 1 == n {
            nix::fcntl::openat(
                dir,
                name,
                OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
                Mode::from_bits_truncate(0o644),
            )
            .map(drop)
        } else {
            nix::sys::stat::mkdirat(dir, name, Mode::from_bits_truncate(0o755))
        };
        match r {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn mount_on(
    source: Option<&CStr>,
    target: &FdPath,
    fstype: Option<&CStr>,
    flags: MsFlags,
    data: Option<&CStr>,
) -> Result<(), Errno> {
    nix::mount::mount(source, target.as_cstr(), fstype, flags, data)
}

/// Mount flags a bind remount must keep (the kernel refuses to clear locked ones inside a
/// user namespace).
fn kept_flags(fd: BorrowedFd<'_>) -> MsFlags {
    use nix::sys::statvfs::FsFlags;
    let Ok(st) = nix::sys::statvfs::fstatvfs(fd) else {
        return MsFlags::empty();
    };
    let f = st.flags();
    let mut m = MsFlags::empty();
    for (s, ms) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if f.contains(s) {
            m |= ms;
        }
    }
    m
}

fn is_dir(fd: BorrowedFd<'_>) -> bool {
    nix::sys::stat::fstat(fd)
        .map(|s| SFlag::from_bits_truncate(s.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR)
        .unwrap_or(false)
}

fn do_mount(root: BorrowedFd<'_>, m: &MountStep) -> Result<(), ChildError> {
    let d = &m.dest.display;
    let fd = match ensure(root, &m.dest, m.dest_is_file) {
        // The path goes through a symlink to a directory that does not exist yet: create
        // the symlink's target, inside the root.
        Err(Errno::ENOENT) if m.dest_resolved.is_some() => {
            ensure(root, m.dest_resolved.as_ref().expect("checked"), m.dest_is_file)
        }
        r => r,
    }
    .map_err(|e| child_err!(Stage::Mount, e, "creating mount point {d}"))?;
    if m.require_dir {
        // proc, sysfs and cgroup only on an ordinary directory reached without any symlink
        // (CVE-2019-16884 class: a /proc that is a symlink in the image could put the
        // procfs, and with it every later /proc/self/attr write, where the image chose).
        let how = in_root_how(OFlag::O_PATH).resolve(
            ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS | ResolveFlag::RESOLVE_NO_SYMLINKS,
        );
        match nix::fcntl::openat2(root, m.dest.rel.as_c_str(), how) {
            Ok(plain) if is_dir(plain.as_fd()) => {}
            Ok(_) => {
                return Err(child_err!(
                    Stage::Mount,
                    Errno::ENOTDIR,
                    "mount destination {d} must be an ordinary directory"
                ))
            }
            Err(e) => {
                return Err(child_err!(
                    Stage::Mount,
                    e,
                    "mount destination {d} must be an ordinary directory, not reached through a symlink"
                ))
            }
        }
    }
    let target = FdPath::new(fd.as_fd());
    let r = match &m.kind {
        MountKind::Bind { source, .. } => mount_on(Some(source), &target, None, m.flags, None),
        MountKind::Fs { fstype, source } => mount_on(Some(source), &target, Some(fstype), m.flags, m.data.as_deref()),
        MountKind::Remount => {
            // The fd names the mount's root directory: remount through it.
            mount_on(None, &target, None, m.flags, m.data.as_deref())
        }
        MountKind::Detached { tree, .. } => crate::sys::move_mount_to(tree.as_fd(), fd.as_fd()),
    };
    r.map_err(|e| match &m.kind {
        MountKind::Bind { source, .. } => {
            child_err!(Stage::Mount, e, "bind mounting {} on {d}", source.to_string_lossy_nb())
        }
        MountKind::Fs { fstype, .. } => child_err!(Stage::Mount, e, "mounting {} on {d}", fstype.to_string_lossy_nb()),
        MountKind::Remount => child_err!(Stage::Mount, e, "remounting {d}"),
        MountKind::Detached { source, .. } => {
            child_err!(
                Stage::Mount,
                e,
                "attaching the id-mapped mount of {} on {d}",
                source.to_string_lossy_nb()
            )
        }
    })?;
    if m.remount_flags.is_none() && m.propagation.is_empty() {
        return Ok(());
    }
    // The fd still names the covered directory: reopen to reach the new mount.
    let top = open_in_root(root, &m.dest.rel).map_err(|e| child_err!(Stage::Mount, e, "reopening {d}"))?;
    let target = FdPath::new(top.as_fd());
    if let Some(extra) = m.remount_flags {
        let flags =
            MsFlags::MS_REMOUNT | MsFlags::MS_BIND | extra | kept_flags(top.as_fd()) | (m.flags & MsFlags::MS_REC);
        mount_on(None, &target, None, flags, None)
            .map_err(|e| child_err!(Stage::Mount, e, "remounting {d} with its options"))?;
    }
    if !m.propagation.is_empty() {
        mount_on(None, &target, None, m.propagation, None)
            .map_err(|e| child_err!(Stage::Mount, e, "setting propagation of {d}"))?;
    }
    Ok(())
}

/// Lossy display of a C string without allocating: the bytes are written as they are when
/// they are UTF-8, otherwise replaced.
trait LossyNb {
    fn to_string_lossy_nb(&self) -> &str;
}
impl LossyNb for std::ffi::CString {
    fn to_string_lossy_nb(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("<non-utf8 path>")
    }
}

fn devices(root: BorrowedFd<'_>, plan: &RootfsPlan) -> Result<(), ChildError> {
    for dev in &plan.devices {
        let d = &dev.path.display;
        if plan.bind_devices {
            let fd = ensure(root, &dev.path, true).map_err(|e| child_err!(Stage::Device, e, "creating {d}"))?;
            mount_on(
                Some(&dev.host_path),
                &FdPath::new(fd.as_fd()),
                None,
                MsFlags::MS_BIND,
                None,
            )
            .map_err(|e| child_err!(Stage::Device, e, "bind mounting device {d}"))?;
            continue;
        }
        let parent = parent_dir(root, &dev.path).map_err(|e| child_err!(Stage::Device, e, "creating parent of {d}"))?;
        let dir = parent.as_ref().map(|f| f.as_fd()).unwrap_or(root);
        let kind = SFlag::from_bits_truncate(dev.mode & libc::S_IFMT);
        match nix::sys::stat::mknodat(
            dir,
            dev.path.name.as_c_str(),
            kind,
            Mode::from_bits_truncate(dev.mode & 0o7777),
            dev.dev,
        ) {
            Ok(()) => {}
            Err(Errno::EEXIST) => continue,
            Err(e) => return Err(child_err!(Stage::Device, e, "mknod {d}")),
        }
        nix::unistd::fchownat(
            dir,
            dev.path.name.as_c_str(),
            Some(nix::unistd::Uid::from_raw(dev.uid)),
            Some(nix::unistd::Gid::from_raw(dev.gid)),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(|e| child_err!(Stage::Device, e, "chown {d}"))?;
    }
    for (target, link) in &plan.symlinks {
        let parent =
            parent_dir(root, link).map_err(|e| child_err!(Stage::Device, e, "creating parent of {}", link.display))?;
        let dir = parent.as_ref().map(|f| f.as_fd()).unwrap_or(root);
        match nix::unistd::symlinkat(target.as_c_str(), dir, link.name.as_c_str()) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(child_err!(Stage::Device, e, "symlink {}", link.display)),
        }
    }
    Ok(())
}

/// The directory holding `p` (created if missing), or None for the root itself.
fn parent_dir(root: BorrowedFd<'_>, p: &PathInRoot) -> Result<Option<OwnedFd>, Errno> {
    let n = p.prefixes.len();
    if n < 2 {
        return Ok(None);
    }
    let parent = &p.prefixes[..n - 1];
    create_prefixes(root, parent, false)?;
    open_in_root(root, &parent[n - 2]).map(Some)
}

fn mask(root: BorrowedFd<'_>, p: &PathInRoot) -> Result<(), ChildError> {
    let fd = match open_in_root(root, &p.rel) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Ok(()),
        Err(e) => return Err(child_err!(Stage::MaskPath, e, "{}", p.display)),
    };
    let target = FdPath::new(fd.as_fd());
    let r = if is_dir(fd.as_fd()) {
        mount_on(Some(c"tmpfs"), &target, Some(c"tmpfs"), MsFlags::MS_RDONLY, None)
    } else {
        // The host's /dev/null: the image's /dev is not trusted (CVE-2025-31133 class).
        mount_on(Some(c"/dev/null"), &target, None, MsFlags::MS_BIND, None)
    };
    r.map_err(|e| child_err!(Stage::MaskPath, e, "{}", p.display))
}

fn readonly(root: BorrowedFd<'_>, p: &PathInRoot) -> Result<(), ChildError> {
    let fd = match open_in_root(root, &p.rel) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Ok(()),
        Err(e) => return Err(child_err!(Stage::ReadonlyPath, e, "{}", p.display)),
    };
    let t = FdPath::new(fd.as_fd());
    mount_on(Some(t.as_cstr()), &t, None, MsFlags::MS_BIND | MsFlags::MS_REC, None)
        .map_err(|e| child_err!(Stage::ReadonlyPath, e, "bind {}", p.display))?;
    let top = open_in_root(root, &p.rel).map_err(|e| child_err!(Stage::ReadonlyPath, e, "reopening {}", p.display))?;
    let flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY | MsFlags::MS_REC | kept_flags(top.as_fd());
    mount_on(None, &FdPath::new(top.as_fd()), None, flags, None)
        .map_err(|e| child_err!(Stage::ReadonlyPath, e, "remount {}", p.display))
}

fn write_sysctls(sysctls: &[(std::ffi::CString, Vec<u8>)]) -> Result<(), ChildError> {
    for (path, value) in sysctls {
        let name = path.to_string_lossy_nb();
        // Only a real procfs file is written, reached without crossing a mount or following
        // a symlink (CVE-2025-52881 class).
        let proc_dir = nix::fcntl::open(
            c"/proc",
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| child_err!(Stage::Sysctl, e, "/proc"))?;
        crate::lsm::ensure_procfs(proc_dir.as_fd()).map_err(|e| child_err!(Stage::Sysctl, e, "/proc is not procfs"))?;
        let how = OpenHow::new()
            .flags(OFlag::O_WRONLY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
            .resolve(ResolveFlag::RESOLVE_NO_XDEV | ResolveFlag::RESOLVE_NO_SYMLINKS | ResolveFlag::RESOLVE_BENEATH);
        let fd = nix::fcntl::openat2(proc_dir.as_fd(), path.as_c_str(), how)
            .map_err(|e| child_err!(Stage::Sysctl, e, "/proc/{name}"))?;
        crate::lsm::ensure_procfs(fd.as_fd())
            .map_err(|e| child_err!(Stage::Sysctl, e, "/proc/{name} is not on procfs"))?;
        nix::unistd::write(&fd, value).map_err(|e| child_err!(Stage::Sysctl, e, "/proc/{name}"))?;
    }
    Ok(())
}

/// Prepare the root filesystem up to (not including) the change of root; returns the rootfs
/// fd for [`finish`]. Sysctls are written through the runtime's procfs before the root
/// changes (they apply to the writer's namespaces).
pub(crate) fn prepare(plan: &RootfsPlan, sysctls: &[(std::ffi::CString, Vec<u8>)]) -> Result<OwnedFd, ChildError> {
    let r = plan.root_display.as_str();
    // pivot_root refuses a shared parent: a shared rootfsPropagation is applied after it.
    let initial = if plan.propagation.contains(MsFlags::MS_SHARED) {
        MsFlags::MS_PRIVATE | MsFlags::MS_REC
    } else {
        plan.propagation
    };
    nix::mount::mount(None::<&CStr>, c"/", None::<&CStr>, initial, None::<&CStr>)
        .map_err(|e| child_err!(Stage::Propagation, e, "/"))?;
    nix::mount::mount(
        Some(plan.root.as_c_str()),
        plan.root.as_c_str(),
        None::<&CStr>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&CStr>,
    )
    .map_err(|e| child_err!(Stage::Mount, e, "bind mounting rootfs {r}"))?;
    let root = nix::fcntl::open(
        plan.root.as_c_str(),
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| child_err!(Stage::Mount, e, "opening rootfs {r}"))?;
    let rootfd = root.as_fd();
    for m in &plan.mounts {
        do_mount(rootfd, m)?;
    }
    devices(rootfd, plan)?;
    for p in &plan.masked {
        mask(rootfd, p)?;
    }
    for p in &plan.readonly_paths {
        readonly(rootfd, p)?;
    }
    write_sysctls(sysctls)?;
    if !plan.cwd.is_root() {
        ensure(rootfd, &plan.cwd, false).map_err(|e| child_err!(Stage::Cwd, e, "creating cwd {}", plan.cwd.display))?;
    }
    Ok(root)
}

/// Change root into the prepared rootfs (`root` from [`prepare`]) and make it read-only if
/// asked.
pub(crate) fn finish(plan: &RootfsPlan, root: OwnedFd) -> Result<(), ChildError> {
    change_root(root.as_fd(), plan)?;
    drop(root);
    if plan.propagation.contains(MsFlags::MS_SHARED) {
        nix::mount::mount(None::<&CStr>, c"/", None::<&CStr>, plan.propagation, None::<&CStr>)
            .map_err(|e| child_err!(Stage::Propagation, e, "making / shared"))?;
    }
    if plan.readonly {
        let fd = nix::fcntl::open(c"/", OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|e| child_err!(Stage::PivotRoot, e, "/"))?;
        let flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY | kept_flags(fd.as_fd());
        nix::mount::mount(None::<&CStr>, c"/", None::<&CStr>, flags, None::<&CStr>)
            .map_err(|e| child_err!(Stage::PivotRoot, e, "making / read-only"))?;
    }
    Ok(())
}

fn change_root(root: BorrowedFd<'_>, plan: &RootfsPlan) -> Result<(), ChildError> {
    nix::unistd::fchdir(root).map_err(|e| child_err!(Stage::PivotRoot, e, "chdir to rootfs"))?;
    if plan.no_pivot {
        nix::mount::mount(Some(c"."), c"/", None::<&CStr>, MsFlags::MS_MOVE, None::<&CStr>)
            .map_err(|e| child_err!(Stage::PivotRoot, e, "moving rootfs to /"))?;
        nix::unistd::chroot(c".").map_err(|e| child_err!(Stage::PivotRoot, e, "chroot"))?;
    } else {
        // pivot_root(".", ".") stacks the old root on top of the new one; detach it after
        // making it a slave so the unmount does not propagate to the host.
        nix::unistd::pivot_root(c".", c".").map_err(|e| child_err!(Stage::PivotRoot, e, "pivot_root"))?;
        nix::mount::mount(
            None::<&CStr>,
            c".",
            None::<&CStr>,
            MsFlags::MS_SLAVE | MsFlags::MS_REC,
            None::<&CStr>,
        )
        .map_err(|e| child_err!(Stage::PivotRoot, e, "making old root a slave"))?;
        nix::mount::umount2(c".", MntFlags::MNT_DETACH)
            .map_err(|e| child_err!(Stage::PivotRoot, e, "unmounting old root"))?;
    }
    nix::unistd::chdir(c"/").map_err(|e| child_err!(Stage::PivotRoot, e, "chdir /"))
}

/// Allocate the container's terminal inside its root (before the root changes, so the host
/// procfs can name the fds): open the container's `/dev/pts/ptmx`, get the slave, bind it
/// over `/dev/console`, send the master to the caller's console socket. Returns the slave.
pub(crate) fn setup_console(
    root: BorrowedFd<'_>,
    c: &crate::plan::ConsolePlan,
    socket: BorrowedFd<'_>,
) -> Result<OwnedFd, ChildError> {
    let how = in_root_how(OFlag::O_RDWR | OFlag::O_NOCTTY);
    let master = nix::fcntl::openat2(root, c.ptmx.rel.as_c_str(), how)
        .map_err(|e| child_err!(Stage::Console, e, "opening the container's {}", c.ptmx.display))?;
    let slave =
        crate::sys::pty_peer(master.as_fd()).map_err(|e| child_err!(Stage::Console, e, "opening the pty slave"))?;
    if let Some((rows, cols)) = c.size {
        crate::sys::set_winsize(master.as_fd(), rows, cols)
            .map_err(|e| child_err!(Stage::Console, e, "setting the window size"))?;
    }
    let target =
        ensure(root, &c.console, true).map_err(|e| child_err!(Stage::Console, e, "creating {}", c.console.display))?;
    let src = FdPath::new(slave.as_fd());
    mount_on(
        Some(src.as_cstr()),
        &FdPath::new(target.as_fd()),
        None,
        MsFlags::MS_BIND,
        None,
    )
    .map_err(|e| child_err!(Stage::Console, e, "bind mounting the pty over {}", c.console.display))?;
    crate::sys::send_fd(socket, master.as_fd(), b"/dev/ptmx")
        .map_err(|e| child_err!(Stage::Console, e, "sending the pty master to the console socket"))?;
    // The caller reads until EOF: our copy of the connection goes now, not at exec.
    crate::sys::close_fd(socket.as_raw_fd());
    Ok(slave)
}

/// The terminal of an exec'd process: a pty from the container's devpts (the caller is in
/// the container's mount namespace and root), the master sent to the console socket.
pub(crate) fn exec_console(size: Option<(u16, u16)>, socket: BorrowedFd<'_>) -> Result<OwnedFd, ChildError> {
    let master = nix::fcntl::open(
        c"/dev/pts/ptmx",
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| child_err!(Stage::Console, e, "opening the container's /dev/pts/ptmx"))?;
    let slave =
        crate::sys::pty_peer(master.as_fd()).map_err(|e| child_err!(Stage::Console, e, "opening the pty slave"))?;
    if let Some((rows, cols)) = size {
        crate::sys::set_winsize(master.as_fd(), rows, cols)
            .map_err(|e| child_err!(Stage::Console, e, "setting the window size"))?;
    }
    crate::sys::send_fd(socket, master.as_fd(), b"/dev/ptmx")
        .map_err(|e| child_err!(Stage::Console, e, "sending the pty master to the console socket"))?;
    // The caller reads until EOF: our copy of the connection goes now, not at exec.
    crate::sys::close_fd(socket.as_raw_fd());
    Ok(slave)
}

/// Make the pty slave the process's controlling terminal and its stdio, owned by the user.
pub(crate) fn use_console(slave: &OwnedFd, uid: u32, gid: u32) -> Result<(), ChildError> {
    nix::unistd::setsid().map_err(|e| child_err!(Stage::Console, e, "setsid"))?;
    crate::sys::set_controlling_tty(slave.as_fd()).map_err(|e| child_err!(Stage::Console, e, "TIOCSCTTY"))?;
    nix::unistd::fchown(
        slave,
        Some(nix::unistd::Uid::from_raw(uid)),
        Some(nix::unistd::Gid::from_raw(gid)),
    )
    .map_err(|e| child_err!(Stage::Console, e, "chown of the pty"))?;
    for t in 0..=2 {
        crate::sys::dup_to_stdio(slave.as_fd(), t).map_err(|e| child_err!(Stage::Console, e, "dup2 of the pty"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_paths() {
        let f = std::fs::File::open("/").unwrap();
        let p = FdPath::new(f.as_fd());
        assert_eq!(
            p.as_cstr().to_str().unwrap(),
            format!("/proc/self/fd/{}", f.as_raw_fd())
        );
    }
}
