//! Id-mapped bind mounts (`mounts[].uidMappings`/`gidMappings`, the `idmap` and `ridmap`
//! options; runtime-spec `config.md` "Mounts"). The runtime prepares each one before the
//! clone, in its own mount namespace, as a detached mount: `open_tree(OPEN_TREE_CLONE)` of
//! the source, then `mount_setattr(MOUNT_ATTR_IDMAP)` with a user namespace that carries the
//! mappings. The container's init only attaches it with `move_mount` at the resolved
//! destination, so nothing is resolved or allocated after the clone.

use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::wait::waitpid;

use crate::error::{Error, Result};

/// A detached, id-mapped copy of the mount at `source` (`recursive`: its submounts too).
pub fn detached(source: &CString, recursive: bool, uid_map: &str, gid_map: &str) -> Result<OwnedFd> {
    let what = || source.to_string_lossy().into_owned();
    let tree = crate::sys::open_tree_clone(source, recursive)
        .map_err(|e| Error::sys(format!("open_tree {} for an id-mapped mount", what()), e))?;
    let userns = user_namespace(uid_map, gid_map)?;
    crate::sys::mount_set_idmap(tree.as_fd(), userns.as_fd(), recursive)
        .map_err(|e| Error::sys(format!("id-mapping the mount of {}", what()), e))?;
    Ok(tree)
}

/// A user namespace with the given maps, held by an fd: a child is cloned into a new user
/// namespace, mapped from here, and released once its namespace is open.
fn user_namespace(uid_map: &str, gid_map: &str) -> Result<OwnedFd> {
    let (rd, wr) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| Error::sys("pipe", e))?;
    let wr_raw = std::os::fd::AsRawFd::as_raw_fd(&wr);
    let spawned = crate::sys::spawn(libc::CLONE_NEWUSER as u64, libc::SIGCHLD, None, || {
        // Our copy of the write end would keep the pipe open: close it, then wait until the
        // parent closes its end (it has opened our namespace by then).
        crate::sys::close_fd(wr_raw);
        let mut b = [0u8; 1];
        loop {
            match nix::unistd::read(&rd, &mut b) {
                Err(Errno::EINTR) => continue,
                _ => return 0,
            }
        }
    })
    .map_err(|e| Error::sys("clone for an id-mapping user namespace", e))?;
    let pid = spawned.pid;
    let r = (|| -> Result<OwnedFd> {
        for (file, map) in [("uid_map", uid_map), ("gid_map", gid_map)] {
            let p = format!("/proc/{pid}/{file}");
            std::fs::write(&p, map).map_err(|e| Error::io("writing", p, e))?;
        }
        let p = format!("/proc/{pid}/ns/user");
        std::fs::File::open(&p)
            .map(OwnedFd::from)
            .map_err(|e| Error::io("opening", p, e))
    })();
    drop(wr);
    drop(rd);
    let _ = waitpid(pid, None);
    r
}
