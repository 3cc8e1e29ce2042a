//! Linux security module labels: `process.apparmorProfile`, `process.selinuxLabel` and
//! `linux.mountLabel`.
//!
//! The decision is made in the parent ([`LsmPlan::new`]): a profile or label is refused when
//! its LSM is not enabled on the host. runc 1.1.5 and crun 1.8.1 fail too in that case
//! (checked on a host without LSM: runc writes `/proc/self/attr/exec` and gets EINVAL for
//! AppArmor, and refuses an SELinux label with "selinux is disabled or not supported"); this
//! runtime says so before anything is created, naming the field. The child writes the
//! values through [`write_exec_attr`], right before the credentials change, into its own
//! procfs only (see there).

use std::ffi::{CStr, CString};
use std::os::fd::AsFd;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;

use crate::error::{Error, Result};

/// Whether AppArmor is enabled (runc's test: securityfs has `apparmor` and the module
/// parameter says `Y`).
pub fn apparmor_enabled() -> bool {
    Path::new("/sys/kernel/security/apparmor").exists()
        && std::fs::read("/sys/module/apparmor/parameters/enabled").is_ok_and(|b| b.first() == Some(&b'Y'))
}

/// Whether SELinux is enabled (selinuxfs is mounted, as go-selinux checks).
pub fn selinux_enabled() -> bool {
    Path::new("/sys/fs/selinux/enforce").exists()
}

/// What the child writes to its own `/proc/thread-self/attr/...` before exec.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LsmPlan {
    /// `exec <profile>` for AppArmor's `attr/apparmor/exec` (or `attr/exec` on kernels
    /// without the per-LSM directory).
    pub apparmor: Option<CString>,
    /// The SELinux context for `attr/exec`.
    pub selinux: Option<CString>,
}

impl LsmPlan {
    /// Check the process's profile and label against the host's LSMs. `src` names the
    /// document in errors (config.json or an exec `--process` file).
    pub fn new(apparmor: Option<&str>, selinux: Option<&str>, src: &Path) -> Result<Self> {
        Self::with_host(apparmor, selinux, src, apparmor_enabled(), selinux_enabled())
    }

    fn with_host(apparmor: Option<&str>, selinux: Option<&str>, src: &Path, aa_on: bool, se_on: bool) -> Result<Self> {
        let mut plan = LsmPlan::default();
        if let Some(p) = apparmor.filter(|s| !s.is_empty()) {
            if !aa_on {
                return Err(Error::config(
                    src,
                    "process.apparmorProfile",
                    format!("profile {p:?} requested but AppArmor is not enabled on this host"),
                ));
            }
            plan.apparmor = Some(
                CString::new(format!("exec {p}"))
                    .map_err(|_| Error::config(src, "process.apparmorProfile", "contains a NUL byte"))?,
            );
        }
        if let Some(l) = selinux.filter(|s| !s.is_empty()) {
            if !se_on {
                return Err(Error::config(
                    src,
                    "process.selinuxLabel",
                    format!("label {l:?} requested but SELinux is not enabled on this host"),
                ));
            }
            plan.selinux =
                Some(CString::new(l).map_err(|_| Error::config(src, "process.selinuxLabel", "contains a NUL byte"))?);
        }
        Ok(plan)
    }

    pub fn is_empty(&self) -> bool {
        self.apparmor.is_none() && self.selinux.is_none()
    }
}

/// `linux.mountLabel` as the `context="..."` option runc adds to the data of the
/// filesystems it mounts (not proc, sysfs, mqueue, cgroup or binds). Refused when SELinux is
/// not enabled: the kernel would reject the option with EINVAL at mount time.
pub fn mount_label_option(label: Option<&str>, cfg: &Path) -> Result<Option<String>> {
    mount_label_option_with(label, cfg, selinux_enabled())
}

fn mount_label_option_with(label: Option<&str>, cfg: &Path, se_on: bool) -> Result<Option<String>> {
    let Some(l) = label.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if !se_on {
        return Err(Error::config(
            cfg,
            "linux.mountLabel",
            format!("label {l:?} requested but SELinux is not enabled on this host"),
        ));
    }
    // The context is quoted (MCS categories contain commas); a quote inside cannot be.
    if l.contains('"') {
        return Err(Error::config(
            cfg,
            "linux.mountLabel",
            "must not contain a double quote",
        ));
    }
    Ok(Some(format!("context=\"{l}\"")))
}

