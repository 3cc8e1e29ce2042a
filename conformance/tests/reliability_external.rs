//! Things dying or being damaged underneath a container, from outside the runtime: the init
//! killed, the whole cgroup emptied and removed, the state directory damaged by hand
//! (`state.json` garbage, truncated, removed, naming another process; `exec.fifo` removed).
//! Every verb then either works or fails with one clear message (exit 1; 255 for exec), never
//! a panic, a signal or a hang; and `delete --force` exits 0 and leaves nothing behind.

mod reliability_common;

use std::time::Duration;

use conformance::{cgroup, procfs, read_pid_file, wait_until, ProcId, RunOutput, TestCtx};
use nix::sys::signal::Signal;
use reliability_common::{cgroup_of, light_bundle, root_entries, shared_rootfs};

/// Run every verb on `id`; return what misbehaved. `allowed` lists, per verb, the failure
/// phrases that are acceptable in this situation (an empty list: the verb must succeed or
/// fail with any one-line message).
fn every_verb(ctx: &TestCtx, id: &str, scenario: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let exec_proc = ctx.scratch("process.json");
    std::fs::write(
        &exec_proc,
        r#"{"args":["true"],"cwd":"/","user":{"uid":0,"gid":0},"env":["PATH=/bin"]}"#,
    )
    .unwrap();
    let verbs: Vec<Vec<String>> = vec![
        vec!["state".into(), id.into()],
        vec!["list".into(), "--format".into(), "json".into()],
        vec!["list".into()],
        vec!["start".into(), id.into()],
        vec!["kill".into(), id.into(), "TERM".into()],
        vec!["kill".into(), "--all".into(), id.into(), "KILL".into()],
        vec!["pause".into(), id.into()],
        vec!["resume".into(), id.into()],
        vec!["ps".into(), "--format".into(), "json".into(), id.into()],
        vec![
            "exec".into(),
            "--process".into(),
            exec_proc.display().to_string(),
            id.into(),
        ],
        vec!["delete".into(), id.into()],
    ];
    for v in &verbs {
        let args: Vec<&str> = v.iter().map(String::as_str).collect();
        let out = ctx.cmd(&args).timeout(Duration::from_secs(20)).run();
        if let Some(p) = misbehaved(&args, &out) {
            problems.push(format!("{scenario}: {p}"));
        }
    }
    problems
}

fn misbehaved(args: &[&str], out: &RunOutput) -> Option<String> {
    let fail_code = if args[0] == "exec" { 255 } else { 1 };
    if out.stderr.contains("panicked") || out.stderr.contains("RUST_BACKTRACE") {
        return Some(format!("panic: {}", out.describe()));
    }
    if out.ok() {
        if args[0] == "list" && !out.stderr.trim().is_empty() && args.len() > 1 {
            // A damaged entry is reported beside the list; the list itself must still parse.
            return serde_json::from_str::<serde_json::Value>(out.stdout.trim())
                .err()
                .map(|e| format!("list output is not JSON ({e}): {}", out.describe()));
        }
        return None;
    }
    if out.code != Some(fail_code) || out.timed_out {
        return Some(format!("want exit 0 or {fail_code}: {}", out.describe()));
    }
    let msg = out.stderr.trim();
    if msg.is_empty() {
        return Some(format!("failure without a message: {}", out.describe()));
    }
    None
}

struct Scenario<'a> {
    ctx: &'a TestCtx,
    rootfs: &'a std::path::Path,
    n: usize,
}

impl Scenario<'_> {
    /// A container `ext-<n>`: created, and started unless `created_only`.
    fn container(&mut self, created_only: bool) -> (String, ProcId) {
        self.n += 1;
        let id = format!("ext-{}", self.n);
        let b = light_bundle(self.ctx, self.rootfs, &id, &["sleep", "1000"]);
        let pid_file = self.ctx.scratch("ext.pid");
        self.ctx
            .run(&[
                "create",
                "--bundle",
                b.to_str().unwrap(),
                "--pid-file",
                pid_file.to_str().unwrap(),
                &id,
            ])
            .assert_ok();
        let init = ProcId::of(read_pid_file(&pid_file)).expect("init alive");
        self.ctx.track_pid(init);
        if !created_only {
            self.ctx.start_ok(&id);
        }
        (id, init)
    }

    /// Run every verb, then `delete --force`, then look for leftovers.
    fn check(&self, id: &str, init: ProcId, scenario: &str) -> Vec<String> {
        let mut problems = every_verb(self.ctx, id, scenario);
        let out = self.ctx.run(&["delete", "--force", id]);
        if !out.ok() {
            problems.push(format!("{scenario}: delete --force: {}", out.describe()));
        }
        let mut left = Vec::new();
        wait_until(Duration::from_secs(3), || {
            left = self.ctx.leftovers(id, &cgroup_of(self.ctx, id), Some(init));
            left.is_empty()
        });
        problems.extend(left.into_iter().map(|l| format!("{scenario}: {l}")));
        problems
    }
}

