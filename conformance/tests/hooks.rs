//! Hooks (runtime-spec `config.md` "POSIX-platform Hooks", `runtime.md` "Lifecycle";
//! `cli-contract.md` §9.3 and checklist items 47–52): each kind runs once, in order, with the
//! state on stdin, in the right namespace; failures and timeouts fail the operation and leave
//! nothing behind; dockerd's prestart hook pattern works.

use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use conformance::{runc_differs, Bundle, ProcId, RuntimeKind, TestCtx};
use serde_json::{json, Value};

/// A hook running `sh -c script` (the host's /bin/sh, or the container's busybox sh for
/// startContainer, whose path resolves in the container).
fn sh_hook(script: &str) -> Value {
    json!({"path": "/bin/sh", "args": ["sh", "-c", script]})
}

/// A hook appending `<kind> <mnt ns> <stdin state>` to `log`.
fn logging_hook(kind: &str, log: &str) -> Value {
    sh_hook(&format!(
        "read -r s; echo \"{kind} $(readlink /proc/self/ns/mnt) $s\" >> {log}"
    ))
}

fn set_hooks(b: &mut Bundle, hooks: Value) {
    b.config_mut()["hooks"] = hooks;
}

fn own_mnt_ns() -> String {
    fs::read_link("/proc/self/ns/mnt")
        .expect("readlink /proc/self/ns/mnt")
        .to_string_lossy()
        .into_owned()
}

/// Log lines as (kind, mnt ns, state).
fn parse_log(text: &str) -> Vec<(String, String, Value)> {
    text.lines()
        .map(|l| {
            let mut it = l.splitn(3, ' ');
            let kind = it.next().unwrap_or_default().to_string();
            let ns = it.next().unwrap_or_default().to_string();
            let state = serde_json::from_str(it.next().unwrap_or_default())
                .unwrap_or_else(|e| panic!("hook stdin is not JSON in line {l:?}: {e}"));
            (kind, ns, state)
        })
        .collect()
}

