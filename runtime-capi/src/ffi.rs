//! The exported C functions and types; cbindgen turns this module into `include/runtime.h`.
//!
//! Conventions (rustls-ffi style): opaque handles; every fallible call returns a
//! `runtime_code` and, when `err` is not NULL and the call fails, stores a new
//! `runtime_error` there that the caller frees with `runtime_error_free`. No panic crosses
//! the boundary: each entry runs under `catch_unwind` and a panic becomes
//! `RUNTIME_ERR_INTERNAL`. The library keeps no global state: everything lives in the
//! context, so a host that forks keeps working in both processes.
#![allow(unsafe_code)]
#![allow(non_camel_case_types)]

use std::ffi::{c_char, CStr, CString};
use std::io::Write;
use std::os::fd::{IntoRawFd, OwnedFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use runtime_core::container::StdioFds;
use runtime_core::exec::{ExecOptions, ExecOutcome};
use runtime_core::{CreateOptions, Error, ErrorKind, Runtime, Status};

/// Result of every fallible call. `RUNTIME_OK` is 0; the others name the kind of failure
/// (the message in the `runtime_error` says what failed).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum runtime_code {
    RUNTIME_OK = 0,
    /// No container with that id.
    RUNTIME_ERR_NOT_FOUND = 1,
    /// A container with that id exists already.
    RUNTIME_ERR_ALREADY_EXISTS = 2,
    /// A bad argument, id, bundle or configuration.
    RUNTIME_ERR_INVALID_ARGUMENT = 3,
    /// The container is in the wrong state for the operation.
    RUNTIME_ERR_INVALID_STATE = 4,
    /// Not supported by this runtime or host.
    RUNTIME_ERR_NOT_SUPPORTED = 5,
    /// A system call or file operation failed.
    RUNTIME_ERR_SYSTEM = 6,
    /// A bug in the library (a caught panic).
    RUNTIME_ERR_INTERNAL = 7,
}

/// A container status, as in the runtime spec.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum runtime_status {
    RUNTIME_STATUS_CREATED = 0,
    RUNTIME_STATUS_RUNNING = 1,
    RUNTIME_STATUS_PAUSED = 2,
    RUNTIME_STATUS_STOPPED = 3,
}

/// `runtime_context_options.rootless`: rootless when the caller is not root (the default).
/// Rootless mode (runc's `--rootless`) skips cgroups that cannot be created when the
/// config sets no resource limits.
pub const RUNTIME_ROOTLESS_AUTO: i32 = 0;
/// `runtime_context_options.rootless`: rootless.
pub const RUNTIME_ROOTLESS_TRUE: i32 = 1;
/// `runtime_context_options.rootless`: not rootless.
pub const RUNTIME_ROOTLESS_FALSE: i32 = 2;

/// A failure: a code and a one-line message. Free with `runtime_error_free`.
#[derive(Debug)]
pub struct runtime_error {
    code: runtime_code,
    message: CString,
}

/// A state root and its options. Thread-safe: calls on different containers run in
/// parallel; calls on one container serialize on the container's lock, as CLI processes do.
/// Free with `runtime_context_free`.
#[derive(Debug)]
pub struct runtime_context {
    rt: Runtime,
    log_file: Option<PathBuf>,
    systemd_cgroup: bool,
}

/// Options of `runtime_context_new`; a NULL pointer means all defaults (zeroed struct).
#[repr(C)]
#[derive(Debug)]
pub struct runtime_context_options {
    /// When not NULL, every failure is also appended to this file as one JSON line
    /// `{"level":"error","msg":...,"time":...}` (the CLI's `--log` with `--log-format json`).
    pub log_file: *const c_char,
    /// Use the systemd cgroup driver (the CLI's `--systemd-cgroup`): refused with
    /// `RUNTIME_ERR_NOT_SUPPORTED` when systemd is not running on the host.
    pub systemd_cgroup: bool,
    /// One of `RUNTIME_ROOTLESS_AUTO` (0), `RUNTIME_ROOTLESS_TRUE`, `RUNTIME_ROOTLESS_FALSE`.
    pub rootless: i32,
}

