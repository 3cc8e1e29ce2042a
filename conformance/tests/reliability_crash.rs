//! Crash consistency: 200 trials in which the runtime process dies (SIGKILL) in the middle of
//! `create`, `start`, `exec` or `delete`: at a named stage (runtime-core's test-only
//! `RUNTIME_CLI_TEST_STOP_AT`), or from outside at a random moment while the runtime sleeps
//! a random few hundred µs at every stage (`RUNTIME_CLI_TEST_DELAY_US`). Some trials stop the
//! runtime (SIGSTOP) at the stage instead and check that `state` and `list` work while it
//! hangs there holding the container's lock, before killing it.
//!
//! After every trial: `state.json`, where it exists, is a whole JSON document; `state` either
//! describes the container or says it does not exist; `list` works and every entry is valid;
//! `delete --force` exits 0; and nothing of the container remains (state directory, anything
//! else in the state root, cgroup, processes in it, the init, runtime processes).

mod reliability_common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use conformance::{procfs, wait_until, ProcId, RuntimeKind, TestCtx};
use reliability_common::{light_bundle, list_problems, root_entries, shared_rootfs, Rng};

const TRIALS_PER_VERB: usize = 50;

const CREATE_STAGES: &[&str] = &[
    "create:validated",
    "state:reserve-tmp",
    "create:reserved",
    "create:cgroups",
    "create:spawned",
    "create:ready",
    "state:write-tmp",
    "create:saved",
];
const START_STAGES: &[&str] = &["start:locked", "start:signalled"];
const EXEC_STAGES: &[&str] = &["exec:loaded", "exec:spawned", "exec:ready"];
const DELETE_STAGES: &[&str] = &["delete:locked", "delete:killed", "delete:cgroups-removed"];

#[derive(Debug, Clone, Copy)]
enum How {
    /// SIGKILL itself at the stage.
    KillAt(&'static str),
    /// SIGSTOP itself at the stage; the test looks around, then SIGKILLs it.
    StopAt(&'static str),
    /// Killed from outside after this many ms, with random delays at every stage.
    KillAfter(u64),
}

fn spawn_runtime(ctx: &TestCtx, args: &[&str], how: How) -> Child {
    let mut cmd = ctx.rt.command();
    cmd.arg("--root").arg(ctx.root()).args(args);
    cmd.current_dir(ctx.work());
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    match how {
        How::KillAt(s) => {
            cmd.env("RUNTIME_CLI_TEST_STOP_AT", s);
        }
        How::StopAt(s) => {
            cmd.env("RUNTIME_CLI_TEST_STOP_AT", format!("{s}:stop"));
        }
        How::KillAfter(_) => {
            cmd.env("RUNTIME_CLI_TEST_DELAY_US", "500");
        }
    }
    cmd.spawn().expect("spawn the runtime")
}

fn is_stopped(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, r)| r.starts_with('T')))
        .unwrap_or(false)
}