/// Items 47 and 48: all six kinds run once each, in lifecycle order, each before the verb
/// that runs it returns; prestart, createRuntime, poststart and poststop in the runtime's
/// mount namespace, createContainer and startContainer in the container's; the state on
/// stdin has the spec's status for each kind.
#[test]
fn h01_all_hooks_order_namespace_and_state() {
    let Some(ctx) = TestCtx::new("h01") else { return };
    let mut b = ctx.bundle(&["sh", "-c", "echo user-program >> /hooks.log; sleep 30"]);
    b.config_mut()["root"]["readonly"] = json!(false);
    let host_log = ctx.scratch("hooks.log");
    let host = host_log.to_str().expect("UTF-8");
    fs::write(&host_log, "").expect("log");
    fs::write(b.rootfs_path("hooks.log"), "").expect("log in rootfs");
    set_hooks(
        &mut b,
        json!({
            "prestart": [logging_hook("prestart", host)],
            "createRuntime": [logging_hook("createRuntime", host)],
            // Before pivot_root the host's paths are visible: log to the host file.
            "createContainer": [logging_hook("createContainer", host)],
            // After pivot_root: the path resolves in the container.
            "startContainer": [logging_hook("startContainer", "/hooks.log")],
            "poststart": [logging_hook("poststart", host)],
            "poststop": [logging_hook("poststop", host)],
        }),
    );
    let id = "h01";
    let init = ctx.create_ok(&b, id);
    let container_ns = fs::read_link(format!("/proc/{}/ns/mnt", init.pid))
        .expect("init mnt ns")
        .to_string_lossy()
        .into_owned();
    let after_create: Vec<String> = parse_log(&fs::read_to_string(&host_log).unwrap())
        .into_iter()
        .map(|(k, _, _)| k)
        .collect();
    if after_create.last().map(String::as_str) == Some("poststart") && runc_differs(&ctx.rt, "poststart-in-create") {
        let _ = ctx.run(&["delete", "--force", id]);
        return;
    }
    assert_eq!(after_create, ["prestart", "createRuntime", "createContainer"]);
    ctx.start_ok(id);
    let inside = fs::read_to_string(b.rootfs_path("hooks.log")).unwrap();
    // The user program may still be starting; whatever it wrote comes after the hook's line.
    assert!(
        inside.starts_with("startContainer ") && inside.lines().skip(1).all(|l| l == "user-program"),
        "startContainer must run once, before the user program: {inside:?}"
    );
    let after_start: Vec<String> = parse_log(&fs::read_to_string(&host_log).unwrap())
        .into_iter()
        .map(|(k, _, _)| k)
        .collect();
    assert_eq!(after_start.last().map(String::as_str), Some("poststart"));
    ctx.run(&["kill", id, "KILL"]).assert_ok();
    ctx.wait_status(id, "stopped", Duration::from_secs(10));
    ctx.run(&["delete", id]).assert_ok();

    let mut all = parse_log(&fs::read_to_string(&host_log).unwrap());
    let start_line = inside.lines().next().unwrap_or_default();
    all.insert(3, parse_log(start_line).remove(0));
    let kinds: Vec<&str> = all.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart",
            "poststop"
        ]
    );
    let host_ns = own_mnt_ns();
    for (kind, ns, state) in &all {
        assert_eq!(state["id"], id, "{kind}: state {state}");
        assert_eq!(state["bundle"], b.dir_str(), "{kind}: state {state}");
        if kind.ends_with("Container") {
            assert_eq!(ns, &container_ns, "{kind} must run in the container's mount namespace");
        } else if ctx.rt.kind == RuntimeKind::Crun {
            // crun runs under a wrapper with a mount namespace of its own (crun-wrap.sh).
            assert_ne!(ns, &container_ns, "{kind} must run in the runtime's mount namespace");
        } else {
            assert_eq!(ns, &host_ns, "{kind} must run in the runtime's mount namespace");
        }
        let want_status = match kind.as_str() {
            "poststart" => "running",
            "poststop" => "stopped",
            _ => "created",
        };
        if state["status"] != want_status && state["status"] == "creating" && runc_differs(&ctx.rt, "hook-status") {
            continue;
        }
        assert_eq!(state["status"], want_status, "{kind}: state {state}");
    }
    // pid: the host pid for the runtime-namespace hooks before poststop.
    for (kind, _, state) in &all[..2] {
        assert_eq!(state["pid"], init.pid, "{kind}: state {}", state);
    }
}

/// Item 50: a failing hook of each kind that runs during `create` fails `create` (exit 1,
/// naming the hook) and leaves nothing behind.
#[test]
fn h02_failing_create_hooks_leave_nothing() {
    let Some(ctx) = TestCtx::new("h02") else { return };
    for (n, kind) in ["prestart", "createRuntime", "createContainer"].iter().enumerate() {
        let mut b = ctx.bundle(&["true"]);
        set_hooks(&mut b, json!({ *kind: [sh_hook("echo hook-says-no >&2; exit 3")] }));
        let id = format!("h02-{n}");
        let out = ctx.create_with(&b, &id, &[]);
        assert_eq!(out.code, Some(1), "{kind}:\n{}", out.describe());
        // runc says `error running hook #0`, this runtime `error running <kind> hook #0`.
        assert!(
            out.stderr.contains("hook"),
            "{kind}: the error names the hook:\n{}",
            out.describe()
        );
        ctx.assert_no_leftovers(&id, &b.cgroups_path(), None);
    }
}

