//! Concurrency: 16 workers drive 500 containers through create, start, state, kill and
//! delete on one state root, picking ids from a small shared pool so that verbs on the same
//! id interleave at random; a 17th thread runs `list` throughout. Every failure must be one
//! of the expected racing failures ([`reliability_common::expected_failures`]); afterwards
//! no state directory, cgroup, process or mount of any container may remain.
//!
//! Also: two `delete --force` of one id at once both exit 0 and the container is gone, and
//! `delete --force` of an unknown id exits 0.

mod reliability_common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use conformance::procfs::mountinfo;
use conformance::{read_pid_file, wait_until, ProcId, TestCtx};
use reliability_common::{light_bundle, list_problems, root_entries, shared_rootfs, unexpected, Rng};

const WORKERS: usize = 16;
const CONTAINERS: usize = 500;
/// Small enough that workers collide on ids all the time.
const POOL: usize = 40;

#[derive(Default)]
struct Tally {
    invocations: AtomicUsize,
    created: AtomicUsize,
    expected_failures: AtomicUsize,
    lists: AtomicUsize,
}

#[test]
fn r01_parallel_workers_random_interleavings() {
    let Some(ctx) = TestCtx::new_exclusive("r01") else {
        return;
    };
    let mut rng = Rng::from_env("r01");
    let rootfs = shared_rootfs(&ctx);
    let ids: Vec<String> = (0..POOL).map(|i| format!("c{i}")).collect();
    // Most containers sleep until killed; every fourth exits at once (stopped on its own).
    let bundles: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let args: &[&str] = if i % 4 == 3 { &["true"] } else { &["sleep", "1000"] };
            light_bundle(&ctx, &rootfs, id, args).display().to_string()
        })
        .collect();
    let mounts_before = mountinfo();
    let tally = Tally::default();
    let inits = Mutex::new(Vec::<ProcId>::new());
    let errors = Mutex::new(Vec::<String>::new());
    let done = AtomicBool::new(false);

    std::thread::scope(|s| {
        for w in 0..WORKERS {
            let mut rng = rng.fork();
            let (ctx, ids, bundles, tally, inits, errors, done) =
                (&ctx, &ids, &bundles, &tally, &inits, &errors, &done);
            s.spawn(move || {
                let mut n = 0;
                while !done.load(Ordering::SeqCst) {
                    let i = rng.below(POOL as u64) as usize;
                    let id = ids[i].as_str();
                    let r = rng.below(100);
                    let (verb, out) = match r {
                        0..=29 => {
                            // Reserve a slot first so that exactly CONTAINERS are created.
                            let pid_file = ctx.scratch(&format!("w{w}-{n}.pid"));
                            let pf = pid_file.display().to_string();
                            let out = ctx.run(&["create", "--bundle", &bundles[i], "--pid-file", &pf, id]);
                            if out.ok() {
                                let pid = read_pid_file(&pid_file);
                                if let Some(p) = ProcId::of(pid) {
                                    inits.lock().unwrap().push(p);
                                }
                                if tally.created.fetch_add(1, Ordering::SeqCst) + 1 >= CONTAINERS {
                                    done.store(true, Ordering::SeqCst);
                                }
                            }
                            ("create", out)
                        }
                        30..=49 => ("start", ctx.run(&["start", id])),
                        50..=64 => {
                            let out = ctx.run(&["state", id]);
                            if out.ok() {
                                let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap_or_default();
                                let p = conformance::state_object_problems(&v);
                                if !p.is_empty() || v["id"] != id {
                                    errors
                                        .lock()
                                        .unwrap()
                                        .push(format!("state {id}: {p:?}: {}", out.stdout));
                                }
                            }
                            ("state", out)
                        }
                        65..=79 => {
                            let sig = if rng.below(4) == 0 { "TERM" } else { "KILL" };
                            ("kill", ctx.run(&["kill", id, sig]))
                        }
                        80..=89 => ("delete", ctx.run(&["delete", id])),
                        _ => ("delete --force", ctx.run(&["delete", "--force", id])),
                    };
                    n += 1;
                    tally.invocations.fetch_add(1, Ordering::SeqCst);
                    if !out.ok() {
                        tally.expected_failures.fetch_add(1, Ordering::SeqCst);
                    }
                    if let Some(e) = unexpected(verb, &out) {
                        errors.lock().unwrap().push(format!("worker {w}: {verb} {id}: {e}"));
                    }
                }
            });
        }
        // `list` stays consistent throughout: every listed entry parses and has a valid status.
        s.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                let out = ctx.run(&["list", "--format", "json"]);
                tally.lists.fetch_add(1, Ordering::SeqCst);
                let p = list_problems(&out);
                if !p.is_empty() {
                    errors.lock().unwrap().extend(p);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
    });

    // Tear down what is left, then look for leaks of every container that ever existed.
    for id in &ids {
        let out = ctx.run(&["delete", "--force", id]);
        if !out.ok() {
            errors
                .lock()
                .unwrap()
                .push(format!("final delete --force {id}: {}", out.describe()));
        }
    }
    let mut leaks = Vec::new();
    for id in &ids {
        let cg = reliability_common::cgroup_of(&ctx, id);
        leaks.extend(ctx.leftovers(id, &cg, None));
    }
    let left = root_entries(&ctx);
    if !left.is_empty() {
        leaks.push(format!("entries left in the state root: {left:?}"));
    }
    let inits = inits.into_inner().unwrap();
    let mut alive = Vec::new();
    wait_until(Duration::from_secs(5), || {
        alive = inits.iter().filter(|p| p.is_alive()).copied().collect();
        alive.is_empty()
    });
    if !alive.is_empty() {
        leaks.push(format!("container inits still alive: {alive:?}"));
    }
    let mounts_after = mountinfo();
    if mounts_before.len() != mounts_after.len() {
        leaks.push(format!(
            "mount table changed: {} -> {} entries",
            mounts_before.len(),
            mounts_after.len()
        ));
    }
    let errors = errors.into_inner().unwrap();
    conformance::announce(&format!(
        "r01: {WORKERS} workers, {} containers created, {} invocations ({} expected racing failures), {} lists, {} unexpected errors, {} leaks",
        tally.created.load(Ordering::SeqCst),
        tally.invocations.load(Ordering::SeqCst),
        tally.expected_failures.load(Ordering::SeqCst),
        tally.lists.load(Ordering::SeqCst),
        errors.len(),
        leaks.len()
    ));
    assert!(
        tally.created.load(Ordering::SeqCst) >= CONTAINERS,
        "fewer containers than planned"
    );
    assert!(
        errors.is_empty(),
        "{} unexpected errors, the first ones:\n{}",
        errors.len(),
        errors.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
    );
    assert!(leaks.is_empty(), "leaks:\n  {}", leaks.join("\n  "));
}

