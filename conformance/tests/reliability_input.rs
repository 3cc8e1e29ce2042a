//! Bad input through the command line (as root): the adversarial `config.json` documents of
//! runtime-core's property test fed to `runtime-cli create`, invalid container ids, invalid
//! signals, and bundle paths with odd characters. Never a panic or a signal; a bad document
//! gives exit 1 with a message (naming the field when its type was wrong) and leaves nothing
//! behind; a document with unknown properties runs; odd bundle paths work everywhere.

#[path = "../../runtime-core/tests/adversarial/mod.rs"]
mod adversarial;
mod reliability_common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use conformance::{procfs, wait_until, RunOutput, TestCtx};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reliability_common::{cgroup_of, list_problems, root_entries, shared_rootfs, write_config};

/// Generated documents per run (each is a `create` as root); `PROPTEST_CASES` overrides.
const CASES: u32 = 150;

fn new_runner(cases: u32) -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(cases);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 30,
        ..Config::default()
    })
}

fn no_panic(out: &RunOutput) -> Result<(), TestCaseError> {
    prop_assert!(
        out.signal.is_none() && !out.timed_out,
        "killed or hung: {}",
        out.describe()
    );
    prop_assert!(
        !out.stderr.contains("panicked") && !out.stderr.contains("RUST_BACKTRACE"),
        "panic: {}",
        out.describe()
    );
    Ok(())
}

/// Nothing of container `id` (cgroup `cg`) remains, and the state root is empty.
fn nothing_left(ctx: &TestCtx, id: &str, cg: &str) -> Result<(), TestCaseError> {
    let mut left = Vec::new();
    wait_until(Duration::from_secs(3), || {
        left = ctx.leftovers(id, cg, None);
        let e = root_entries(ctx);
        if !e.is_empty() {
            left.push(format!("state root entries: {e:?}"));
        }
        left.is_empty()
    });
    prop_assert!(left.is_empty(), "left behind: {left:?}");
    Ok(())
}

