//! What a requirement gets: a [`TestCtx`] for one runtime plus helpers to build bundles with
//! the checker, run containers, read the checker's facts and check refusals.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use conformance::{Bundle, ProcId, RunOutput, TestCtx, TEST_BASE};
use serde_json::Value;

/// Why a requirement did not pass.
#[derive(Debug)]
pub enum Why {
    Fail(String),
    Skip(String),
}

pub type R = Result<(), Why>;

/// `ensure!(cond, "format", args...)`: fail the requirement with the message unless `cond`.
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err($crate::t::Why::Fail(format!($($fmt)+)));
        }
    };
}
pub(crate) use ensure;

/// Fail with a message.
pub fn fail<T>(msg: impl Into<String>) -> Result<T, Why> {
    Err(Why::Fail(msg.into()))
}

/// Skip with a message (only for conditions of the machine, never of the runtime).
pub fn skip<T>(msg: impl Into<String>) -> Result<T, Why> {
    Err(Why::Skip(msg.into()))
}

/// Path of the checker in every rootfs.
pub const CHECKER: &str = "/bin/spec-checker";

/// Resolves the checker binary (`--checker`, `$SPEC_CHECKER`, or the static build under
/// `target/spec-checker/`), verifies it is statically linked, and caches a private copy
/// under `/run/runtime-cli-test/.cache` so each rootfs can hard-link it.
pub fn prepare_checker(given: Option<PathBuf>) -> PathBuf {
    let ws = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let src = given
        .or_else(|| std::env::var_os("SPEC_CHECKER").map(PathBuf::from))
        .unwrap_or_else(|| ws.join("target/spec-checker/x86_64-unknown-linux-gnu/release/spec-checker"));
    let bytes = fs::read(&src).unwrap_or_else(|e| {
        eprintln!(
            "spec-checker binary {}: {e}\nbuild it with conformance/scripts/spec-suite.sh (or: RUSTFLAGS=\"-C target-feature=+crt-static\" \
             cargo build --release --target x86_64-unknown-linux-gnu -p conformance --bin spec-checker --target-dir target/spec-checker)",
            src.display()
        );
        std::process::exit(2)
    });
    if bytes.windows(11).any(|w| w == b"/lib64/ld-l") {
        eprintln!(
            "{} is dynamically linked; build it with -C target-feature=+crt-static",
            src.display()
        );
        std::process::exit(2);
    }
    let cache = Path::new(TEST_BASE).join(".cache");
    fs::create_dir_all(&cache).expect("mkdir cache");
    let dst = cache.join(format!("spec-checker-{}", std::process::id()));
    fs::write(&dst, &bytes).expect("copy checker");
    fs::set_permissions(&dst, fs::Permissions::from_mode(0o755)).expect("chmod checker");
    dst
}

/// One requirement's world on one runtime.
#[derive(Debug)]
pub struct T {
    pub ctx: TestCtx,
    checker: PathBuf,
}

impl T {
    pub fn new(ctx: TestCtx, checker: PathBuf) -> T {
        T { ctx, checker }
    }

    /// A bundle whose process is the checker (no probes); `/bin/spec-checker` is a hard link
    /// to the cached copy.
    pub fn bundle(&self) -> Bundle {
        let b = self.ctx.bundle(&[CHECKER]);
        let dst = b.rootfs_path(CHECKER);
        if fs::hard_link(&self.checker, &dst).is_err() {
            fs::copy(&self.checker, &dst).expect("copy checker into rootfs");
        }
        b
    }

    /// A bundle running `sh -c script`.
    pub fn sh_bundle(&self, script: &str) -> Bundle {
        let mut b = self.bundle();
        b.args(&["sh", "-c", script]);
        b
    }

    /// `run --bundle B ID` in the foreground; the container's output is captured.
    pub fn run(&self, b: &Bundle, id: &str) -> RunOutput {
        b.save();
        self.ctx.cmd(&["run", "--bundle", b.dir_str(), id]).run()
    }

    /// Runs the checker with `probes` as its arguments; the facts it printed, or a failure
    /// naming the runtime's output when the container did not run.
    pub fn facts(&self, b: &mut Bundle, probes: &[&str]) -> Result<Value, Why> {
        let mut args = vec![CHECKER];
        args.extend_from_slice(probes);
        b.args(&args);
        let out = self.run(b, "facts");
        parse_facts(&out)
    }

    /// `create` must fail (non-zero exit) and leave no state directory, cgroup or process.
    pub fn refused(&self, b: &Bundle, what: &str) -> R {
        let id = "refused";
        let out = self.ctx.create_with(b, id, &[]);
        if out.ok() {
            return fail(format!("create succeeded although {what}"));
        }
        let left = self.ctx.leftovers(id, &b.cgroups_path(), None);
        ensure!(left.is_empty(), "create failed but left: {}", left.join("; "));
        Ok(())
    }

    /// `create` + `start`, returning the init.
    pub fn running(&self, b: &Bundle, id: &str) -> Result<ProcId, Why> {
        let out = self.ctx.create_with(b, id, &[]);
        ensure!(out.ok(), "create failed: {}", runtime_error(&out));
        let st = self.ctx.state(id);
        let pid = st["pid"].as_i64().unwrap_or(0) as i32;
        let p = ProcId::of(pid).ok_or_else(|| Why::Fail(format!("no live pid in state: {st}")))?;
        self.ctx.track_pid(p);
        let out = self.ctx.run(&["start", id]);
        ensure!(out.ok(), "start failed: {}", runtime_error(&out));
        Ok(p)
    }

