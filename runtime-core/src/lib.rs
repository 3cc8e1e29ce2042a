//! `runtime-core`: an OCI runtime as a library.
//!
//! The flow of `create` is *load → plan → spawn → save*: [`spec`] loads and validates
//! `config.json`, [`plan`] turns the checked spec into a [`plan::LaunchPlan`] holding every
//! decision (and every C string, flag and open file descriptor) the container's init needs,
//! [`container`] spawns the init with `clone3` and drives it over a socket pair
//! ([`protocol`]), and [`state`] persists what later verbs need.
//!
//! `examples/lifecycle.rs` is the same as a program (`cargo run --example lifecycle --
//! BUNDLE`, as root); the test suite runs it.
//!
//! ```no_run
//! use runtime_core::{Runtime, CreateOptions};
//! # fn main() -> Result<(), runtime_core::Error> {
//! let rt = Runtime::new("/run/runtime-cli")?;
//! let c = rt.create("demo", CreateOptions::new("/path/to/bundle"))?;
//! rt.start("demo")?;
//! let status = rt.wait_child(c.pid)?; // the init is a child of this process
//! rt.delete("demo", false)?;
//! println!("exit code {}", status);
//! # Ok(()) }
//! ```
#![deny(unsafe_code)]

pub mod cgroups;
pub mod container;
pub mod error;
pub mod exec;
pub mod features;
pub mod hooks;
pub mod idmap;
pub mod idmount;
mod init;
pub mod lsm;
pub mod netdev;
pub mod plan;
pub mod procattr;
pub mod protocol;
mod rootfs;
pub mod seccomp;
pub mod signal;
pub mod spec;
pub mod state;
pub mod sys;
pub mod testpoint;
mod ttyproxy;

pub use container::{CreateOptions, Created, Runtime};
pub use error::{Error, ErrorKind};
pub use nix::unistd::Pid;
pub use state::{ContainerState, Status};

/// The runtime's own version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The runtime-spec version this runtime implements.
pub const OCI_VERSION: &str = "1.2.0";

/// Whether the calling process runs as real root (uid 0), for the CLI's default state root.
pub fn sys_is_root() -> bool {
    nix::unistd::getuid().is_root()
}

/// Whether this process runs in a user namespace other than the initial one (its
/// `/proc/self/uid_map` is not the identity map of every id), as a runtime started by rootless
/// podman does: uid 0 there is an unprivileged user outside (runc's `RunningInUserNS`).
pub fn in_user_namespace() -> bool {
    match std::fs::read_to_string("/proc/self/uid_map") {
        Ok(map) => map.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"],
        Err(_) => false,
    }
}

/// Where the library's debug-level messages go (for example a seccomp rule skipped because
/// libseccomp does not know the syscall's name). Nothing is printed unless a sink is set:
/// the CLI sets one that writes `level=debug` log entries under `--debug`.
static DEBUG_SINK: std::sync::OnceLock<fn(&str)> = std::sync::OnceLock::new();

/// Send the library's debug messages to `sink` (the first call wins).
pub fn set_debug_sink(sink: fn(&str)) {
    let _ = DEBUG_SINK.set(sink);
}

pub(crate) fn debug_log(msg: &str) {
    if let Some(sink) = DEBUG_SINK.get() {
        sink(msg);
    }
}