/// Options of `runtime_create` and `runtime_run`. Zero-initialise, then set `bundle`.
#[repr(C)]
#[derive(Debug)]
pub struct runtime_create_options {
    /// The bundle directory (required).
    pub bundle: *const c_char,
    /// Path of a unix socket that receives the pty master (only with `process.terminal`).
    pub console_socket: *const c_char,
    /// Where to write the init's pid, or NULL.
    pub pid_file: *const c_char,
    /// Pass fds 3 .. 3+preserve_fds-1 of the caller to the process.
    pub preserve_fds: u32,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    /// When true, `stdio[0..3]` become the process's stdin, stdout and stderr (the library
    /// duplicates them; the caller keeps and closes its own). When false the process inherits
    /// the caller's fds 0, 1, 2. Not allowed with `process.terminal`.
    pub use_stdio: bool,
    pub stdio: [i32; 3],
}

/// Options of `runtime_exec`; a NULL pointer means all defaults.
#[repr(C)]
#[derive(Debug)]
pub struct runtime_exec_options {
    /// Path of a unix socket that receives the pty master (only with `terminal`).
    pub console_socket: *const c_char,
    /// Where to write the process's pid, or NULL.
    pub pid_file: *const c_char,
    pub preserve_fds: u32,
    /// Exec even when the container is paused.
    pub ignore_paused: bool,
    /// As in `runtime_create_options`.
    pub use_stdio: bool,
    pub stdio: [i32; 3],
}

/// A process the library started: it is a direct child of the calling process.
///
/// The caller must reap it (`waitpid(pid, ...)`, or `waitid(P_PIDFD, pidfd, ...)`); a
/// container shim should be a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`) so that it
/// also reaps what the process leaves behind. `pidfd` (or -1 if the kernel gave none) is
/// owned by the caller, who closes it.
#[repr(C)]
#[derive(Debug)]
pub struct runtime_process {
    pub pid: i32,
    pub pidfd: i32,
}

/// The state of a container. Strings are owned by the struct: free it with
/// `runtime_state_free`.
#[repr(C)]
#[derive(Debug)]
pub struct runtime_state {
    pub oci_version: *mut c_char,
    pub id: *mut c_char,
    /// Host pid of the init; 0 once stopped.
    pub pid: i32,
    pub status: runtime_status,
    pub bundle: *mut c_char,
    pub rootfs: *mut c_char,
    /// RFC 3339 creation time.
    pub created: *mut c_char,
}

/// What an entry point fails with before it is turned into a `runtime_error`.
struct Failure {
    code: runtime_code,
    message: String,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let code = match e.kind() {
            ErrorKind::NotFound => runtime_code::RUNTIME_ERR_NOT_FOUND,
            ErrorKind::AlreadyExists => runtime_code::RUNTIME_ERR_ALREADY_EXISTS,
            ErrorKind::InvalidArgument => runtime_code::RUNTIME_ERR_INVALID_ARGUMENT,
            ErrorKind::InvalidState => runtime_code::RUNTIME_ERR_INVALID_STATE,
            ErrorKind::NotSupported => runtime_code::RUNTIME_ERR_NOT_SUPPORTED,
            _ => runtime_code::RUNTIME_ERR_SYSTEM,
        };
        Failure {
            code,
            message: e.to_string(),
        }
    }
}

fn invalid(message: impl Into<String>) -> Failure {
    Failure {
        code: runtime_code::RUNTIME_ERR_INVALID_ARGUMENT,
        message: message.into(),
    }
}

type Res<T> = Result<T, Failure>;

/// Run one entry point: catch panics, turn failures into a code and an error object, append
/// failures to the context's log file.
fn entry(log: Option<&Path>, err: *mut *mut runtime_error, f: impl FnOnce() -> Res<()>) -> runtime_code {
    let r = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let what = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(Failure {
            code: runtime_code::RUNTIME_ERR_INTERNAL,
            message: format!("internal error: {what}"),
        })
    });
    match r {
        Ok(()) => runtime_code::RUNTIME_OK,
        Err(f) => {
            if let Some(p) = log {
                log_line(p, "error", &f.message);
            }
            if !err.is_null() {
                let e = Box::new(runtime_error {
                    code: f.code,
                    message: CString::new(f.message.replace('\0', " ")).unwrap_or_default(),
                });
                // SAFETY: the caller passed either NULL (checked above) or a valid pointer to
                // a `runtime_error *` it lets us write (documented on every entry point).
                unsafe { *err = Box::into_raw(e) };
            }
            f.code
        }
    }
}

