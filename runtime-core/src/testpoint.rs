//! Test-only crash points. The reliability tests need the runtime to die (or stop) at exact
//! places of `create`, `start`, `exec` and `delete` to prove that a crash there never
//! corrupts the state root and that `delete --force` always cleans up. Each such place calls
//! [`hit`] with a stage name; outside tests the environment variables below are unset and
//! `hit` is one cached lookup.
//!
//! * `RUNTIME_CLI_TEST_STOP_AT=<stage>`: SIGKILL this process when it reaches `<stage>`;
//!   `<stage>:stop` sends itself SIGSTOP instead (the test looks around, then kills it).
//! * `RUNTIME_CLI_TEST_DELAY_US=<n>`: sleep a pseudo-random 0..n µs at every stage, so that
//!   a kill from outside at a random moment lands between different steps.
//!
//! Only the runtime's own (parent) code paths call this, never the forked children, which
//! must not allocate.

use std::sync::OnceLock;

/// Every stage name passed to [`hit`], in the order a lifecycle reaches them.
pub const STAGES: &[&str] = &[
    "create:validated",
    "state:reserve-tmp",
    "create:reserved",
    "create:cgroups",
    "create:spawned",
    "create:ready",
    "state:write-tmp",
    "create:saved",
    "start:locked",
    "start:signalled",
    "exec:loaded",
    "exec:spawned",
    "exec:ready",
    "delete:locked",
    "delete:killed",
    "delete:cgroups-removed",
];

#[derive(Debug)]
struct Config {
    stop_at: Option<(String, bool)>,
    delay_us: u64,
}

fn config() -> &'static Config {
    static C: OnceLock<Config> = OnceLock::new();
    C.get_or_init(|| {
        let stop_at = std::env::var("RUNTIME_CLI_TEST_STOP_AT")
            .ok()
            .filter(|s| !s.is_empty())
            .map(|s| match s.strip_suffix(":stop") {
                Some(stage) => (stage.to_string(), true),
                None => (s, false),
            });
        let delay_us = std::env::var("RUNTIME_CLI_TEST_DELAY_US")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Config { stop_at, delay_us }
    })
}

/// The runtime reached `stage` (one of [`STAGES`]).
pub fn hit(stage: &str) {
    debug_assert!(STAGES.contains(&stage), "unknown test stage {stage}");
    let c = config();
    if c.delay_us > 0 {
        std::thread::sleep(std::time::Duration::from_micros(pseudo_random() % (c.delay_us + 1)));
    }
    if let Some((at, stop)) = &c.stop_at {
        if at == stage {
            use nix::sys::signal::{raise, Signal};
            let _ = raise(if *stop { Signal::SIGSTOP } else { Signal::SIGKILL });
        }
    }
}

fn pseudo_random() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        x = t ^ (u64::from(std::process::id()) << 32) | 1;
    }
    // xorshift64
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    x
}

#[cfg(test)]
mod tests {
    #[test]
    fn stage_names_are_unique() {
        let mut v = super::STAGES.to_vec();
        v.sort();
        v.dedup();
        assert_eq!(v.len(), super::STAGES.len());
    }

    /// The crash test drives the binary from outside and keeps its own copy of the stage
    /// names (it does not link this crate): a stage added here must be crashed there too.
    #[test]
    fn the_crash_test_covers_every_stage() {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../conformance/tests/reliability_crash.rs");
        let text = std::fs::read_to_string(p).expect("conformance/tests/reliability_crash.rs");
        // Its stage lists: `const <VERB>_STAGES: &[&str] = &[...];`.
        let lists: String = text
            .split("_STAGES: &[&str] = &[")
            .skip(1)
            .filter_map(|rest| rest.split_once("];").map(|(list, _)| list))
            .collect();
        let missing: Vec<_> = super::STAGES
            .iter()
            .filter(|s| !lists.contains(&format!("\"{s}\"")))
            .collect();
        assert!(missing.is_empty(), "stages the crash test does not know: {missing:?}");
    }

    #[test]
    fn hit_without_configuration_returns() {
        for s in super::STAGES {
            super::hit(s);
        }
    }
}