#[test]
fn r30_adversarial_configs_through_create() {
    let Some(ctx) = TestCtx::new("r30") else {
        return;
    };
    let rootfs = shared_rootfs(&ctx);
    let n = AtomicUsize::new(0);
    let stats = [AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0)];
    let mut runner = new_runner(CASES);
    let result = runner.run(&adversarial::case(), |case| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        let id = format!("adv-{i}");
        let cg = cgroup_of(&ctx, &id);
        ctx.track_cgroup(&cg);
        let base = adversarial::base(rootfs.to_str().unwrap(), &cg);
        // Never hand the runtime a cgroup or a root of the host's (the harness refuses to
        // run a cgroupsPath outside the test prefix): those two fields are left alone here;
        // runtime-core's property test covers them without root.
        let doc = case.doc(&base);
        for f in ["linux.cgroupsPath", "root.path"] {
            prop_assume!(adversarial::get(&doc, f) == adversarial::get(&base, f));
        }
        let dir = ctx.scratch(&format!("adv-{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), case.render(&base)).unwrap();
        ctx.track_id(&id);
        let out = ctx
            .cmd(&["create", "--bundle", dir.to_str().unwrap(), &id])
            .timeout(Duration::from_secs(60))
            .run();
        no_panic(&out)?;
        if out.ok() {
            stats[0].fetch_add(1, Ordering::SeqCst);
            // Delete before judging the case: a container left behind by a failed check
            // would fail every later case on `nothing_left`, and the shrinker would then
            // report a trivial input instead of the one that failed.
            let del = ctx.run(&["delete", "--force", &id]);
            prop_assert!(case.wrong_type_field(&base).is_none(), "wrong type accepted: {case:?}");
            prop_assert!(del.ok(), "{}", del.describe());
        } else {
            stats[1].fetch_add(1, Ordering::SeqCst);
            prop_assert_eq!(out.code, Some(1), "{}", out.describe());
            prop_assert!(!out.stderr.trim().is_empty(), "no message: {}", out.describe());
            prop_assert!(!case.only_unknown(), "unknown properties refused: {}", out.describe());
            if let Some(field) = case.wrong_type_field(&base) {
                stats[2].fetch_add(1, Ordering::SeqCst);
                prop_assert!(
                    out.stderr.contains(&field),
                    "message does not name {field}: {}",
                    out.stderr
                );
            }
        }
        nothing_left(&ctx, &id, &cg)
    });
    conformance::announce(&format!(
        "r30: {} adversarial configs: {} created, {} refused ({} naming the wrongly typed field)",
        n.load(Ordering::SeqCst),
        stats[0].load(Ordering::SeqCst),
        stats[1].load(Ordering::SeqCst),
        stats[2].load(Ordering::SeqCst)
    ));
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn r31_unknown_properties_run() {
    let Some(ctx) = TestCtx::new("r31") else {
        return;
    };
    let rootfs = shared_rootfs(&ctx);
    let cg = cgroup_of(&ctx, "unknown");
    ctx.track_cgroup(&cg);
    let mut doc = adversarial::with_unknown_fields(adversarial::base(rootfs.to_str().unwrap(), &cg));
    doc["process"]["args"] = serde_json::json!(["sh", "-c", "echo ran > /dev/shm/x; exit 0"]);
    let dir = ctx.scratch("unknown");
    std::fs::create_dir_all(&dir).unwrap();
    write_config(&dir, &doc);
    ctx.run(&["create", "--bundle", dir.to_str().unwrap(), "unknown"])
        .assert_ok();
    ctx.start_ok("unknown");
    ctx.wait_status("unknown", "stopped", Duration::from_secs(10));
    ctx.run(&["delete", "unknown"]).assert_ok();
    ctx.assert_no_leftovers("unknown", &cg, None);
}

/// Invalid ids are refused up front by every verb and create nothing.
#[test]
fn r32_invalid_ids_and_signals() {
    let Some(ctx) = TestCtx::new("r32") else {
        return;
    };
    let rootfs = shared_rootfs(&ctx);
    let bundle = reliability_common::light_bundle(&ctx, &rootfs, "sig", &["sleep", "1000"]);
    let ids = proptest::collection::vec(
        proptest::sample::select(&["a", "/", ".", "..", " ", "\n", "ü", "\\", "-", "*", "$(x)", ":", "~"][..]),
        1..12,
    )
    .prop_map(|parts| parts.concat());
    let mut runner = new_runner(120);
    let checked = AtomicUsize::new(0);
    runner
        .run(&ids, |id| {
            prop_assume!(!conformance::is_valid_container_id(&id) && !id.starts_with('-'));
            checked.fetch_add(1, Ordering::SeqCst);
            for args in [
                vec!["create", "--bundle", bundle.to_str().unwrap(), &id],
                vec!["state", &id],
                vec!["start", &id],
                vec!["kill", &id, "KILL"],
                vec!["delete", "--force", &id],
            ] {
                let out = ctx.run(&args);
                no_panic(&out)?;
                prop_assert_eq!(out.code, Some(1), "{}", out.describe());
                prop_assert!(out.stderr.contains("invalid container ID"), "{}", out.describe());
            }
            prop_assert!(root_entries(&ctx).is_empty(), "{:?}", root_entries(&ctx));
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    long_id(&ctx, bundle.to_str().unwrap());

    // Signals: a running container ignores every invalid signal spelling.
    ctx.run(&["create", "--bundle", bundle.to_str().unwrap(), "sig"])
        .assert_ok();
    ctx.start_ok("sig");
    let sigs = prop_oneof![
        (65u64..u64::MAX).prop_map(|n| n.to_string()),
        proptest::collection::vec(
            proptest::sample::select(&["X", "SIG", "K", " ", "\n", "9", "ü"][..]),
            0..6
        )
        .prop_map(|p| format!("NO{}", p.concat())),
    ];
    let mut runner = new_runner(60);
    runner
        .run(&sigs, |sig| {
            let out = ctx.run(&["kill", "sig", &sig]);
            no_panic(&out)?;
            prop_assert_eq!(out.code, Some(1), "{}", out.describe());
            prop_assert!(out.stderr.contains("signal"), "{}", out.describe());
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ctx.status("sig"), "running");
    ctx.run(&["delete", "--force", "sig"]).assert_ok();
    conformance::announce(&format!(
        "r32: {} invalid ids x 5 verbs refused",
        checked.load(Ordering::SeqCst)
    ));
}

fn long_id(ctx: &TestCtx, bundle: &str) {
    let id = "x".repeat(4096);
    let out = ctx.run(&["create", "--bundle", bundle, &id]);
    out.assert_fails_with(1, "invalid container ID");
    assert!(root_entries(ctx).is_empty());
}

/// Bundle paths with spaces, quotes, newlines, non-ASCII and shell characters work for
/// every verb and show up unchanged in `state` and `list`.
#[test]
fn r33_odd_bundle_paths_work_everywhere() {
    let Some(ctx) = TestCtx::new("r33") else {
        return;
    };
    let rootfs = shared_rootfs(&ctx);
    let names = [
        "with space",
        "ünïcødé-☃",
        "new\nline",
        "quote\"and'apostrophe",
        "back\\slash",
        "shell;$(x)&|`y`",
        "tab\tand%percent",
    ];
    for (i, name) in names.iter().enumerate() {
        let id = format!("odd-{i}");
        let cg = cgroup_of(&ctx, &id);
        ctx.track_cgroup(&cg);
        let dir: PathBuf = ctx.work().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let mut cfg = conformance::bundle::default_config(&["sleep", "1000"], &cg);
        cfg["root"] = serde_json::json!({"path": rootfs, "readonly": true});
        write_config(&dir, &cfg);
        ctx.run(&["create", "--bundle", dir.to_str().unwrap(), &id]).assert_ok();
        ctx.start_ok(&id);
        let st = ctx.state(&id);
        assert_eq!(st["bundle"].as_str().map(Path::new), Some(dir.as_path()), "{st}");
        let l = ctx.run(&["list", "--format", "json"]);
        let p = list_problems(&l);
        assert!(p.is_empty(), "{p:?}");
        assert!(l
            .stdout
            .contains(&serde_json::to_string(dir.to_str().unwrap()).unwrap()[1..]));
        ctx.run(&["list"]).assert_ok();
        ctx.run(&["ps", "--format", "json", &id]).assert_ok();
        ctx.run(&["kill", &id, "KILL"]).assert_ok();
        ctx.wait_status(&id, "stopped", Duration::from_secs(10));
        ctx.run(&["delete", &id]).assert_ok();
        ctx.assert_no_leftovers(&id, &cg, None);
    }
    assert!(procfs::processes_in_cgroup(&cgroup_of(&ctx, "odd-0")).is_empty());
}
