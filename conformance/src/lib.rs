//! Black-box conformance harness for runc-compatible OCI runtime command lines.
//!
//! The tests in `conformance/tests/` drive a runtime binary from the outside, exactly as
//! containerd's shim, conmon or a person would, and check the observable behaviour that
//! `cli-contract.md` (section 10) asks for. Which binary is driven is chosen by the `RUNTIME`
//! environment variable (see [`Runtime::from_env`]).
//!
//! Building blocks:
//!
//! * [`Runtime`]: which binary to run (`runtime-cli`, `runc`, `crun` through a wrapper, or a path).
//! * [`TestCtx`]: one per test. Owns a fresh `--root` directory and a scratch directory under
//!   `/run/runtime-cli-test/<unique>`, runs `RT --root R ...` with a timeout ([`Invocation`]),
//!   remembers every container id, init pid and cgroup it created, and cleans all of that up
//!   when dropped (`delete --force`, kill by pid, `rmdir` of the test cgroups only).
//! * [`Bundle`]: an OCI bundle with a busybox-static rootfs and a `runc spec`-like
//!   `config.json` whose `linux.cgroupsPath` is an absolute path under `/runtime-cli-test/`.
//! * Leak checks: [`TestCtx::leftovers`], [`ProcId::is_alive`], [`cgroup::existing_dirs`],
//!   [`procfs::processes_in_cgroup`], [`procfs::mountinfo`].
//! * [`Subreaper`]: runs one runtime call under a small child-subreaper helper process so a
//!   test can check that the container init is reparented to "the caller".
//!
//! Safety rules of the lab machine that this crate enforces (see `lab.md`): a `create`/`run`
//! whose bundle has a `cgroupsPath` outside `/runtime-cli-test/` is refused before the runtime
//! is started; cleanup only ever `rmdir`s directories under `/sys/fs/cgroup/*/runtime-cli-test/`
//! (never recursively removes, never touches `process_api`); processes are only killed by pid,
//! and only pids this test started (container inits it recorded, or processes inside its own
//! test cgroup).

pub mod bundle;
pub mod cgroup;
pub mod console;
mod ctx;
pub mod procfs;
pub mod rfc3339;
mod runtime;
mod subreaper;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use bundle::Bundle;
pub use ctx::{read_pid_file, Invocation, RunOutput, TestCtx, DEFAULT_TIMEOUT};
pub use procfs::ProcId;
pub use rfc3339::is_rfc3339;
pub use runtime::{Runtime, RuntimeKind};
pub use subreaper::Subreaper;

/// Directory under which every test puts its state root, scratch files and bundles.
pub const TEST_BASE: &str = "/run/runtime-cli-test";

/// Every cgroup a test container uses lives below this absolute cgroup path, in every hierarchy.
pub const CGROUP_PREFIX: &str = "/runtime-cli-test";

/// The statuses a runtime may ever report (`cli-contract.md` §3.2).
pub const STATUSES: [&str; 4] = ["created", "running", "paused", "stopped"];

/// Path of the `conformance-subreaper` helper binary; only usable from this package's
/// integration tests (Cargo sets `CARGO_BIN_EXE_<name>` for them).
#[macro_export]
macro_rules! subreaper_helper {
    () => {
        env!("CARGO_BIN_EXE_conformance-subreaper")
    };
}

/// True when running under CI (`CI=true` or `CI=1`): skipping a requirement that could have
/// been installed is then a failure.
pub fn ci() -> bool {
    matches!(
        std::env::var("CI").as_deref().map(str::to_ascii_lowercase).as_deref(),
        Ok("true") | Ok("1")
    )
}