/// Item 50: a hook past its `timeout` is killed and the operation fails with "timeout".
#[test]
fn h03_hook_timeout() {
    let Some(ctx) = TestCtx::new("h03") else { return };
    let mut b = ctx.bundle(&["true"]);
    let mut hook = sh_hook("exec sleep 30");
    hook["timeout"] = json!(1);
    set_hooks(&mut b, json!({ "createRuntime": [hook] }));
    let out = ctx.create_with(&b, "h03", &[]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(out.stderr.contains("timeout"), "{}", out.describe());
    assert!(
        out.elapsed < Duration::from_secs(20),
        "the hook was not killed: {:?}",
        out.elapsed
    );
    ctx.assert_no_leftovers("h03", &b.cgroups_path(), None);
}

/// `startContainer` failing: the user program never runs and the container ends stopped.
/// This runtime (and the contract) also fails `start`; runc writes its handshake first, so
/// its `start` may exit 0.
#[test]
fn h04_failing_start_container_hook() {
    let Some(ctx) = TestCtx::new("h04") else { return };
    let mut b = ctx.bundle(&["sh", "-c", "echo ran > /ran; sleep 30"]);
    b.config_mut()["root"]["readonly"] = json!(false);
    set_hooks(&mut b, json!({ "startContainer": [sh_hook("exit 4")] }));
    let init = ctx.create_ok(&b, "h04");
    let out = ctx.run(&["start", "h04"]);
    if out.ok() {
        assert!(
            runc_differs(&ctx.rt, "start-container-hook"),
            "start succeeded:\n{}",
            out.describe()
        );
    } else {
        assert!(out.stderr.contains("startContainer"), "{}", out.describe());
    }
    ctx.wait_status("h04", "stopped", Duration::from_secs(10));
    assert!(!b.rootfs_path("ran").exists(), "the user program ran");
    ctx.run(&["delete", "h04"]).assert_ok();
    ctx.assert_no_leftovers("h04", &b.cgroups_path(), Some(init));
}

/// A failing poststart hook: `start` fails and the container is stopped (spec ≥ 1.1, runc).
#[test]
fn h05_failing_poststart_stops_the_container() {
    let Some(ctx) = TestCtx::new("h05") else { return };
    let mut b = ctx.bundle(&["sleep", "30"]);
    set_hooks(&mut b, json!({ "poststart": [sh_hook("exit 5")] }));
    let out = ctx.create_with(&b, "h05", &[]);
    if !out.ok() && runc_differs(&ctx.rt, "poststart-in-create") {
        return;
    }
    out.assert_ok();
    let init = ProcId::of(ctx.state("h05")["pid"].as_i64().unwrap_or(0) as i32).expect("init alive");
    let out = ctx.run(&["start", "h05"]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    ctx.wait_status("h05", "stopped", Duration::from_secs(10));
    ctx.run(&["delete", "h05"]).assert_ok();
    ctx.assert_no_leftovers("h05", &b.cgroups_path(), Some(init));
}

/// Item 52: a failing poststop hook is a warning; `delete` exits 0 and the container is gone.
#[test]
fn h06_failing_poststop_is_a_warning() {
    let Some(ctx) = TestCtx::new("h06") else { return };
    let mut b = ctx.bundle(&["true"]);
    set_hooks(&mut b, json!({ "poststop": [sh_hook("exit 6")] }));
    let init = ctx.create_ok(&b, "h06");
    ctx.start_ok("h06");
    ctx.wait_status("h06", "stopped", Duration::from_secs(10));
    let out = ctx.run(&["delete", "h06"]);
    if !out.ok() && runc_differs(&ctx.rt, "poststop-fails-delete") {
        ctx.run(&["delete", "--force", "h06"]);
        return;
    }
    out.assert_ok();
    assert!(
        out.stderr.contains("hook"),
        "a warning names the hook:\n{}",
        out.describe()
    );
    ctx.assert_no_leftovers("h06", &b.cgroups_path(), Some(init));
}

/// dockerd's prestart hook: `path` is `/proc/<dockerd pid>/exe` (a host binary reached through
/// another process), `args[0]` is `libnetwork-setkey`, and the hook reads the state.
#[test]
fn h07_dockerd_prestart_pattern() {
    let Some(ctx) = TestCtx::new("h07") else { return };
    // A host process standing in for dockerd: a shell waiting on its stdin.
    let mut daemon = Command::new("/bin/sh")
        .args(["-c", "read x"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn /bin/sh");
    let out_file = ctx.scratch("setkey.out");
    let mut b = ctx.bundle(&["true"]);
    set_hooks(
        &mut b,
        json!({ "prestart": [{
            "path": format!("/proc/{}/exe", daemon.id()),
            "args": ["libnetwork-setkey", "-c",
                     format!("echo \"$0\" > {0}; cat >> {0}", out_file.display())],
        }]}),
    );
    let init = ctx.create_ok(&b, "h07");
    let _ = daemon.stdin.take().map(|mut s| s.write_all(b"\n"));
    let _ = daemon.wait();
    let text = fs::read_to_string(&out_file).expect("the hook ran");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("libnetwork-setkey"));
    let state: Value = serde_json::from_str(lines.next().unwrap_or_default()).expect("state JSON");
    assert_eq!(state["id"], "h07");
    assert_eq!(state["pid"], init.pid);
    ctx.run(&["delete", "--force", "h07"]).assert_ok();
    ctx.assert_no_leftovers("h07", &b.cgroups_path(), Some(init));
}

/// Item 49: `args[0]` may differ from `path`, and a given `env` is exactly the environment.
#[test]
fn h08_hook_argv0_and_env() {
    let Some(ctx) = TestCtx::new("h08") else { return };
    let out_file = ctx.scratch("env.out");
    let mut b = ctx.bundle(&["true"]);
    set_hooks(
        &mut b,
        json!({ "createRuntime": [{
            "path": "/bin/sh",
            "args": ["my-argv0", "-c", format!("echo \"$0\" > {0}; /usr/bin/env >> {0}", out_file.display())],
            "env": ["ONLY=this"],
        }]}),
    );
    let init: ProcId = ctx.create_ok(&b, "h08");
    let text = fs::read_to_string(&out_file).expect("the hook ran");
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.remove(0), "my-argv0");
    // sh may add PWD (and dash, OLDPWD) of its own; nothing of the runtime's environment.
    lines.retain(|l| !l.starts_with("PWD=") && !l.starts_with("OLDPWD=") && !l.starts_with("SHLVL="));
    assert_eq!(lines, ["ONLY=this"]);
    ctx.run(&["delete", "--force", "h08"]).assert_ok();
    ctx.assert_no_leftovers("h08", &b.cgroups_path(), Some(init));
}

/// createContainer and startContainer hooks run in the container's cgroups (in every
/// hierarchy), as runc and crun run them: from the init, before pivot_root and before the
/// program's exec respectively.
#[test]
fn h09_container_hooks_run_in_the_containers_cgroups() {
    let Some(ctx) = TestCtx::new("h09") else { return };
    let mut b = ctx.bundle(&["sleep", "30"]);
    b.config_mut()["root"]["readonly"] = json!(false);
    let host_file = ctx.scratch("create-container.cgroup");
    set_hooks(
        &mut b,
        json!({
            "createContainer": [sh_hook(&format!("cat /proc/self/cgroup > {}", host_file.display()))],
            "startContainer": [sh_hook("cat /proc/self/cgroup > /start-container.cgroup")],
        }),
    );
    let init = ctx.create_ok(&b, "h09");
    ctx.start_ok("h09");
    let want = fs::read_to_string(format!("/proc/{}/cgroup", init.pid)).expect("the init's /proc/PID/cgroup");
    // (g13 checks that the init is in every hierarchy; crun leaves out the unified one.)
    assert!(
        want.lines().any(|l| l.ends_with(&b.cgroups_path())),
        "the init itself is not in the container's cgroups:\n{want}"
    );
    for (kind, file) in [
        ("createContainer", host_file),
        ("startContainer", b.rootfs_path("start-container.cgroup")),
    ] {
        let got = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{kind} hook output {}: {e}", file.display()));
        assert_eq!(got, want, "the {kind} hook ran in other cgroups than the init");
    }
    ctx.run(&["delete", "--force", "h09"]).assert_ok();
}