fn log_line(path: &Path, level: &str, msg: &str) {
    let line = serde_json::json!({"level": level, "msg": msg, "time": runtime_core::state::now_rfc3339()});
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(f, "{line}");
    }
}

/// Borrow a required C string argument as UTF-8.
///
/// # Safety
/// `p` is NULL or a valid NUL-terminated string that outlives `'a`.
unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Res<&'a str> {
    if p.is_null() {
        return Err(invalid(format!("{what} must not be NULL")));
    }
    // SAFETY: non-NULL and, per this function's contract, a valid C string.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| invalid(format!("{what} is not valid UTF-8")))
}

/// An optional C string argument as a path.
///
/// # Safety
/// As for [`str_arg`].
unsafe fn opt_path(p: *const c_char, what: &str) -> Res<Option<PathBuf>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    Ok(Some(PathBuf::from(unsafe { str_arg(p, what) }?)))
}

/// Borrow the context.
///
/// # Safety
/// `ctx` is NULL or a pointer returned by `runtime_context_new` and not yet freed.
unsafe fn ctx_ref<'a>(ctx: *const runtime_context) -> Res<&'a runtime_context> {
    // SAFETY: per the contract, non-NULL means a live context, shared read-only.
    unsafe { ctx.as_ref() }.ok_or_else(|| invalid("context must not be NULL"))
}

/// The log file of a context pointer, for error reporting before the context is checked.
///
/// # Safety
/// As for [`ctx_ref`].
unsafe fn ctx_log<'a>(ctx: *const runtime_context) -> Option<&'a Path> {
    // SAFETY: forwarded contract.
    unsafe { ctx.as_ref() }.and_then(|c| c.log_file.as_deref())
}

/// Duplicate the caller's three stdio descriptors (close-on-exec, numbered >= 3).
fn dup_stdio(use_stdio: bool, fds: [i32; 3]) -> Res<Option<StdioFds>> {
    if !use_stdio {
        return Ok(None);
    }
    let mut out: Vec<OwnedFd> = Vec::with_capacity(3);
    for (i, fd) in fds.into_iter().enumerate() {
        // F_DUPFD_CLOEXEC checks the fd itself (EBADF for a closed one) before we wrap it.
        // SAFETY: fcntl with plain integer arguments; it does not touch memory.
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
        if dup < 0 {
            return Err(invalid(format!(
                "stdio[{i}] = {fd}: {}",
                runtime_core::error::errno_text(nix::errno::Errno::last())
            )));
        }
        // SAFETY: fcntl returned a new descriptor that nothing else owns.
        out.push(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(dup) });
    }
    let arr: [OwnedFd; 3] = out.try_into().map_err(|_| invalid("stdio: three descriptors"))?;
    Ok(Some(Arc::new(arr)))
}

fn give_pidfd(pidfd: Option<OwnedFd>) -> i32 {
    pidfd.map(IntoRawFd::into_raw_fd).unwrap_or(-1)
}

/// # Safety
/// `opts` is a valid pointer whose strings are valid or NULL.
unsafe fn create_options(opts: *const runtime_create_options) -> Res<CreateOptions> {
    // SAFETY: per the contract, non-NULL means a valid struct.
    let o = unsafe { opts.as_ref() }.ok_or_else(|| invalid("create options must not be NULL"))?;
    // SAFETY: the strings in the struct are valid or NULL (the caller's contract).
    let bundle = unsafe { str_arg(o.bundle, "bundle") }?;
    Ok(CreateOptions {
        bundle: PathBuf::from(bundle),
        // SAFETY: as above.
        pid_file: unsafe { opt_path(o.pid_file, "pid_file") }?,
        // SAFETY: as above.
        console_socket: unsafe { opt_path(o.console_socket, "console_socket") }?,
        no_pivot: o.no_pivot,
        no_new_keyring: o.no_new_keyring,
        preserve_fds: o.preserve_fds,
        // Socket activation is the CLI's business (its own LISTEN_FDS); an embedder passes
        // such fds with preserve_fds.
        listen_fds: 0,
        // Set from the context by the caller of this function.
        systemd_cgroup: false,
        stdio: dup_stdio(o.use_stdio, o.stdio)?,
    })
}

fn string_out(out: *mut *mut c_char, s: String) -> Res<()> {
    let c = CString::new(s).map_err(|_| invalid("string contains NUL"))?;
    // SAFETY: the caller checked `out` is non-NULL and writable before calling.
    unsafe { *out = c.into_raw() };
    Ok(())
}