/// Writes a line straight to the process's stderr, bypassing the test harness's output capture,
/// so that `SKIP:` lines are visible in a normal `cargo test` run.
pub fn announce(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// A requirement that could be installed (root, a peer runtime) is missing: print `SKIP: reason`
/// and return `false`, or panic when [`ci`] is set.
pub fn skip_missing(reason: &str) -> bool {
    if ci() {
        panic!("CI=true and a requirement is missing (a skip is a failure here): {reason}");
    }
    announce(&format!("SKIP: {reason}"));
    false
}

/// A feature the runtime under test does not implement yet (e.g. `pause`): print
/// `SKIP: reason`, also under CI (the feature cannot be installed).
pub fn skip_unsupported(reason: &str) {
    announce(&format!("SKIP: {reason}"));
}

/// `true` when the effective uid is 0; otherwise prints a skip (or panics under CI).
pub fn require_root() -> bool {
    if nix::unistd::geteuid().is_root() {
        true
    } else {
        skip_missing("these tests need root (run the suite as root, under scripts/guarded-ns.sh)")
    }
}

/// Finds `name` in `PATH` (plus the sbin directories, which a root `PATH` may lack).
pub fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .chain(
            [
                "/usr/local/sbin",
                "/usr/local/bin",
                "/usr/sbin",
                "/usr/bin",
                "/sbin",
                "/bin",
            ]
            .map(PathBuf::from),
        )
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

/// Returns the path of binary `name`, or prints a skip (panics under CI) when it is missing.
pub fn require_binary(name: &str) -> Option<PathBuf> {
    match find_in_path(name) {
        Some(p) => Some(p),
        None => {
            skip_missing(&format!("`{name}` is not installed (apt-get install {name})"));
            None
        }
    }
}

pub(crate) fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Polls `f` every few milliseconds until it returns true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Cases where runc 1.1.5 deliberately differs from `cli-contract.md` (also listed in
/// `conformance/README.md`, section EXPECTED_RUNC_DIFFERENCES): `(key, what runc does)`.
/// A test asserts the contract for every runtime, and for runc asserts runc's documented
/// behaviour instead (so a change in runc is noticed too).
pub const EXPECTED_RUNC_DIFFERENCES: &[(&str, &str)] = &[
    (
        "root-slash",
        "`runc --root / list` exits 0 and lists every directory of / as a broken container \
         (contract §1.2: a --root resolving to / MUST be rejected, exit 1)",
    ),
    (
        "hook-status",
        "runc gives prestart, createRuntime and createContainer hooks the status `creating` \
         (contract §9.2: `created`, as crun and runtime-tools expect)",
    ),
    (
        "start-container-hook",
        "runc writes its start handshake before the startContainer hooks, so `start` exits 0 \
         when one fails (contract §9.3: `start` fails)",
    ),
    (
        "poststart-in-create",
        "runc 1.1 runs the poststart hooks at the end of `create` (a failing one fails `create`); \
         the spec runs them in `start` after the program started",
    ),
    (
        "poststop-fails-delete",
        "runc fails `delete` when a poststop hook fails (contract §9.2 and the spec: warn only)",
    ),
];

/// `true` when the runtime under test is runc and `key` is one of
/// [`EXPECTED_RUNC_DIFFERENCES`] (prints a `NOTE:` line then); `false` otherwise.
pub fn runc_differs(rt: &Runtime, key: &str) -> bool {
    let Some((_, what)) = EXPECTED_RUNC_DIFFERENCES.iter().find(|(k, _)| *k == key) else {
        panic!("unknown EXPECTED_RUNC_DIFFERENCES key {key:?}");
    };
    if rt.kind == RuntimeKind::Runc {
        announce(&format!("NOTE: expected runc difference `{key}`: {what}"));
        true
    } else {
        false
    }
}

/// Contents of a file, or an empty string when it cannot be read.
pub fn read_or_empty(p: &std::path::Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// Waits until `p` exists and `ready(contents)` holds.
pub fn wait_for_file(p: &std::path::Path, timeout: Duration, ready: impl Fn(&str) -> bool) -> bool {
    wait_until(timeout, || std::fs::read_to_string(p).is_ok_and(|t| ready(&t)))
}

/// The container-id rule of runc (`cli-contract.md` §2): non-empty, only `A-Z a-z 0-9 _ + - .`,
/// not `.` or `..`.
pub fn is_valid_container_id(id: &str) -> bool {
    !id.is_empty()
        && id != "."
        && id != ".."
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'.'))
}

/// JSON type name of a value, for shape comparisons.
pub fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// `key -> JSON type` of an object's members, sorted by key (empty for a non-object).
pub fn json_shape(v: &serde_json::Value) -> Vec<(String, &'static str)> {
    let mut shape: Vec<(String, &'static str)> = v
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), json_type(v))).collect())
        .unwrap_or_default();
    shape.sort();
    shape
}

/// Checks that `v` is a state object as `cli-contract.md` §3 describes it, decodable into the
/// runtime-spec `State` and into go-runc's `Container` (`list` entries additionally have a
/// non-empty `owner`). Returns the list of problems (empty = conforming).
pub fn state_object_problems(v: &serde_json::Value) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(o) = v.as_object() else {
        return vec![format!("not a JSON object: {v}")];
    };
    for key in ["ociVersion", "id", "status", "bundle", "rootfs", "created", "owner"] {
        match o.get(key) {
            Some(serde_json::Value::String(_)) => {}
            Some(other) => problems.push(format!("`{key}` is a {}, want a string", json_type(other))),
            None => problems.push(format!("`{key}` is missing")),
        }
    }
    match o.get("pid") {
        Some(p) if p.is_i64() && p.as_i64().unwrap_or(-1) >= 0 => {}
        Some(p) => problems.push(format!("`pid` is {p}, want a non-negative integer")),
        None => problems.push("`pid` is missing".into()),
    }
    if let Some(s) = o.get("status").and_then(|s| s.as_str()) {
        if !STATUSES.contains(&s) {
            problems.push(format!("`status` is {s:?}, not one of {STATUSES:?}"));
        }
        let pid = o.get("pid").and_then(|p| p.as_i64()).unwrap_or(-1);
        if s == "stopped" && pid != 0 {
            problems.push(format!("`pid` is {pid} while stopped, want 0"));
        }
        if s != "stopped" && pid <= 0 {
            problems.push(format!("`pid` is {pid} while {s}, want > 0"));
        }
    }
    for key in ["bundle", "rootfs"] {
        if let Some(p) = o.get(key).and_then(|p| p.as_str()) {
            if !p.starts_with('/') {
                problems.push(format!("`{key}` is {p:?}, not absolute"));
            }
        }
    }
    if let Some(c) = o.get("created").and_then(|c| c.as_str()) {
        if !is_rfc3339(c) {
            problems.push(format!("`created` is {c:?}, not RFC 3339"));
        }
    }
    if let Some(a) = o.get("annotations") {
        match a {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    if !v.is_string() {
                        problems.push(format!("annotation {k:?} is a {}, want a string", json_type(v)));
                    }
                }
            }
            // go-runc's map decodes `null` fine; anything else breaks it.
            serde_json::Value::Null => {}
            other => problems.push(format!("`annotations` is a {}, want an object", json_type(other))),
        }
    }
    problems
}