    /// `create`, returning the init.
    pub fn created(&self, b: &Bundle, id: &str) -> Result<ProcId, Why> {
        let out = self.ctx.create_with(b, id, &[]);
        ensure!(out.ok(), "create failed: {}", runtime_error(&out));
        let st = self.ctx.state(id);
        let pid = st["pid"].as_i64().unwrap_or(0) as i32;
        let p = ProcId::of(pid).ok_or_else(|| Why::Fail(format!("no live pid in state: {st}")))?;
        self.ctx.track_pid(p);
        Ok(p)
    }

    /// Status from `state`, or `None` when `state` fails.
    pub fn status(&self, id: &str) -> Option<String> {
        let out = self.ctx.run(&["state", id]);
        if !out.ok() {
            return None;
        }
        serde_json::from_str::<Value>(out.stdout.trim())
            .ok()
            .and_then(|v| v["status"].as_str().map(str::to_string))
    }

    /// Waits until the container is `stopped`.
    pub fn wait_stopped(&self, id: &str) -> R {
        let ok = conformance::wait_until(Duration::from_secs(10), || {
            self.status(id).as_deref() == Some("stopped")
        });
        ensure!(ok, "container {id} did not stop (status {:?})", self.status(id));
        Ok(())
    }

    /// A directory inside the test's scratch area.
    pub fn dir(&self, name: &str) -> PathBuf {
        let d = self.ctx.scratch(name);
        fs::create_dir_all(&d).expect("mkdir scratch dir");
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).expect("chmod");
        d
    }
}

/// The runtime's error text in one line (stderr, else stdout).
pub fn runtime_error(out: &RunOutput) -> String {
    let text = if out.stderr.trim().is_empty() {
        &out.stdout
    } else {
        &out.stderr
    };
    let how = out
        .code
        .map_or_else(|| format!("signal {:?}", out.signal), |c| format!("exit {c}"));
    format!(
        "{how}: {}",
        crate::report::one_line(text.lines().last().unwrap_or(""), 200)
    )
}

/// The checker's JSON from a run's stdout.
pub fn parse_facts(out: &RunOutput) -> Result<Value, Why> {
    let line = out.stdout.lines().rev().find(|l| l.starts_with('{'));
    match line.and_then(|l| serde_json::from_str::<Value>(l).ok()) {
        Some(v) if out.ok() => Ok(v),
        Some(_) => fail(format!("container exited {:?}", out.code)),
        None => fail(format!("the container did not run: {}", runtime_error(out))),
    }
}

/// Appends a mount to the config.
pub fn add_mount(b: &mut Bundle, m: Value) {
    b.config_mut()["mounts"].as_array_mut().expect("mounts").push(m);
}

/// The mountinfo lines (from the facts) whose mount point is `point`, in mount order.
pub fn mounts_at<'a>(facts: &'a Value, point: &str) -> Vec<&'a str> {
    facts["mountinfo"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|l| l.split(' ').nth(4) == Some(point))
                .collect()
        })
        .unwrap_or_default()
}

/// Per-mount options, optional fields (propagation), filesystem type, super-block options.
pub type MountFields = (Vec<String>, Vec<String>, String, Vec<String>);

/// The visible (last) mount at `point`: (per-mount options, optional fields, fs type, super options).
pub fn mount_at(facts: &Value, point: &str) -> Option<MountFields> {
    let line = *mounts_at(facts, point).last()?;
    let (left, right) = line.split_once(" - ")?;
    let l: Vec<&str> = left.split(' ').collect();
    let r: Vec<&str> = right.split(' ').collect();
    let split = |s: &str| s.split(',').map(str::to_string).collect::<Vec<_>>();
    Some((
        split(l.get(5).copied().unwrap_or("")),
        l.iter().skip(6).map(|s| s.to_string()).collect(),
        r.first().copied().unwrap_or("").to_string(),
        split(r.get(2).copied().unwrap_or("")),
    ))
}

/// Capability names -> bit mask.
pub fn cap_mask(names: &[&str]) -> u64 {
    names
        .iter()
        .map(|n| 1u64 << cap_bit(n).expect("known cap"))
        .fold(0, |a, b| a | b)
}

pub fn cap_bit(name: &str) -> Option<u32> {
    const CAPS: [&str; 41] = [
        "CHOWN",
        "DAC_OVERRIDE",
        "DAC_READ_SEARCH",
        "FOWNER",
        "FSETID",
        "KILL",
        "SETGID",
        "SETUID",
        "SETPCAP",
        "LINUX_IMMUTABLE",
        "NET_BIND_SERVICE",
        "NET_BROADCAST",
        "NET_ADMIN",
        "NET_RAW",
        "IPC_LOCK",
        "IPC_OWNER",
        "SYS_MODULE",
        "SYS_RAWIO",
        "SYS_CHROOT",
        "SYS_PTRACE",
        "SYS_PACCT",
        "SYS_ADMIN",
        "SYS_BOOT",
        "SYS_NICE",
        "SYS_RESOURCE",
        "SYS_TIME",
        "SYS_TTY_CONFIG",
        "MKNOD",
        "LEASE",
        "AUDIT_WRITE",
        "AUDIT_CONTROL",
        "SETFCAP",
        "MAC_OVERRIDE",
        "MAC_ADMIN",
        "SYSLOG",
        "WAKE_ALARM",
        "BLOCK_SUSPEND",
        "AUDIT_READ",
        "PERFMON",
        "BPF",
        "CHECKPOINT_RESTORE",
    ];
    let n = name.strip_prefix("CAP_")?;
    CAPS.iter().position(|c| *c == n).map(|i| i as u32)
}

/// Our own (the test process's) namespace link of `kind`.
pub fn own_ns(kind: &str) -> String {
    fs::read_link(format!("/proc/self/ns/{kind}"))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A process's namespace link of `kind`.
pub fn ns_of(pid: i32, kind: &str) -> String {
    fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}