fn check_out<T>(out: *mut T, what: &str) -> Res<()> {
    if out.is_null() {
        return Err(invalid(format!("{what} must not be NULL")));
    }
    Ok(())
}

/// The library version (static string; do not free).
#[no_mangle]
pub extern "C" fn runtime_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The code of an error.
///
/// # Safety
/// `err` is NULL or an error returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn runtime_error_code(err: *const runtime_error) -> runtime_code {
    // SAFETY: per the contract.
    match unsafe { err.as_ref() } {
        Some(e) => e.code,
        None => runtime_code::RUNTIME_OK,
    }
}

/// The message of an error, valid until `runtime_error_free` (do not free it yourself).
///
/// # Safety
/// `err` is NULL or an error returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn runtime_error_message(err: *const runtime_error) -> *const c_char {
    // SAFETY: per the contract.
    match unsafe { err.as_ref() } {
        Some(e) => e.message.as_ptr(),
        // Not a c"" literal: cbindgen 0.24 (Debian's) cannot parse those.
        #[allow(clippy::manual_c_str_literals)]
        None => b"\0".as_ptr().cast(),
    }
}

/// Free an error (NULL is allowed).
///
/// # Safety
/// `err` is NULL or an error returned by this library, freed only once.
#[no_mangle]
pub unsafe extern "C" fn runtime_error_free(err: *mut runtime_error) {
    if !err.is_null() {
        // SAFETY: per the contract, `err` came from Box::into_raw in this library.
        drop(unsafe { Box::from_raw(err) });
    }
}

/// Free a string returned by this library (NULL is allowed).
///
/// # Safety
/// `s` is NULL or a string returned by this library, freed only once.
#[no_mangle]
pub unsafe extern "C" fn runtime_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: per the contract, `s` came from CString::into_raw in this library.
        drop(unsafe { CString::from_raw(s) });
    }
}

/// Open a context on the state root `root` (created with the first container; `/` is
/// refused). `opts` may be NULL. On success `*out` holds a context to free with
/// `runtime_context_free`.
///
/// # Safety
/// `root` is a valid C string; `opts` is NULL or valid; `out` is a valid pointer; `err` is
/// NULL or a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn runtime_context_new(
    root: *const c_char,
    opts: *const runtime_context_options,
    out: *mut *mut runtime_context,
    err: *mut *mut runtime_error,
) -> runtime_code {
    // SAFETY: `opts` is NULL or valid (contract); its log file string likewise.
    let log_file = unsafe { opts.as_ref() }.and_then(|o| unsafe { opt_path(o.log_file, "log_file") }.ok().flatten());
    entry(log_file.as_deref(), err, || {
        check_out(out, "out")?;
        // SAFETY: contract.
        let root = unsafe { str_arg(root, "root") }?;
        // SAFETY: contract.
        if let Some(o) = unsafe { opts.as_ref() } {
            // SAFETY: contract.
            unsafe { opt_path(o.log_file, "log_file") }?;
            if o.systemd_cgroup && !Path::new("/run/systemd/system").exists() {
                return Err(Failure {
                    code: runtime_code::RUNTIME_ERR_NOT_SUPPORTED,
                    message: "systemd_cgroup: systemd is not running on this host (no /run/systemd/system); the systemd cgroup driver is not available".into(),
                });
            }
            if !(RUNTIME_ROOTLESS_AUTO..=RUNTIME_ROOTLESS_FALSE).contains(&o.rootless) {
                return Err(invalid(format!(
                    "invalid rootless value {}: want RUNTIME_ROOTLESS_AUTO, _TRUE or _FALSE",
                    o.rootless
                )));
            }
        }
        let mut rt = Runtime::new(root)?;
        // SAFETY: contract.
        match unsafe { opts.as_ref() }.map(|o| o.rootless) {
            Some(RUNTIME_ROOTLESS_TRUE) => rt.set_rootless(true),
            Some(RUNTIME_ROOTLESS_FALSE) => rt.set_rootless(false),
            _ => {}
        }
        let ctx = Box::new(runtime_context {
            rt,
            log_file: log_file.clone(),
            // SAFETY: contract.
            systemd_cgroup: unsafe { opts.as_ref() }.is_some_and(|o| o.systemd_cgroup),
        });
        // SAFETY: `out` is non-NULL (checked) and writable (contract).
        unsafe { *out = Box::into_raw(ctx) };
        Ok(())
    })
}