/// Write `value` to `attr` (`apparmor/exec` or `exec`) of the calling thread, in the procfs
/// mounted at `/proc` of the calling process's root, only if that really is procfs and no
/// mount or symlink redirects the file (CVE-2025-52881 class: a write meant for our own
/// attr must not land in, say, `/proc/sys/kernel/core_pattern` through a bind mount the
/// image or config put in place). Async-signal-safe: no allocation.
pub(crate) fn write_exec_attr(attr: &CStr, value: &CStr) -> std::result::Result<(), Errno> {
    let proc_dir = nix::fcntl::open(
        c"/proc",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    ensure_procfs(proc_dir.as_fd())?;
    // thread-self is a plain symlink inside the same procfs; NO_XDEV refuses any mount on
    // the way (a bind over attr/exec), NO_MAGICLINKS any /proc/<pid>/fd-style jump.
    let how = OpenHow::new()
        .flags(OFlag::O_WRONLY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
        .resolve(ResolveFlag::RESOLVE_NO_XDEV | ResolveFlag::RESOLVE_NO_MAGICLINKS | ResolveFlag::RESOLVE_BENEATH);
    let mut path = [0u8; 64];
    let prefix = b"thread-self/attr/";
    let a = attr.to_bytes();
    if prefix.len() + a.len() >= path.len() {
        return Err(Errno::ENAMETOOLONG);
    }
    path[..prefix.len()].copy_from_slice(prefix);
    path[prefix.len()..prefix.len() + a.len()].copy_from_slice(a);
    let path = CStr::from_bytes_until_nul(&path).map_err(|_| Errno::EINVAL)?;
    let fd = nix::fcntl::openat2(proc_dir.as_fd(), path, how)?;
    ensure_procfs(fd.as_fd())?;
    let n = nix::unistd::write(&fd, value.to_bytes())?;
    if n != value.to_bytes().len() {
        return Err(Errno::EIO);
    }
    Ok(())
}

/// EXDEV unless `fd` is on procfs.
pub(crate) fn ensure_procfs(fd: std::os::fd::BorrowedFd<'_>) -> std::result::Result<(), Errno> {
    match nix::sys::statfs::fstatfs(fd) {
        Ok(s) if s.filesystem_type() == nix::sys::statfs::PROC_SUPER_MAGIC => Ok(()),
        Ok(_) => Err(Errno::EXDEV),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_refused_without_the_lsm() {
        let cfg = Path::new("/b/config.json");
        let e = LsmPlan::with_host(Some("foo"), None, cfg, false, false).unwrap_err();
        assert!(e.to_string().contains("process.apparmorProfile"), "{e}");
        let e = LsmPlan::with_host(None, Some("system_u:system_r:container_t:s0"), cfg, true, false).unwrap_err();
        assert!(e.to_string().contains("process.selinuxLabel"), "{e}");
        let e = mount_label_option_with(Some("a:b:c:s0"), cfg, false).unwrap_err();
        assert!(e.to_string().contains("linux.mountLabel"), "{e}");
        // Empty values are "not set", as in runc.
        assert!(LsmPlan::with_host(Some(""), Some(""), cfg, false, false)
            .unwrap()
            .is_empty());
        assert_eq!(mount_label_option_with(Some(""), cfg, false).unwrap(), None);
    }

    #[test]
    fn values_written_when_enabled() {
        let cfg = Path::new("/b/config.json");
        let p = LsmPlan::with_host(Some("my-prof"), Some("u:r:t:s0:c1,c2"), cfg, true, true).unwrap();
        assert_eq!(p.apparmor.as_deref(), Some(c"exec my-prof"));
        assert_eq!(p.selinux.as_deref(), Some(c"u:r:t:s0:c1,c2"));
        assert_eq!(
            mount_label_option_with(Some("u:object_r:t:s0:c1,c2"), cfg, true)
                .unwrap()
                .as_deref(),
            Some("context=\"u:object_r:t:s0:c1,c2\"")
        );
    }

    #[test]
    fn attr_writes_refuse_what_is_not_procfs() {
        // /proc of this test process is procfs; writing an empty exec attr with no LSM
        // fails in the kernel (EINVAL) rather than in our checks, which proves the open
        // reached the real file. With an LSM, an empty write resets the exec label.
        let r = write_exec_attr(c"exec", c"");
        assert!(matches!(r, Ok(()) | Err(Errno::EINVAL)), "{r:?}");
        let tmp = std::fs::File::open("/tmp").unwrap();
        assert_eq!(ensure_procfs(tmp.as_fd()), Err(Errno::EXDEV));
    }
}
