//! The same cases against runc and against runtime-cli, compared: `state` and `list` JSON shapes
//! (keys and value types) and the exit codes of error cases. Runs only when `RUNTIME` is
//! `runtime-cli` (the default) and runc is installed (a missing runc is a failure under CI).

use std::time::Duration;

use conformance::{json_shape, require_root, Runtime, TestCtx};
use serde_json::Value;

const T10: Duration = Duration::from_secs(10);

/// (ours, runc), or `None` after printing why the comparison does not apply.
fn pair(name: &str) -> Option<(TestCtx, TestCtx)> {
    if !require_root() {
        return None;
    }
    let sel = std::env::var("RUNTIME").unwrap_or_default();
    if !(sel.is_empty() || sel == "runtime-cli") {
        conformance::announce(&format!(
            "SKIP: {name}: side-by-side compares runtime-cli with runc; RUNTIME={sel}"
        ));
        return None;
    }
    let runc = Runtime::runc()?;
    let ours = Runtime::runtime_cli();
    Some((
        TestCtx::with_runtime(&format!("{name}-ours"), ours),
        TestCtx::with_runtime(&format!("{name}-runc"), runc),
    ))
}

/// Runs `f` against both runtimes and returns (ours, runc).
fn both<T>(ours: &TestCtx, runc: &TestCtx, f: impl Fn(&TestCtx) -> T) -> (T, T) {
    (f(ours), f(runc))
}

#[track_caller]
fn assert_same_shape(what: &str, ours: &Value, runc: &Value) {
    assert_eq!(
        json_shape(ours),
        json_shape(runc),
        "{what}: keys/types differ\n runtime-cli: {ours:#}\n runc: {runc:#}"
    );
}

#[test]
fn s01_state_same_keys_and_types() {
    let Some((ours, runc)) = pair("s01") else { return };
    for annotated in [false, true] {
        let id = if annotated { "s01-annotated" } else { "s01-plain" };
        let states = |ctx: &TestCtx| {
            let mut b = ctx.bundle(&["sleep", "1000"]);
            if annotated {
                b.annotations(&[("org.example.key", "value")]);
            }
            ctx.create_ok(&b, id);
            let created = ctx.state(id);
            ctx.start_ok(id);
            let running = ctx.state(id);
            ctx.run(&["kill", id, "9"]).assert_ok();
            let stopped = ctx.wait_status(id, "stopped", T10);
            [created, running, stopped]
        };
        let (o, r) = both(&ours, &runc, states);
        for (i, phase) in ["created", "running", "stopped"].iter().enumerate() {
            assert_same_shape(&format!("state ({phase}, annotations: {annotated})"), &o[i], &r[i]);
        }
    }
}

#[test]
fn s02_list_json_same_shape() {
    let Some((ours, runc)) = pair("s02") else { return };
    let empty = |ctx: &TestCtx| {
        let out = ctx.run(&["list", "--format", "json"]);
        out.assert_ok();
        out.json()
    };
    let (o, r) = both(&ours, &runc, empty);
    let is_empty = |v: &Value| v.is_null() || v.as_array().is_some_and(Vec::is_empty);
    assert!(is_empty(&o) && is_empty(&r), "empty list: runtime-cli {o}, runc {r}");
    let one = |ctx: &TestCtx| {
        let b = ctx.bundle(&["sleep", "1000"]);
        ctx.running(&b, "s02");
        let out = ctx.run(&["list", "--format=json"]);
        out.assert_ok();
        out.json()
    };
    let (o, r) = both(&ours, &runc, one);
    let (oa, ra) = (
        o.as_array().cloned().unwrap_or_default(),
        r.as_array().cloned().unwrap_or_default(),
    );
    assert!(o.is_array() && oa.len() == 1, "runtime-cli list: {o:#}");
    assert!(r.is_array() && ra.len() == 1, "runc list: {r:#}");
    assert_same_shape("list entry", &oa[0], &ra[0]);
}

#[test]
fn s03_error_cases_same_exit_codes() {
    let Some((ours, runc)) = pair("s03") else { return };
    type Case = (&'static str, fn(&TestCtx) -> Option<i32>);
    let cases: Vec<Case> = vec![
        ("state of unknown id", |c| c.run(&["state", "nosuch"]).code),
        ("start of unknown id", |c| c.run(&["start", "nosuch"]).code),
        ("kill of unknown id", |c| c.run(&["kill", "nosuch", "9"]).code),
        ("delete of unknown id", |c| c.run(&["delete", "nosuch"]).code),
        ("exec in unknown id", |c| c.run(&["exec", "nosuch", "true"]).code),
        ("bad signal name", |c| {
            let b = c.bundle(&["sleep", "1000"]);
            c.running(&b, "badsig");
            c.run(&["kill", "badsig", "NOPE"]).code
        }),
        ("duplicate id", |c| {
            let b = c.bundle(&["sleep", "1000"]);
            c.create_ok(&b, "dup");
            c.create_with(&b, "dup", &[]).code
        }),
        ("delete running without --force", |c| {
            let b = c.bundle(&["sleep", "1000"]);
            c.running(&b, "busy");
            c.run(&["delete", "busy"]).code
        }),
        ("invalid log-format", |c| {
            c.cmd(&["list"]).global(&["--log-format", "yaml"]).run().code
        }),
        ("missing executable", |c| {
            let b = c.bundle(&["nosuchprog"]);
            c.create_with(&b, "noexe", &[]).code
        }),
    ];
    let mut mismatches = Vec::new();
    for (what, f) in cases {
        let (o, r) = both(&ours, &runc, f);
        assert_ne!(r, Some(0), "{what}: runc unexpectedly succeeded");
        if o != r {
            mismatches.push(format!("{what}: runtime-cli exit {o:?}, runc exit {r:?}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "exit codes differ from runc:\n  {}",
        mismatches.join("\n  ")
    );
}