/// Free a context (NULL is allowed). Containers are not touched.
///
/// # Safety
/// `ctx` is NULL or a context from `runtime_context_new`, freed once, with no call using it
/// in progress.
#[no_mangle]
pub unsafe extern "C" fn runtime_context_free(ctx: *mut runtime_context) {
    if !ctx.is_null() {
        // SAFETY: per the contract, `ctx` came from Box::into_raw in runtime_context_new.
        drop(unsafe { Box::from_raw(ctx) });
    }
}

/// Create container `id` from `opts->bundle`: set up and waiting for `runtime_start`.
///
/// The container's init is a direct child of the calling process: the caller reaps it
/// (waitpid or the pidfd; shims are subreapers). When `out` is not NULL it receives the
/// init's pid and a pidfd the caller closes; when NULL the pidfd is closed.
///
/// # Safety
/// Pointers are valid (strings NUL-terminated) or NULL where allowed.
#[no_mangle]
pub unsafe extern "C" fn runtime_create(
    ctx: *const runtime_context,
    id: *const c_char,
    opts: *const runtime_create_options,
    out: *mut runtime_process,
    err: *mut *mut runtime_error,
) -> runtime_code {
    // SAFETY: contract.
    entry(unsafe { ctx_log(ctx) }, err, || {
        // SAFETY: contract (for every helper call below).
        let (c, id, mut o) = unsafe { (ctx_ref(ctx)?, str_arg(id, "id")?, create_options(opts)?) };
        o.systemd_cgroup = c.systemd_cgroup;
        let created = c.rt.create(id, o)?;
        if !out.is_null() {
            let p = runtime_process {
                pid: created.pid.as_raw(),
                pidfd: give_pidfd(created.pidfd),
            };
            // SAFETY: non-NULL and writable (contract).
            unsafe { *out = p };
        }
        Ok(())
    })
}

/// Start a created container (its program runs).
///
/// # Safety
/// Pointers are valid or NULL where allowed.
#[no_mangle]
pub unsafe extern "C" fn runtime_start(
    ctx: *const runtime_context,
    id: *const c_char,
    err: *mut *mut runtime_error,
) -> runtime_code {
    // SAFETY: contract.
    entry(unsafe { ctx_log(ctx) }, err, || {
        // SAFETY: contract.
        let (c, id) = unsafe { (ctx_ref(ctx)?, str_arg(id, "id")?) };
        Ok(c.rt.start(id)?)
    })
}

/// Create, start, wait for and delete container `id`; `*exit_code` gets the init's exit
/// code (128 + signal when killed). The calling thread blocks in waitpid for the init
/// only (other children of the caller are not reaped); signals are not forwarded: use
/// `runtime_kill` from another thread.
///
/// # Safety
/// Pointers are valid or NULL where allowed (`exit_code` may be NULL).
#[no_mangle]
pub unsafe extern "C" fn runtime_run(
    ctx: *const runtime_context,
    id: *const c_char,
    opts: *const runtime_create_options,
    exit_code: *mut i32,
    err: *mut *mut runtime_error,
) -> runtime_code {
    // SAFETY: contract.
    entry(unsafe { ctx_log(ctx) }, err, || {
        // SAFETY: contract.
        let (c, id, mut o) = unsafe { (ctx_ref(ctx)?, str_arg(id, "id")?, create_options(opts)?) };
        o.systemd_cgroup = c.systemd_cgroup;
        let created = c.rt.create(id, o)?;
        if let Err(e) = c.rt.start(id) {
            let _ = c.rt.delete(id, true);
            let _ = c.rt.wait_child(created.pid);
            return Err(e.into());
        }
        let code = c.rt.wait_child(created.pid);
        let deleted = c.rt.delete(id, true);
        let code = code?;
        deleted?;
        if !exit_code.is_null() {
            // SAFETY: non-NULL and writable (contract).
            unsafe { *exit_code = code };
        }
        Ok(())
    })
}

fn status_code(s: Status) -> runtime_status {
    match s {
        Status::Created => runtime_status::RUNTIME_STATUS_CREATED,
        Status::Running => runtime_status::RUNTIME_STATUS_RUNNING,
        Status::Paused => runtime_status::RUNTIME_STATUS_PAUSED,
        Status::Stopped => runtime_status::RUNTIME_STATUS_STOPPED,
    }
}

