//! cli-contract.md §10 "kill" items 24–27 and "delete" items 29–34.

use std::fs;
use std::time::Duration;

use conformance::{read_or_empty, wait_for_file, TestCtx};

const T10: Duration = Duration::from_secs(10);

#[test]
fn c24_kill_signal_parsing() {
    let Some(ctx) = TestCtx::new("c24") else { return };
    // pid 1 of a pid namespace ignores SIGTERM unless it has a handler: the shell installs one
    // that records each delivery, then says it is ready.
    let b = ctx.bundle(&[
        "sh",
        "-c",
        "trap 'echo TERM >> /tmp/sig' TERM; echo ok > /tmp/ready; while :; do sleep 0.05; done",
    ]);
    let sig = b.rootfs_path("tmp/sig");
    ctx.running(&b, "c24");
    assert!(
        wait_for_file(&b.rootfs_path("tmp/ready"), T10, |t| t == "ok\n"),
        "the container did not get ready"
    );
    let spellings: [Option<&str>; 5] = [None, Some("15"), Some("TERM"), Some("term"), Some("SIGTERM")];
    for (i, s) in spellings.iter().enumerate() {
        let mut args = vec!["kill", "c24"];
        args.extend(s.iter());
        ctx.run(&args).assert_ok();
        let want = "TERM\n".repeat(i + 1);
        assert!(
            wait_for_file(&sig, T10, |t| t == want),
            "`kill c24 {}` did not deliver exactly one SIGTERM; signal log: {:?}",
            s.unwrap_or("(no signal)"),
            read_or_empty(&sig)
        );
    }
    ctx.run(&["kill", "c24", "NOPE"]).assert_fails_with(1, "unknown signal");
    assert_eq!(
        ctx.status("c24"),
        "running",
        "a rejected kill must not affect the container"
    );
    assert_eq!(
        read_or_empty(&sig),
        "TERM\n".repeat(5),
        "a rejected kill must deliver nothing"
    );
}

#[test]
fn c25_kill_stopped_not_running_but_all_ok() {
    let Some(ctx) = TestCtx::new("c25") else { return };
    let b = ctx.bundle(&["true"]);
    ctx.running(&b, "c25");
    ctx.wait_status("c25", "stopped", T10);
    ctx.run(&["kill", "c25", "9"])
        .assert_fails_with(1, "container not running");
    ctx.run(&["kill", "--all", "c25", "9"]).assert_ok();
    assert_eq!(ctx.status("c25"), "stopped");
}

#[test]
fn c26_kill_created_then_delete() {
    let Some(ctx) = TestCtx::new("c26") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    let init = ctx.create_ok(&b, "c26");
    ctx.run(&["kill", "c26", "9"]).assert_ok();
    ctx.wait_status("c26", "stopped", T10);
    ctx.run(&["delete", "c26"]).assert_ok();
    ctx.assert_no_leftovers("c26", &b.cgroups_path(), Some(init));
}

#[test]
fn c27_kill_paused_stops_it() {
    let Some(ctx) = TestCtx::new("c27") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    let init = ctx.running(&b, "c27");
    if !ctx.pause_or_skip("c27") {
        return;
    }
    assert_eq!(ctx.status("c27"), "paused");
    ctx.run(&["kill", "c27", "9"]).assert_ok();
    ctx.wait_status("c27", "stopped", T10);
    assert!(!init.is_alive(), "the init survived SIGKILL while paused");
    ctx.run(&["delete", "c27"]).assert_ok();
    ctx.assert_no_leftovers("c27", &b.cgroups_path(), Some(init));
}

#[test]
fn c29_delete_unknown_id() {
    let Some(ctx) = TestCtx::new("c29") else { return };
    ctx.run(&["delete", "nosuch"]).assert_fails_with(1, "does not exist");
    ctx.run(&["delete", "--force", "nosuch"]).assert_ok();
}

#[test]
fn c30_delete_running_without_force_refused() {
    let Some(ctx) = TestCtx::new("c30") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    let init = ctx.running(&b, "c30");
    ctx.run(&["delete", "c30"]).assert_fails_with(1, "not stopped");
    assert_eq!(
        ctx.status("c30"),
        "running",
        "a refused delete must not affect the container"
    );
    assert!(init.is_alive(), "a refused delete killed the init");
    assert!(ctx.state_dir("c30").exists());
}

#[test]
fn c31_delete_force_running() {
    let Some(ctx) = TestCtx::new("c31r") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    let init = ctx.running(&b, "c31");
    let out = ctx.run(&["delete", "--force", "c31"]);
    out.assert_ok();
    assert!(out.elapsed < T10, "delete --force took {:?} (limit 10 s)", out.elapsed);
    ctx.assert_no_leftovers("c31", &b.cgroups_path(), Some(init));
}

#[test]
fn c31_delete_force_paused() {
    let Some(ctx) = TestCtx::new("c31p") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    let init = ctx.running(&b, "c31p");
    if !ctx.pause_or_skip("c31p") {
        return;
    }
    assert_eq!(ctx.status("c31p"), "paused");
    let out = ctx.run(&["delete", "--force", "c31p"]);
    out.assert_ok();
    assert!(out.elapsed < T10, "delete --force took {:?} (limit 10 s)", out.elapsed);
    ctx.assert_no_leftovers("c31p", &b.cgroups_path(), Some(init));
}

#[test]
fn c32_delete_created_without_force() {
    let Some(ctx) = TestCtx::new("c32") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    let init = ctx.create_ok(&b, "c32");
    ctx.run(&["delete", "c32"]).assert_ok();
    ctx.assert_no_leftovers("c32", &b.cgroups_path(), Some(init));
}

#[test]
fn c33_id_reusable_after_delete() {
    let Some(ctx) = TestCtx::new("c33") else { return };
    let b = ctx.bundle(&["true"]);
    ctx.running(&b, "c33");
    ctx.wait_status("c33", "stopped", T10);
    ctx.run(&["delete", "c33"]).assert_ok();
    let init = ctx.create_ok(&b, "c33");
    let s = ctx.state("c33");
    assert_eq!(s["status"], "created", "{s:#}");
    assert_eq!(s["pid"].as_i64(), Some(i64::from(init.pid)), "{s:#}");
}

#[test]
fn c34_delete_half_created_dir() {
    let Some(ctx) = TestCtx::new("c34") else { return };
    // With --force: exit 0 and the bare directory is removed.
    let dir = ctx.state_dir("half");
    fs::create_dir(&dir).unwrap();
    ctx.run(&["delete", "--force", "half"]).assert_ok();
    assert!(!dir.exists(), "delete --force left {}", dir.display());
    // Without --force (§2.6): `does not exist`, exit 1, and the directory is removed as well.
    fs::create_dir(&dir).unwrap();
    ctx.run(&["delete", "half"]).assert_fails_with(1, "does not exist");
    assert!(!dir.exists(), "delete left {}", dir.display());
}
