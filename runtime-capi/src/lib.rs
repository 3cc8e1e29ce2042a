//! C ABI over `runtime-core`: `libruntime` (shared and static) and the header
//! `include/runtime.h`, generated from [`ffi`] by cbindgen.
//!
//! Every call maps C arguments to one library call and the library's error to a code plus a
//! message; there is no container logic here. All `unsafe` lives in [`ffi`].

pub mod ffi;

/// The library version, as a Rust string.
pub fn version() -> &'static str {
    runtime_core::VERSION
}