fn c_string(s: &str) -> *mut c_char {
    CString::new(s.replace('\0', " ")).unwrap_or_default().into_raw()
}

/// The state of container `id` as a struct; free `*out` with `runtime_state_free`.
///
/// # Safety
/// Pointers are valid or NULL where allowed.
#[no_mangle]
pub unsafe extern "C" fn runtime_state_get(
    ctx: *const runtime_context,
    id: *const c_char,
    out: *mut *mut runtime_state,
    err: *mut *mut runtime_error,
) -> runtime_code {
    // SAFETY: contract.
    entry(unsafe { ctx_log(ctx) }, err, || {
        check_out(out, "out")?;
        // SAFETY: contract.
        let (c, id) = unsafe { (ctx_ref(ctx)?, str_arg(id, "id")?) };
        let s = c.rt.state(id)?;
        let st = Box::new(runtime_state {
            oci_version: c_string(&s.oci_version),
            id: c_string(&s.id),
            pid: s.pid,
            status: status_code(s.status),
            bundle: c_string(&s.bundle.to_string_lossy()),
            rootfs: c_string(&s.rootfs.to_string_lossy()),
            created: c_string(&s.created),
        });
        // SAFETY: non-NULL (checked) and writable (contract).
        unsafe { *out = Box::into_raw(st) };
        Ok(())
    })
}

/// Free a state from `runtime_state_get` (NULL is allowed).
///
/// # Safety
/// `st` is NULL or a state returned by this library, freed once.
#[no_mangle]
pub unsafe extern "C" fn runtime_state_free(st: *mut runtime_state) {
    if st.is_null() {
        return;
    }
    // SAFETY: per the contract, `st` came from Box::into_raw in runtime_state_get, and its
    // strings from CString::into_raw.
    unsafe {
        let st = Box::from_raw(st);
        for p in [st.oci_version, st.id, st.bundle, st.rootfs, st.created] {
            if !p.is_null() {
                drop(CString::from_raw(p));
            }
        }
    }
}

/// The state of container `id` as the runtime spec's JSON (what `runtime-cli state`
/// prints); free `*json` with `runtime_string_free`.
///
/// # Safety
/// Pointers are valid or NULL where allowed.
#[no_mangle]
pub unsafe extern "C" fn runtime_state_json(
    ctx: *const runtime_context,
    id: *const c_char,
    json: *mut *mut c_char,
    err: *mut *mut runtime_error,
) -> runtime_code {
    // SAFETY: contract.
    entry(unsafe { ctx_log(ctx) }, err, || {
        check_out(json, "json")?;
        // SAFETY: contract.
        let (c, id) = unsafe { (ctx_ref(ctx)?, str_arg(id, "id")?) };
        let s = c.rt.state(id)?;
        string_out(json, serde_json::to_string(&s).map_err(|e| invalid(e.to_string()))?)
    })
}

/// Every container of the root as a JSON array of states (`runtime-cli list --format
/// json`); free `*json` with `runtime_string_free`. Entries that cannot be read are left
/// out (and logged to the context's log file, if any).
///
/// # Safety
/// Pointers are valid or NULL where allowed.
#[no_mangle]
pub unsafe extern "C" fn runtime_list_json(
    ctx: *const runtime_context,
    json: *mut *mut c_char,
    err: *mut *mut runtime_error,
) -> runtime_code {
    // SAFETY: contract.
    entry(unsafe { ctx_log(ctx) }, err, || {
        check_out(json, "json")?;
        // SAFETY: contract.
        let c = unsafe { ctx_ref(ctx) }?;
        let (list, errs) = c.rt.list()?;
        if let Some(p) = &c.log_file {
            for e in errs {
                log_line(p, "warning", &e.to_string());
            }
        }
        string_out(json, serde_json::to_string(&list).map_err(|e| invalid(e.to_string()))?)
    })
}

