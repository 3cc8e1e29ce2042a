//! Shared pieces of the reliability tests: a seeded random source, bundles that share one
//! read-only busybox rootfs (hundreds of containers without hundreds of rootfs copies), the
//! list of errors a racing verb may legitimately report, and checks of `list` output.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};

use conformance::{bundle, state_object_problems, RunOutput, TestCtx, CGROUP_PREFIX};
use serde_json::{json, Value};

/// xorshift64*: deterministic per seed, so a failing run can be repeated with
/// `RELIABILITY_SEED=<seed>` (every test prints its seed).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// From `RELIABILITY_SEED`, else from the clock; printed so a failure can be replayed.
    pub fn from_env(test: &str) -> Rng {
        let seed = std::env::var("RELIABILITY_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        conformance::announce(&format!("{test}: RELIABILITY_SEED={seed}"));
        Rng::new(seed)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }

    /// A child generator with its own stream (one per worker thread).
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.next() | 1)
    }
}

/// A busybox rootfs in the test's scratch directory that many bundles share read-only.
pub fn shared_rootfs(ctx: &TestCtx) -> PathBuf {
    let r = ctx.scratch("shared-rootfs");
    bundle::build_rootfs(&r).unwrap_or_else(|e| panic!("build rootfs {}: {e}", r.display()));
    r
}

/// The cgroup of container `id` of this test: absolute, below the test prefix.
pub fn cgroup_of(ctx: &TestCtx, id: &str) -> String {
    let short: String = ctx
        .name()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(12)
        .collect();
    format!("{CGROUP_PREFIX}/{short}-{}-{id}", std::process::id())
}

/// A bundle directory (config.json only) whose root is the shared `rootfs` (read-only).
pub fn light_bundle(ctx: &TestCtx, rootfs: &Path, id: &str, args: &[&str]) -> PathBuf {
    let dir = ctx.scratch(&format!("bundle-{id}"));
    std::fs::create_dir_all(&dir).expect("mkdir bundle");
    let cg = cgroup_of(ctx, id);
    ctx.track_cgroup(&cg);
    let mut cfg = bundle::default_config(args, &cg);
    cfg["root"] = json!({"path": rootfs, "readonly": true});
    write_config(&dir, &cfg);
    dir
}

pub fn write_config(dir: &Path, cfg: &Value) {
    let text = serde_json::to_string_pretty(cfg).expect("config serialises");
    std::fs::write(dir.join("config.json"), text).expect("write config.json");
}

/// The verbs the concurrency test runs, and the only failures each may report when another
/// process acts on the same id at the same time (the exact phrases of the CLI contract):
///
/// | verb | expected failure (exit 1) | when |
/// |---|---|---|
/// | `create` | `already exists` | the id is taken |
/// | `start` | `container does not exist` | not created yet or deleted |
/// | `start` | `cannot start a container that has stopped` | killed before the start |
/// | `start` | `cannot start an already running container` | another start won |
/// | `state` | `container does not exist` | not created yet or deleted |
/// | `kill` | `container does not exist` | not created yet or deleted |
/// | `kill` | `container not running` | already stopped |
/// | `delete` | `container does not exist` | not created yet or deleted |
/// | `delete` | `not stopped` | running (only `--force` kills it) |
/// | `delete --force` | none: it always exits 0 | |
///
/// Anything else (another message, another exit code, a signal, a timeout) is unexpected.
pub fn expected_failures(verb: &str) -> &'static [&'static str] {
    match verb {
        "create" => &["already exists"],
        "start" => &[
            "container does not exist",
            "cannot start a container that has stopped",
            "cannot start an already running container",
        ],
        "state" => &["container does not exist"],
        "kill" => &["container does not exist", "container not running"],
        "delete" => &["container does not exist", "not stopped"],
        _ => &[],
    }
}

/// `None` if `out` is success or an expected failure of `verb`; else a description.
pub fn unexpected(verb: &str, out: &RunOutput) -> Option<String> {
    if out.ok() {
        return None;
    }
    if out.code == Some(1) && expected_failures(verb).iter().any(|m| out.stderr.contains(m)) {
        return None;
    }
    Some(out.describe())
}

/// Problems with one `list --format json` result: exit 0, nothing on stderr, a JSON array
/// (or `null`) whose every entry is a well-formed state object.
pub fn list_problems(out: &RunOutput) -> Vec<String> {
    if !out.ok() || !out.stderr.trim().is_empty() {
        return vec![format!("list failed: {}", out.describe())];
    }
    let v: Value = match serde_json::from_str(out.stdout.trim()) {
        Ok(v) => v,
        Err(e) => return vec![format!("list output is not JSON ({e}): {:?}", out.stdout)],
    };
    let entries = match v {
        Value::Null => vec![],
        Value::Array(a) => a,
        other => return vec![format!("list output is not an array: {other}")],
    };
    let mut problems = Vec::new();
    for e in &entries {
        for p in state_object_problems(e) {
            problems.push(format!("list entry {e}: {p}"));
        }
    }
    problems
}

/// Names left in the state root (there should be none once every container is deleted).
pub fn root_entries(ctx: &TestCtx) -> Vec<String> {
    std::fs::read_dir(ctx.root())
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}
