//! C ABI over `runtime-core`. The exported surface arrives with the C API issue; until then
//! this crate only exposes the version so that the build layout (cdylib + staticlib) exists.

/// The library version, as a Rust string (the C entry points come with the C API work).
pub fn version() -> &'static str {
    runtime_core::VERSION
}