#[test]
fn r02_two_force_deletes_of_one_id_and_unknown_id() {
    let Some(ctx) = TestCtx::new("r02") else {
        return;
    };
    let rootfs = shared_rootfs(&ctx);
    for round in 0..10 {
        let id = format!("dd{round}");
        let b = light_bundle(&ctx, &rootfs, &id, &["sleep", "1000"]);
        let pid_file = ctx.scratch("dd.pid");
        ctx.run(&[
            "create",
            "--bundle",
            b.to_str().unwrap(),
            "--pid-file",
            pid_file.to_str().unwrap(),
            &id,
        ])
        .assert_ok();
        let init = ProcId::of(read_pid_file(&pid_file));
        if round % 2 == 0 {
            ctx.start_ok(&id);
        }
        let (a, b2) = std::thread::scope(|s| {
            let t1 = s.spawn(|| ctx.run(&["delete", "--force", &id]));
            let t2 = s.spawn(|| ctx.run(&["delete", "--force", &id]));
            (t1.join().unwrap(), t2.join().unwrap())
        });
        a.assert_ok();
        b2.assert_ok();
        ctx.run(&["state", &id])
            .assert_fails_with(1, "container does not exist");
        ctx.assert_no_leftovers(&id, &reliability_common::cgroup_of(&ctx, &id), init);
    }
    ctx.run(&["delete", "--force", "never-existed"]).assert_ok();
    assert!(root_entries(&ctx).is_empty(), "{:?}", root_entries(&ctx));
}