/// Send `signal` to the init, or with `all` to every process of the container.
///
/// # Safety
/// Pointers are valid or NULL where allowed.
#[no_mangle]
pub unsafe extern "C" fn runtime_kill(
    ctx: *const runtime_context,
    id: *const c_char,
    signal: i32,
    all: bool,
    err: *mut *mut runtime_error,
) -> runtime_code {
    // SAFETY: contract.
    entry(unsafe { ctx_log(ctx) }, err, || {
        // SAFETY: contract.
        let (c, id) = unsafe { (ctx_ref(ctx)?, str_arg(id, "id")?) };
        if signal <= 0 || signal > 64 {
            return Err(invalid(format!("invalid signal {signal}")));
        }
        Ok(c.rt.kill(id, signal, all)?)
    })
}

/// Delete container `id` (stopped or created; any status with `force`).
///
/// # Safety
/// Pointers are valid or NULL where allowed.
#[no_mangle]
pub unsafe extern "C" fn runtime_delete(
    ctx: *const runtime_context,
    id: *const c_char,
    force: bool,
    err: *mut *mut runtime_error,
) -> runtime_code {
    // SAFETY: contract.
    entry(unsafe { ctx_log(ctx) }, err, || {
        // SAFETY: contract.
        let (c, id) = unsafe { (ctx_ref(ctx)?, str_arg(id, "id")?) };
        let warnings = c.rt.delete_reporting(id, force)?;
        if let Some(p) = &c.log_file {
            for w in warnings {
                log_line(p, "warning", &w.to_string());
            }
        }
        Ok(())
    })
}

/// Run one more process in container `id`. `process_json` is a runtime-spec `process`
/// object (as for `runtime-cli exec --process`). The process is a direct child of the
/// caller, which reaps it; `out` (may be NULL) gets its pid and a pidfd the caller closes.
///
/// # Safety
/// Pointers are valid or NULL where allowed (`opts`, `out`, `err` may be NULL).
#[no_mangle]
pub unsafe extern "C" fn runtime_exec(
    ctx: *const runtime_context,
    id: *const c_char,
    process_json: *const c_char,
    opts: *const runtime_exec_options,
    out: *mut runtime_process,
    err: *mut *mut runtime_error,
) -> runtime_code {
    // SAFETY: contract.
    entry(unsafe { ctx_log(ctx) }, err, || {
        // SAFETY: contract.
        let (c, id, json) = unsafe {
            (
                ctx_ref(ctx)?,
                str_arg(id, "id")?,
                str_arg(process_json, "process_json")?,
            )
        };
        let source = PathBuf::from("process_json");
        let process = runtime_core::spec::parse_json(&source, json.as_bytes())?;
        // SAFETY: contract.
        let o = unsafe { opts.as_ref() };
        let (pid_file, console_socket, preserve_fds, ignore_paused, stdio) = match o {
            // SAFETY: contract (strings in the options are valid or NULL).
            Some(o) => unsafe {
                (
                    opt_path(o.pid_file, "pid_file")?,
                    opt_path(o.console_socket, "console_socket")?,
                    o.preserve_fds,
                    o.ignore_paused,
                    dup_stdio(o.use_stdio, o.stdio)?,
                )
            },
            None => (None, None, 0, false, None),
        };
        let opts = ExecOptions {
            process,
            detach: true,
            pid_file,
            console_socket,
            preserve_fds,
            ignore_paused,
            stdio,
            source,
        };
        let pid = match c.rt.exec(id, opts)? {
            ExecOutcome::Detached(pid) => pid,
            ExecOutcome::Exited(_) => unreachable!("exec is always detached here"),
        };
        if !out.is_null() {
            let pidfd = runtime_core::sys::pidfd_open(pid).ok();
            // SAFETY: non-NULL and writable (contract).
            unsafe {
                *out = runtime_process {
                    pid: pid.as_raw(),
                    pidfd: give_pidfd(pidfd),
                }
            };
        }
        Ok(())
    })
}

/// Freeze every process of container `id`.
///
/// # Safety
/// Pointers are valid or NULL where allowed.
#[no_mangle]
pub unsafe extern "C" fn runtime_pause(
    ctx: *const runtime_context,
    id: *const c_char,
    err: *mut *mut runtime_error,
) -> runtime_code {
    // SAFETY: contract.
    entry(unsafe { ctx_log(ctx) }, err, || {
        // SAFETY: contract.
        let (c, id) = unsafe { (ctx_ref(ctx)?, str_arg(id, "id")?) };
        Ok(c.rt.pause(id)?)
    })
}