/// Kill every process of the container's cgroup from outside and remove the cgroup in every
/// hierarchy (the harness's own cleanup routine, which only ever touches test cgroups).
fn remove_cgroup(cg: &str) {
    let gone = cgroup::remove_test_cgroup(cg);
    assert!(gone.is_empty(), "could not remove {cg}: {gone:?}");
}

#[test]
fn r20_init_killed_cgroup_removed_state_damaged() {
    let Some(ctx) = TestCtx::new("r20") else {
        return;
    };
    let rootfs = shared_rootfs(&ctx);
    let mut s = Scenario {
        ctx: &ctx,
        rootfs: &rootfs,
        n: 0,
    };
    let mut problems = Vec::new();

    for created_only in [false, true] {
        let what = if created_only { "created" } else { "running" };

        // The init killed from outside: the container is stopped, nothing else changes.
        let (id, init) = s.container(created_only);
        init.signal(Signal::SIGKILL);
        wait_until(Duration::from_secs(5), || !init.is_alive());
        let st = ctx.state(&id);
        if st["status"] != "stopped" || st["pid"] != 0 {
            problems.push(format!("{what} init killed: state {st}"));
        }
        ctx.run(&["start", &id]).assert_fails_with(1, "stopped");
        ctx.run(&["kill", &id, "KILL"])
            .assert_fails_with(1, "container not running");
        problems.extend(s.check(&id, init, &format!("{what} init killed")));

        // The whole cgroup emptied and removed underneath.
        let (id, init) = s.container(created_only);
        remove_cgroup(&cgroup_of(&ctx, &id));
        wait_until(Duration::from_secs(5), || !init.is_alive());
        let st = ctx.state(&id);
        if st["status"] != "stopped" {
            problems.push(format!("{what} cgroup removed: state {st}"));
        }
        problems.extend(s.check(&id, init, &format!("{what} cgroup removed")));

        // state.json damaged by hand in several ways, the container still alive.
        for (how, damage) in [
            ("garbage", b"\x00\xffnot json at all".to_vec()),
            ("truncated", Vec::new()),
            ("half", b"{\"ociVersion\":\"1.0.2\",\"id\":".to_vec()),
            ("wrong types", b"{\"id\": 5, \"pid\": \"x\"}".to_vec()),
        ] {
            let (id, init) = s.container(created_only);
            let f = ctx.state_dir(&id).join("state.json");
            std::fs::write(&f, &damage).unwrap();
            let out = ctx.run(&["state", &id]);
            if !(out.code == Some(1) && out.stderr.contains("state.json")) {
                problems.push(format!(
                    "{what} state.json {how}: state must name the file: {}",
                    out.describe()
                ));
            }
            // `delete` without --force must not destroy what it cannot see.
            ctx.run(&["delete", &id]).assert_exit(1);
            if !init.is_alive() {
                problems.push(format!(
                    "{what} state.json {how}: delete without --force killed the init"
                ));
            }
            problems.extend(s.check(&id, init, &format!("{what} state.json {how}")));
        }

        // state.json removed by hand.
        let (id, init) = s.container(created_only);
        std::fs::remove_file(ctx.state_dir(&id).join("state.json")).unwrap();
        ctx.run(&["state", &id])
            .assert_fails_with(1, "container does not exist");
        problems.extend(s.check(&id, init, &format!("{what} state.json removed")));

        // state.json naming another live process (ours): nothing may signal it.
        let (id, init) = s.container(created_only);
        let f = ctx.state_dir(&id).join("state.json");
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        v["pid"] = serde_json::json!(std::process::id());
        std::fs::write(&f, v.to_string()).unwrap();
        let st = ctx.state(&id);
        if st["status"] != "stopped" {
            problems.push(format!(
                "{what} pid replaced: state {st} (a recycled pid is not the init)"
            ));
        }
        problems.extend(s.check(&id, init, &format!("{what} pid replaced")));

        // exec.fifo removed by hand.
        let (id, init) = s.container(created_only);
        let _ = std::fs::remove_file(ctx.state_dir(&id).join("exec.fifo"));
        problems.extend(s.check(&id, init, &format!("{what} exec.fifo removed")));
    }

    // The test process survived all of the above (it was named as a container's init).
    assert!(root_entries(&ctx).is_empty(), "state root: {:?}", root_entries(&ctx));
    assert!(
        procfs::processes_in_cgroup(&cgroup_of(&ctx, "ext-1")).is_empty(),
        "processes left"
    );
    conformance::announce(&format!("r20: {} damaged containers, {} problems", s.n, problems.len()));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