/// Run the verb and make sure the runtime process dies the planned way. Returns a problem
/// found while it was stopped mid-way, if any.
fn crash(ctx: &TestCtx, id: &str, args: &[&str], how: How) -> Vec<String> {
    let mut problems = Vec::new();
    let mut child = spawn_runtime(ctx, args, how);
    match how {
        How::KillAt(_) => {}
        How::StopAt(stage) => {
            // Wait until it stops itself at the stage (or finishes if it never gets there).
            let reached = wait_until(Duration::from_secs(20), || {
                is_stopped(child.id()) || child.try_wait().ok().flatten().is_some()
            });
            if !reached {
                problems.push(format!("{args:?} neither reached {stage} nor finished"));
            } else if is_stopped(child.id()) {
                // Readers never block on a writer that hangs holding the lock.
                let st = ctx.cmd(&["state", id]).timeout(Duration::from_secs(10)).run();
                if !(st.ok() || st.stderr.contains("container does not exist")) {
                    problems.push(format!("state while {stage} hangs: {}", st.describe()));
                }
                let l = ctx
                    .cmd(&["list", "--format", "json"])
                    .timeout(Duration::from_secs(10))
                    .run();
                problems.extend(
                    list_problems(&l)
                        .into_iter()
                        .map(|p| format!("while {stage} hangs: {p}")),
                );
            }
            let _ = child.kill();
        }
        How::KillAfter(ms) => {
            std::thread::sleep(Duration::from_millis(ms));
            let _ = child.kill();
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if child.try_wait().ok().flatten().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            problems.push(format!("{args:?} ({how:?}) did not end"));
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    problems
}

/// Processes of the runtime binary that still work on this test's state root (a killed
/// runtime's children: a half-set-up init or exec'd process before it exec'd).
fn runtime_processes(ctx: &TestCtx) -> Vec<i32> {
    let root = ctx.root().as_os_str().as_encoded_bytes().to_vec();
    procfs::all_pids()
        .into_iter()
        .filter(|p| {
            let exe = std::fs::read_link(format!("/proc/{p}/exe")).ok();
            let cmdline = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
            exe.is_some_and(|e| e == ctx.rt.binary)
                && cmdline.windows(root.len()).any(|w| w == root.as_slice())
                && procfs::ProcStat::read(*p).is_some_and(|s| !s.is_dead())
        })
        .collect()
}

/// The checks after every trial; returns what is wrong.
fn after_trial(ctx: &TestCtx, id: &str, init: Option<ProcId>, expect_running: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let state_file = ctx.state_dir(id).join("state.json");
    if let Ok(bytes) = std::fs::read(&state_file) {
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            problems.push(format!("{} is not whole JSON ({e})", state_file.display()));
        }
    }
    if expect_running {
        // The byte may still sit in the FIFO for a moment before the init reads it and execs.
        wait_until(Duration::from_secs(5), || {
            let st = ctx.run(&["state", id]);
            !st.ok() || st.json()["status"] != "created"
        });
    }
    let st = ctx.run(&["state", id]);
    if st.ok() {
        let v: serde_json::Value = serde_json::from_str(st.stdout.trim()).unwrap_or_default();
        problems.extend(conformance::state_object_problems(&v));
        if expect_running && v["status"] != "running" {
            problems.push(format!("status {} after the crash, want running", v["status"]));
        }
    } else if !(st.code == Some(1) && st.stderr.contains("container does not exist")) || expect_running {
        problems.push(format!("state after the crash: {}", st.describe()));
    }
    problems.extend(list_problems(&ctx.run(&["list", "--format", "json"])));
    let del = ctx.run(&["delete", "--force", id]);
    if !del.ok() {
        problems.push(format!("delete --force after the crash: {}", del.describe()));
    }
    let cg = reliability_common::cgroup_of(ctx, id);
    let mut left = Vec::new();
    wait_until(Duration::from_secs(3), || {
        left = ctx.leftovers(id, &cg, init);
        let rp = runtime_processes(ctx);
        if !rp.is_empty() {
            left.push(format!("runtime processes still alive: {rp:?}"));
        }
        let entries = root_entries(ctx);
        if !entries.is_empty() {
            left.push(format!("entries left in the state root: {entries:?}"));
        }
        left.is_empty()
    });
    problems.extend(left);
    problems
}

fn init_of(ctx: &TestCtx, id: &str) -> Option<ProcId> {
    let st = ctx.state(id);
    st["pid"].as_i64().and_then(|p| ProcId::of(p as i32))
}

#[test]
fn r10_crash_at_every_stage_of_create_start_exec_delete() {
    let Some(ctx) = TestCtx::new_exclusive("r10") else {
        return;
    };
    if ctx.rt.kind != RuntimeKind::RuntimeCli {
        conformance::skip_unsupported("r10: the crash points are runtime-cli's own test hooks");
        return;
    }
    let mut rng = Rng::from_env("r10");
    let rootfs = shared_rootfs(&ctx);
    let mounts_before = procfs::mountinfo();
    let mut failures = Vec::new();
    let mut trials = 0;
    for (verb, stages) in [
        ("create", CREATE_STAGES),
        ("start", START_STAGES),
        ("exec", EXEC_STAGES),
        ("delete", DELETE_STAGES),
    ] {
        for k in 0..TRIALS_PER_VERB {
            let id = format!("{verb}-{k}");
            let how = match k % 3 {
                0 => How::KillAfter(rng.below(if verb == "create" { 120 } else { 40 })),
                1 => How::KillAt(stages[(k / 3) % stages.len()]),
                _ => How::StopAt(stages[(k / 3) % stages.len()]),
            };
            let b = light_bundle(&ctx, &rootfs, &id, &["sleep", "1000"]);
            let bundle = b.to_str().unwrap();
            ctx.track_id(&id);
            let mut init = None;
            let mut expect_running = false;
            let mut problems = Vec::new();
            match verb {
                "create" => {
                    problems.extend(crash(&ctx, &id, &["create", "--bundle", bundle, &id], how));
                }
                "start" => {
                    ctx.run(&["create", "--bundle", bundle, &id]).assert_ok();
                    init = init_of(&ctx, &id);
                    problems.extend(crash(&ctx, &id, &["start", &id], how));
                    // The byte reached the init: it runs, whatever became of the FIFO.
                    expect_running = matches!(how, How::KillAt("start:signalled") | How::StopAt("start:signalled"));
                }
                "exec" => {
                    ctx.run(&["create", "--bundle", bundle, &id]).assert_ok();
                    ctx.start_ok(&id);
                    init = init_of(&ctx, &id);
                    problems.extend(crash(&ctx, &id, &["exec", "--detach", &id, "sleep", "1000"], how));
                    expect_running = true;
                }
                _ => {
                    ctx.run(&["create", "--bundle", bundle, &id]).assert_ok();
                    if k % 2 == 0 {
                        ctx.start_ok(&id);
                    }
                    init = init_of(&ctx, &id);
                    problems.extend(crash(&ctx, &id, &["delete", "--force", &id], how));
                }
            }
            problems.extend(after_trial(&ctx, &id, init, expect_running));
            trials += 1;
            if !problems.is_empty() {
                failures.push(format!("trial {verb} #{k} ({how:?}):\n    {}", problems.join("\n    ")));
            }
        }
    }
    let mounts_after = procfs::mountinfo();
    if mounts_before.len() != mounts_after.len() {
        failures.push(format!(
            "mount table changed: {} -> {} entries",
            mounts_before.len(),
            mounts_after.len()
        ));
    }
    conformance::announce(&format!(
        "r10: {trials} crash trials (create, start, exec, delete x {TRIALS_PER_VERB}), {} failed",
        failures.len()
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(Path::new(ctx.root()).exists());
}