/// Change the resource limits of a running container: `resources_json` is a
/// `linux.resources` object (what `runtime-cli update --resources` reads, as dockerd sends
/// it); fields that are absent keep their values.
///
/// # Safety
/// Pointers are valid or NULL where allowed.
#[no_mangle]
pub unsafe extern "C" fn runtime_update(
    ctx: *const runtime_context,
    id: *const c_char,
    resources_json: *const c_char,
    err: *mut *mut runtime_error,
) -> runtime_code {
    // SAFETY: contract.
    entry(unsafe { ctx_log(ctx) }, err, || {
        // SAFETY: contract.
        let (c, id, json) = unsafe {
            (
                ctx_ref(ctx)?,
                str_arg(id, "id")?,
                str_arg(resources_json, "resources_json")?,
            )
        };
        let r: oci_spec::runtime::LinuxResources =
            serde_json::from_str(json).map_err(|e| invalid(format!("resources_json: {e}")))?;
        Ok(c.rt.update(id, &r)?)
    })
}

/// The container's cgroup statistics as JSON (the `data` object of `runtime-cli events
/// --stats`); free `*json` with `runtime_string_free`.
///
/// # Safety
/// Pointers are valid or NULL where allowed.
#[no_mangle]
pub unsafe extern "C" fn runtime_stats_json(
    ctx: *const runtime_context,
    id: *const c_char,
    json: *mut *mut c_char,
    err: *mut *mut runtime_error,
) -> runtime_code {
    // SAFETY: contract.
    entry(unsafe { ctx_log(ctx) }, err, || {
        check_out(json, "json")?;
        // SAFETY: contract.
        let (c, id) = unsafe { (ctx_ref(ctx)?, str_arg(id, "id")?) };
        let s = c.rt.stats(id)?;
        string_out(json, serde_json::to_string(&s).map_err(|e| invalid(e.to_string()))?)
    })
}

/// The runtime-spec features document (`runtime-cli features`) as JSON; free `*json` with
/// `runtime_string_free`.
///
/// # Safety
/// Pointers are valid or NULL where allowed.
#[no_mangle]
pub unsafe extern "C" fn runtime_features_json(json: *mut *mut c_char, err: *mut *mut runtime_error) -> runtime_code {
    entry(None, err, || {
        check_out(json, "json")?;
        let doc = runtime_core::features::document();
        string_out(json, serde_json::to_string(&doc).map_err(|e| invalid(e.to_string()))?)
    })
}

/// Thaw a paused container.
///
/// # Safety
/// Pointers are valid or NULL where allowed.
#[no_mangle]
pub unsafe extern "C" fn runtime_resume(
    ctx: *const runtime_context,
    id: *const c_char,
    err: *mut *mut runtime_error,
) -> runtime_code {
    // SAFETY: contract.
    entry(unsafe { ctx_log(ctx) }, err, || {
        // SAFETY: contract.
        let (c, id) = unsafe { (ctx_ref(ctx)?, str_arg(id, "id")?) };
        Ok(c.rt.resume(id)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_internal_error() {
        let mut err: *mut runtime_error = std::ptr::null_mut();
        let code = entry(None, &mut err, || panic!("boom"));
        assert_eq!(code, runtime_code::RUNTIME_ERR_INTERNAL);
        assert!(!err.is_null());
        // SAFETY: `err` was just set by `entry` and is freed once below.
        unsafe {
            assert_eq!(runtime_error_code(err), runtime_code::RUNTIME_ERR_INTERNAL);
            let msg = CStr::from_ptr(runtime_error_message(err)).to_str().unwrap();
            assert_eq!(msg, "internal error: boom");
            runtime_error_free(err);
        }
    }

    #[test]
    fn library_errors_keep_their_kind_and_message() {
        let mut err: *mut runtime_error = std::ptr::null_mut();
        let code = entry(None, &mut err, || Err(Error::NotExist("x".into()).into()));
        assert_eq!(code, runtime_code::RUNTIME_ERR_NOT_FOUND);
        // SAFETY: `err` was just set by `entry` and is freed once below.
        unsafe {
            let msg = CStr::from_ptr(runtime_error_message(err)).to_str().unwrap();
            assert_eq!(msg, "container does not exist");
            runtime_error_free(err);
        }
        // A NULL error pointer only gets the code.
        let code = entry(None, std::ptr::null_mut(), || Err(invalid("bad")));
        assert_eq!(code, runtime_code::RUNTIME_ERR_INVALID_ARGUMENT);
    }
}
