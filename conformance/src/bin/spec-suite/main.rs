//! `spec-suite`: the OCI runtime-spec requirement suite.
//!
//! Every MUST/SHOULD of `config.md`, `config-linux.md`, `runtime.md` and `runtime-linux.md`
//! that a runtime can be tested on is one requirement with an ID naming the section
//! (`runtime.md/delete-running-fails`). Each requirement drives a runc-compatible binary
//! through its command line on a busybox bundle and checks the result from inside the
//! container (the static `spec-checker` binary, copied into the rootfs, reports what the
//! process sees as JSON) or from outside.
//!
//! ```text
//! spec-suite [--runtime runtime-cli|runc|crun]... | --all
//!            [--checker PATH] [--jobs N] [--only SUBSTRING]...
//!            [--out-dir DIR] [--gate EXPECTED_FAILURES_FILE]
//! ```
//!
//! Prints one table (requirement, runc, crun, runtime-cli) and the counts per spec document,
//! writes `spec-results.json` and `spec-results.md` to `--out-dir`, and with `--gate` checks
//! runtime-cli's results against the expected-failure list (exit 1 when the gate fails).
//! Needs root; run it under `conformance/scripts/guarded-ns.sh` (or use
//! `conformance/scripts/spec-suite.sh`, which builds everything first).

mod report;
mod reqs;
mod t;

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use conformance::{announce, ci, Runtime, TestCtx};

use crate::report::{Outcome, Results};
use crate::t::{Why, T};

fn usage() -> ! {
    eprintln!(
        "usage: spec-suite [--runtime runtime-cli|runc|crun]... | --all [--checker PATH] [--jobs N] \
         [--only SUBSTRING]... [--out-dir DIR] [--gate FILE] [--list]"
    );
    std::process::exit(2);
}

struct Opts {
    runtimes: Vec<String>,
    checker: Option<PathBuf>,
    jobs: usize,
    only: Vec<String>,
    out_dir: Option<PathBuf>,
    gate: Option<PathBuf>,
    list: bool,
}

fn parse_args() -> Opts {
    let mut o = Opts {
        runtimes: vec![],
        checker: None,
        jobs: 3,
        only: vec![],
        out_dir: None,
        gate: None,
        list: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--runtime" => o.runtimes.push(val()),
            "--all" => o.runtimes = vec!["runc".into(), "crun".into(), "runtime-cli".into()],
            "--checker" => o.checker = Some(PathBuf::from(val())),
            "--jobs" => o.jobs = val().parse().unwrap_or_else(|_| usage()),
            "--only" => o.only.push(val()),
            "--out-dir" => o.out_dir = Some(PathBuf::from(val())),
            "--gate" => o.gate = Some(PathBuf::from(val())),
            "--list" => o.list = true,
            _ => usage(),
        }
    }
    if o.runtimes.is_empty() {
        o.runtimes.push("runtime-cli".into());
    }
    o.jobs = o.jobs.max(1);
    o
}

fn runtime(name: &str) -> Option<Runtime> {
    match name {
        "runtime-cli" => Some(Runtime::runtime_cli()),
        "runc" => Runtime::runc(),
        "crun" => Runtime::crun(),
        other => {
            eprintln!("unknown runtime {other:?}");
            usage()
        }
    }
}

thread_local! {
    static PANIC_AT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    let msg = p
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".into());
    let at = PANIC_AT.with(|a| a.borrow().clone());
    if at.is_empty() {
        msg
    } else {
        format!("{msg} (at {at})")
    }
}

fn main() {
    let o = parse_args();
    let all = reqs::all();
    let selected: Vec<&reqs::Req> = all
        .iter()
        .filter(|r| o.only.is_empty() || o.only.iter().any(|s| r.id.contains(s.as_str())))
        .collect();
    if o.list {
        for r in &selected {
            println!("{:<58} {:<6} {}", r.id, r.level, r.what);
        }
        return;
    }
    if !nix::unistd::geteuid().is_root() {
        eprintln!("spec-suite needs root (run it under conformance/scripts/guarded-ns.sh)");
        std::process::exit(2);
    }
    let checker = t::prepare_checker(o.checker.clone());
    // Quiet panics: a failing requirement reports its message in the table instead.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        PANIC_AT.with(|a| *a.borrow_mut() = at);
    }));

    let mut runtimes = Vec::new();
    for name in &o.runtimes {
        match runtime(name) {
            Some(rt) => runtimes.push(rt),
            None if ci() => {
                eprintln!("CI=true and runtime {name} is missing");
                std::process::exit(1);
            }
            None => announce(&format!("SKIP: runtime {name} is not installed")),
        }
    }

    let jobs: Vec<(usize, usize)> = (0..selected.len())
        .flat_map(|r| (0..runtimes.len()).map(move |k| (r, k)))
        .collect();
    let queue = Arc::new(Mutex::new(jobs.into_iter()));
    let results: Arc<Mutex<BTreeMap<(usize, usize), Outcome>>> = Arc::default();
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..o.jobs {
            let queue = Arc::clone(&queue);
            let results = Arc::clone(&results);
            let (selected, runtimes, checker) = (&selected, &runtimes, &checker);
            s.spawn(move || loop {
                let Some((r, k)) = queue.lock().unwrap_or_else(|e| e.into_inner()).next() else {
                    return;
                };
                let req = selected[r];
                let rt = runtimes[k].clone();
                let t0 = Instant::now();
                let res = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    let ctx = TestCtx::with_runtime(&format!("spec-{}", req.slug()), rt);
                    let t = T::new(ctx, checker.clone());
                    (req.f)(&t)
                }));
                let outcome = match res {
                    Ok(Ok(())) => Outcome::Pass,
                    Ok(Err(Why::Fail(m))) => Outcome::Fail(m),
                    Ok(Err(Why::Skip(m))) => Outcome::Skip(m),
                    Err(p) => Outcome::Fail(panic_message(p.as_ref())),
                };
                eprintln!(
                    "{:<55} {:<12} {} ({:.1}s)",
                    req.id,
                    runtimes[k].name,
                    outcome.word(),
                    t0.elapsed().as_secs_f64()
                );
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert((r, k), outcome);
            });
        }
    });
    // The private copy of the checker (each rootfs had a hard link to it, gone with the
    // test directories).
    let _ = std::fs::remove_file(&checker);
    let results = std::mem::take(&mut *results.lock().unwrap_or_else(|e| e.into_inner()));
    let names: Vec<String> = runtimes.iter().map(|r| r.name.clone()).collect();
    let res = Results::collect(&selected, &names, results);
    print!("{}", res.text_table());
    println!("elapsed: {:.0}s", started.elapsed().as_secs_f64());
    if let Some(dir) = &o.out_dir {
        res.write(dir);
    }
    if let Some(gate) = &o.gate {
        let problems = res.gate(gate, o.only.is_empty());
        if problems.is_empty() {
            println!("spec gate: passed (expected failures in {})", gate.display());
        } else {
            println!("spec gate: FAILED");
            for p in &problems {
                println!("  {p}");
            }
            std::process::exit(1);
        }
    }
}
