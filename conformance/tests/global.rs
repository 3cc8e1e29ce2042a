//! cli-contract.md §10 "Global" items 1–8: version, global flag spellings, log format and the
//! JSON log file, unknown ids, invalid ids, the checkpoint probe.

use std::fs;
use std::time::Duration;

use conformance::{cgroup, is_rfc3339, read_or_empty, runc_differs, TestCtx};
use serde_json::Value;

const PRE_LINE: &str =
    "{\"level\":\"info\",\"msg\":\"line written before the test\",\"time\":\"2026-01-01T00:00:00Z\"}\n";
const LEVELS: [&str; 6] = ["debug", "info", "warning", "error", "fatal", "panic"];

/// Every line of a JSON-format log is one object with a logrus `level`, a string `msg` and an
/// RFC 3339 `time` (§1.3). Returns the parsed lines.
#[track_caller]
fn assert_json_log_lines(text: &str, context: &str) -> Vec<Value> {
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "{context}: log does not end with a newline:\n{text}"
    );
    text.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{context}: log line is not JSON ({e}): {line:?}\nwhole log:\n{text}"));
            assert!(v.is_object(), "{context}: log line is not a JSON object: {line:?}");
            let level = v["level"]
                .as_str()
                .unwrap_or_else(|| panic!("{context}: no string `level`: {line:?}"));
            assert!(
                LEVELS.contains(&level),
                "{context}: level {level:?} is not one of {LEVELS:?}: {line:?}"
            );
            assert!(v["msg"].is_string(), "{context}: no string `msg`: {line:?}");
            let time = v["time"]
                .as_str()
                .unwrap_or_else(|| panic!("{context}: no string `time`: {line:?}"));
            assert!(is_rfc3339(time), "{context}: `time` {time:?} is not RFC 3339: {line:?}");
            v
        })
        .collect()
}

#[test]
fn c01_version_output() {
    let Some(ctx) = TestCtx::new("c01") else { return };
    for flag in ["--version", "-v"] {
        let out = ctx.cmd(&[flag]).no_root().run();
        out.assert_ok();
        let first = out.stdout.lines().next().unwrap_or("");
        let want = format!("{} version ", ctx.rt.name);
        assert!(
            first.starts_with(&want),
            "`{flag}`: line 1 should start with {want:?}:\n{}",
            out.describe()
        );
        assert!(
            out.stdout.lines().any(|l| l.starts_with("commit:")),
            "`{flag}`: no `commit:` line:\n{}",
            out.describe()
        );
        assert!(
            out.stdout.lines().any(|l| l.starts_with("spec:")),
            "`{flag}`: no `spec:` line:\n{}",
            out.describe()
        );
    }
}

#[test]
fn c02_global_flag_spellings_accepted() {
    let Some(ctx) = TestCtx::new("c02") else { return };
    let root_eq = format!("--root={}", ctx.root_str());
    ctx.cmd(&[&root_eq, "list"]).no_root().run().assert_ok();
    ctx.cmd(&["--root", ctx.root_str(), "list"]).no_root().run().assert_ok();
    let log = ctx.scratch("log.json");
    let log_s = log.to_str().unwrap();
    ctx.cmd(&["list"])
        .global(&["--log-format=json", "--log", log_s])
        .run()
        .assert_ok();
    assert_json_log_lines(&read_or_empty(&log), "--log-format=json --log F list");
    ctx.cmd(&["list"]).global(&["--criu", "/x"]).run().assert_ok();
}

#[test]
fn c03_bad_log_format_and_root_slash_rejected() {
    let Some(ctx) = TestCtx::new("c03") else { return };
    ctx.cmd(&["list"])
        .global(&["--log-format", "yaml"])
        .run()
        .assert_fails_with(1, "invalid log-format");
    // `--root` resolving to `/` must be rejected (§1.2).
    let out = ctx.cmd(&["--root", "/", "list"]).no_root().run();
    if runc_differs(&ctx.rt, "root-slash") {
        out.assert_exit(0);
    } else {
        out.assert_exit(1);
    }
}

#[test]
fn c04_json_log_error_line_for_unknown_id() {
    let Some(ctx) = TestCtx::new("c04") else { return };
    let log = ctx.scratch("log.json");
    fs::write(&log, PRE_LINE).unwrap();
    let out = ctx
        .cmd(&["state", "nosuch"])
        .global(&["--log", log.to_str().unwrap(), "--log-format", "json"])
        .run();
    out.assert_fails_with(1, "container does not exist");
    let text = read_or_empty(&log);
    let added = text
        .strip_prefix(PRE_LINE)
        .unwrap_or_else(|| panic!("the earlier content of the log was changed:\n{text}"));
    let lines = assert_json_log_lines(added, "state nosuch");
    assert_eq!(lines.len(), 1, "the log must gain exactly one line, got:\n{added}");
    assert_eq!(lines[0]["level"], "error", "{added}");
    let msg = lines[0]["msg"].as_str().unwrap_or_default();
    assert!(
        msg.contains("container does not exist"),
        "msg {msg:?} lacks `container does not exist`"
    );
}

