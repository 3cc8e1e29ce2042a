//! The test cgroups: where they may be, whether they exist, and how they are removed.
//!
//! Rules (lab.md): test cgroups are absolute paths below [`CGROUP_PREFIX`]; nothing under any
//! `process_api` is ever written or removed; removal is `rmdir` of (empty) directories only.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::procfs::ProcId;
use crate::{wait_until, CGROUP_PREFIX};

const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// Accepts only `/runtime-cli-test/<something>` without `.`/`..` components or `process_api`.
pub fn check_test_cgroup_path(p: &str) -> Result<(), String> {
    let path = Path::new(p);
    if !path.is_absolute() {
        return Err(format!(
            "cgroupsPath {p:?} is not absolute (it would nest under the caller's cgroup, process_api)"
        ));
    }
    if !path.starts_with(CGROUP_PREFIX) || path == Path::new(CGROUP_PREFIX) {
        return Err(format!("cgroupsPath {p:?} is not below {CGROUP_PREFIX}/"));
    }
    if path
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
        || p.contains("process_api")
    {
        return Err(format!("cgroupsPath {p:?} contains `.`, `..` or `process_api`"));
    }
    Ok(())
}

/// Mounted hierarchies: each directory of `/sys/fs/cgroup` on a v1/hybrid host (including the
/// named `systemd` one and `unified`), or `/sys/fs/cgroup` itself on a pure v2 host.
pub fn hierarchies() -> Vec<PathBuf> {
    let root = Path::new(CGROUP_ROOT);
    if root.join("cgroup.controllers").exists() {
        return vec![root.to_path_buf()];
    }
    let mut seen = Vec::new();
    let mut out = Vec::new();
    if let Ok(dir) = std::fs::read_dir(root) {
        for e in dir.flatten() {
            let p = e.path();
            let Ok(real) = p.canonicalize() else { continue };
            if real.is_dir() && !seen.contains(&real) {
                seen.push(real);
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The directory of `cgroup_path` inside hierarchy `h`.
pub fn dir_in(h: &Path, cgroup_path: &str) -> PathBuf {
    h.join(cgroup_path.trim_start_matches('/'))
}

/// Directories of `cgroup_path` that exist in any hierarchy (a leak check: must be empty
/// after `delete`).
pub fn existing_dirs(cgroup_path: &str) -> Vec<PathBuf> {
    hierarchies()
        .iter()
        .map(|h| dir_in(h, cgroup_path))
        .filter(|d| d.is_dir())
        .collect()
}

fn subdirs_depth_first(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                subdirs_depth_first(&e.path(), out);
            }
        }
    }
    out.push(dir.to_path_buf());
}

fn pids_of(dir: &Path) -> Vec<i32> {
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

fn thaw(dir: &Path) {
    // Only inside our own test cgroup (the caller checked the path).
    let v1 = dir.join("freezer.state");
    if std::fs::read_to_string(&v1).is_ok_and(|s| s.trim() != "THAWED") {
        let _ = std::fs::write(&v1, "THAWED");
    }
    let v2 = dir.join("cgroup.freeze");
    if std::fs::read_to_string(&v2).is_ok_and(|s| s.trim() == "1") {
        let _ = std::fs::write(&v2, "0");
    }
}

/// Removes a test cgroup in every hierarchy: thaws it, SIGKILLs the processes that are still
/// inside it (only processes in this test's own cgroup, i.e. ones the test started), then
/// `rmdir`s it and its sub-directories, deepest first. Never removes anything recursively and
/// refuses paths outside [`CGROUP_PREFIX`]. Returns a description of what could not be removed.
pub fn remove_test_cgroup(cgroup_path: &str) -> Vec<String> {
    if let Err(e) = check_test_cgroup_path(cgroup_path) {
        return vec![format!("refusing to clean up: {e}")];
    }
    let mut problems = Vec::new();
    for h in hierarchies() {
        let top = dir_in(&h, cgroup_path);
        if !top.is_dir() {
            continue;
        }
        let mut dirs = Vec::new();
        subdirs_depth_first(&top, &mut dirs);
        for d in &dirs {
            thaw(d);
            for pid in pids_of(d) {
                if let Some(p) = ProcId::of(pid) {
                    p.signal(Signal::SIGKILL);
                }
            }
        }
        for d in &dirs {
            let gone = wait_until(Duration::from_secs(5), || match std::fs::remove_dir(d) {
                Ok(()) => true,
                Err(e) => e.kind() == std::io::ErrorKind::NotFound,
            });
            if !gone {
                problems.push(format!("cannot rmdir {} (pids: {:?})", d.display(), pids_of(d)));
            }
        }
    }
    problems
}
