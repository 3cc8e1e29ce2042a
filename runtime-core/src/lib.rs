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
pub mod hooks;
pub mod idmap;
mod init;
pub mod plan;
pub mod protocol;
mod rootfs;
pub mod seccomp;
pub mod signal;
pub mod spec;
pub mod state;
pub mod sys;
pub mod testpoint;

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