/// Runs a whole create/start/exec/kill/delete cycle (plus one failing call) with a JSON log
/// file, checking after every call that the file was only appended to and holds only JSON
/// objects.
fn log_cycle(ctx: &TestCtx, extra_global: &[&str]) {
    let b = ctx.bundle(&["sleep", "1000"]);
    b.save();
    let log = ctx.scratch("log.json");
    fs::write(&log, PRE_LINE).unwrap();
    let log_s = log.to_str().unwrap().to_string();
    let mut global = vec!["--log", log_s.as_str(), "--log-format", "json"];
    global.extend_from_slice(extra_global);
    let id = "logcycle";
    let calls: Vec<(Vec<&str>, bool)> = vec![
        (vec!["create", "--bundle", b.dir_str(), id], true),
        (vec!["start", id], true),
        (vec!["start", id], false),
        (vec!["exec", id, "true"], true),
        (vec!["kill", id, "9"], true),
    ];
    let mut previous = read_or_empty(&log);
    let check = |what: &str, previous: &mut String| {
        let now = read_or_empty(&log);
        assert!(
            now.starts_with(previous.as_str()),
            "`{what}` rewrote earlier log content:\nbefore:\n{previous}\nafter:\n{now}"
        );
        assert_json_log_lines(&now, what);
        *previous = now;
    };
    for (args, want_ok) in &calls {
        let out = ctx.cmd(args).global(&global).run();
        if *want_ok {
            out.assert_ok();
        } else {
            assert!(!out.ok(), "expected failure:\n{}", out.describe());
        }
        check(&args.join(" "), &mut previous);
    }
    ctx.wait_status(id, "stopped", Duration::from_secs(10));
    ctx.cmd(&["delete", id]).global(&global).run().assert_ok();
    check("delete", &mut previous);
    let lines = assert_json_log_lines(&previous, "whole cycle");
    assert!(
        lines.iter().any(|l| l["level"] == "error"),
        "the failing `start` must have appended an error line:\n{previous}"
    );
}

#[test]
fn c05_json_log_only_appended_full_cycle() {
    let Some(ctx) = TestCtx::new("c05") else { return };
    log_cycle(&ctx, &[]);
}

#[test]
fn c05_json_log_only_appended_full_cycle_debug() {
    let Some(ctx) = TestCtx::new("c05d") else { return };
    log_cycle(&ctx, &["--debug"]);
}

#[test]
fn c06_unknown_id_messages_and_exit_codes() {
    let Some(ctx) = TestCtx::new("c06") else { return };
    let cases: [&[&str]; 8] = [
        &["start", "nosuch"],
        &["kill", "nosuch"],
        &["pause", "nosuch"],
        &["resume", "nosuch"],
        &["state", "nosuch"],
        &["ps", "--format", "json", "nosuch"],
        &["update", "--resources=-", "nosuch"],
        &["events", "--stats", "nosuch"],
    ];
    for args in cases {
        let out = ctx.cmd(args).stdin(b"{\"pids\":{\"limit\":10}}\n").run();
        out.assert_fails_with(1, "container does not exist");
        if args[0] == "state" {
            assert!(
                out.stdout.is_empty(),
                "`state` of an unknown id must print nothing on stdout:\n{}",
                out.describe()
            );
        }
    }
    ctx.run(&["exec", "nosuch", "true"])
        .assert_fails_with(255, "container does not exist");
}

#[test]
fn c07_invalid_ids_rejected_and_nothing_created() {
    let Some(ctx) = TestCtx::new("c07") else { return };
    let b = ctx.bundle(&["true"]);
    for id in ["a/b", "..", ".", ""] {
        let out = ctx.create_with(&b, id, &[]);
        out.assert_exit(1);
        if !id.is_empty() {
            assert!(
                out.stderr.contains("invalid container ID format"),
                "id {id:?}: want `invalid container ID format`:\n{}",
                out.describe()
            );
        }
        let entries: Vec<String> = fs::read_dir(ctx.root())
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert!(entries.is_empty(), "id {id:?}: create left {entries:?} under the root");
        let cgs = cgroup::existing_dirs(&b.cgroups_path());
        assert!(cgs.is_empty(), "id {id:?}: create left cgroups {cgs:?}");
    }
}

#[test]
fn c08_checkpoint_help_matches_support() {
    let Some(ctx) = TestCtx::new("c08") else { return };
    let help = ctx.run(&["checkpoint", "--help"]);
    // Probe on a `created` container: runc refuses the state before ever calling criu, an
    // unimplemented checkpoint answers "not supported" (§2.15).
    let b = ctx.bundle(&["sleep", "1000"]);
    ctx.create_ok(&b, "c08");
    let probe = ctx.run(&[
        "checkpoint",
        "--image-path",
        ctx.scratch("img").to_str().unwrap(),
        "c08",
    ]);
    assert!(
        !probe.ok(),
        "checkpoint of a created container cannot succeed:\n{}",
        probe.describe()
    );
    let e = probe.stderr.to_lowercase();
    let unsupported = [
        "not supported",
        "not implemented",
        "unrecognized subcommand",
        "unknown command",
    ]
    .iter()
    .any(|w| e.contains(w));
    if unsupported {
        assert!(
            !help.ok(),
            "checkpoint is not implemented, so `checkpoint --help` must exit non-zero:\n{}",
            help.describe()
        );
    } else {
        assert!(
            help.ok(),
            "checkpoint is implemented, so `checkpoint --help` must exit 0:\n{}",
            help.describe()
        );
    }
    assert_eq!(
        ctx.status("c08"),
        "created",
        "the failed checkpoint must not change the container"
    );
}
