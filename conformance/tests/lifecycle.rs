//! cli-contract.md §10 "create / start / state" items 9–18 and "stdio" item 19.

use std::fs::{self, File};
use std::os::unix::net::UnixListener;
use std::time::Duration;

use conformance::{
    read_or_empty, read_pid_file, state_object_problems, subreaper_helper, wait_for_file, ProcId, TestCtx, STATUSES,
};
use nix::sys::signal::Signal;

const T10: Duration = Duration::from_secs(10);

#[track_caller]
fn assert_state_object(v: &serde_json::Value, what: &str) {
    let problems = state_object_problems(v);
    assert!(
        problems.is_empty(),
        "{what}: state object does not conform:\n  {}\nstate: {v:#}",
        problems.join("\n  ")
    );
}

#[test]
fn c09_create_pid_file_digits() {
    let Some(ctx) = TestCtx::new("c09") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    let pid_file = ctx.scratch("init.pid");
    ctx.create_with(&b, "c09", &["--pid-file", pid_file.to_str().unwrap()])
        .assert_ok();
    let raw = fs::read(&pid_file).expect("pid file written by create");
    assert!(
        !raw.is_empty() && raw.iter().all(u8::is_ascii_digit),
        "pid file must hold only ASCII digits (no newline), got {:?}",
        String::from_utf8_lossy(&raw)
    );
    let pid = read_pid_file(&pid_file);
    if let Some(p) = ProcId::of(pid) {
        ctx.track_pid(p);
    }
    let state = ctx.state("c09");
    assert_eq!(state["status"], "created", "{state:#}");
    assert_eq!(
        state["pid"].as_i64(),
        Some(i64::from(pid)),
        "pid file and `state` disagree: {state:#}"
    );
}

#[test]
fn c10_program_runs_only_after_start_exactly_once() {
    let Some(ctx) = TestCtx::new("c10") else { return };
    let b = ctx.bundle(&["sh", "-c", "echo ran >> /tmp/marker"]);
    let marker = b.rootfs_path("tmp/marker");
    ctx.create_ok(&b, "c10");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !marker.exists(),
        "the program ran before `start`: {} exists",
        marker.display()
    );
    assert_eq!(ctx.status("c10"), "created");
    ctx.start_ok("c10");
    ctx.wait_status("c10", "stopped", T10);
    assert_eq!(
        read_or_empty(&marker),
        "ran\n",
        "the program must have run exactly once after `start`"
    );
}

#[test]
fn c11_init_reparented_to_caller_no_runtime_left() {
    let Some(ctx) = TestCtx::new("c11") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    let pid_file = ctx.scratch("init.pid");
    let (out, reaper) = ctx
        .cmd(&[
            "create",
            "--bundle",
            b.dir_str(),
            "--pid-file",
            pid_file.to_str().unwrap(),
            "c11",
        ])
        .run_under_subreaper(subreaper_helper!());
    out.assert_ok();
    let pid = read_pid_file(&pid_file);
    let init = ProcId::of(pid).unwrap_or_else(|| panic!("init {pid} is not alive after create"));
    ctx.track_pid(init);
    let st = init.stat().expect("init stat");
    assert_eq!(
        st.ppid,
        reaper.pid(),
        "the init's parent must be the caller (a child subreaper, pid {}), not {}: {st:?}",
        reaper.pid(),
        st.ppid
    );
    let others: Vec<String> = reaper
        .descendants()
        .into_iter()
        .filter(|d| d.pid != pid)
        .map(|d| format!("{} {:?} exe={:?}", d.pid, d.comm, d.exe()))
        .collect();
    assert!(
        others.is_empty(),
        "after `create` returned, only the init may remain below the caller; also alive: {others:?}"
    );
    assert_eq!(ctx.status("c11"), "created");
    ctx.run(&["delete", "--force", "c11"]).assert_ok();
    reaper.finish();
}

#[test]
fn c12_duplicate_id_rejected_first_untouched() {
    let Some(ctx) = TestCtx::new("c12") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    let init = ctx.create_ok(&b, "dup");
    let b2 = ctx.bundle(&["sleep", "1000"]);
    ctx.create_with(&b2, "dup", &[]).assert_fails_with(1, "already exists");
    assert_eq!(ctx.status("dup"), "created", "the first container must be untouched");
    assert!(init.is_alive(), "the first container's init died");
    assert_eq!(
        ctx.state("dup")["bundle"],
        b.dir_str(),
        "the first container's state was changed"
    );
    let left = ctx.leftovers("", &b2.cgroups_path(), None);
    assert!(left.is_empty(), "the failed create left: {left:?}");
}

#[test]
fn c13_missing_executable_message_and_no_leftovers() {
    let Some(ctx) = TestCtx::new("c13") else { return };
    let cases: [(&str, &str, &str); 2] = [
        ("path-lookup", "nosuchprog", "executable file not found in $PATH"),
        ("absolute", "/nosuch/prog", "no such file or directory"),
    ];
    for (id, prog, phrase) in cases {
        let b = ctx.bundle(&[prog]);
        let out = ctx.create_with(&b, id, &[]);
        out.assert_fails_with(1, phrase);
        assert!(
            out.stderr.contains(prog),
            "the message must name the program {prog:?}:\n{}",
            out.describe()
        );
        ctx.assert_no_leftovers(id, &b.cgroups_path(), None);
    }
}

#[test]
fn c14_terminal_console_socket_misuse() {
    let Some(ctx) = TestCtx::new("c14") else { return };
    // terminal: true without --console-socket
    let mut b = ctx.bundle(&["sh"]);
    b.terminal(true);
    let out = ctx.create_with(&b, "tty-nosock", &[]);
    out.assert_exit(1);
    assert!(
        out.stderr.to_lowercase().contains("console"),
        "the message should mention the console socket:\n{}",
        out.describe()
    );
    ctx.assert_no_leftovers("tty-nosock", &b.cgroups_path(), None);

    // --console-socket with terminal: false
    let b = ctx.bundle(&["sh"]);
    let sock = ctx.scratch("console.sock");
    let _listener = UnixListener::bind(&sock).expect("bind console socket");
    let out = ctx.create_with(&b, "notty-sock", &["--console-socket", sock.to_str().unwrap()]);
    out.assert_exit(1);
    assert!(
        out.stderr.to_lowercase().contains("console"),
        "the message should mention the console socket:\n{}",
        out.describe()
    );
    ctx.assert_no_leftovers("notty-sock", &b.cgroups_path(), None);
}

#[test]
fn c15_state_keys_and_types() {
    let Some(ctx) = TestCtx::new("c15") else { return };
    let mut b = ctx.bundle(&["sleep", "1000"]);
    b.annotations(&[
        ("org.example.key", "value"),
        ("io.kubernetes.cri.container-type", "container"),
    ]);
    ctx.create_ok(&b, "c15");
    for phase in ["created", "running", "stopped"] {
        match phase {
            "running" => ctx.start_ok("c15"),
            "stopped" => {
                ctx.run(&["kill", "c15", "KILL"]).assert_ok();
                ctx.wait_status("c15", "stopped", T10);
            }
            _ => {}
        }
        let s = ctx.state("c15");
        assert_state_object(&s, phase);
        assert_eq!(s["status"], phase, "{s:#}");
        assert_eq!(s["id"], "c15", "{s:#}");
        assert_eq!(
            s["bundle"],
            b.dir_str(),
            "`bundle` must be the absolute bundle path: {s:#}"
        );
        assert_eq!(
            s["rootfs"],
            b.rootfs().to_str().unwrap(),
            "`rootfs` must be the absolute rootfs path: {s:#}"
        );
        assert_eq!(
            s["annotations"],
            b.config()["annotations"],
            "`annotations` must be the config's: {s:#}"
        );
    }
}

#[test]
fn c16_status_values_in_every_state() {
    let Some(ctx) = TestCtx::new("c16") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    let check = |want: &str| {
        let s = ctx.status("c16");
        assert!(
            STATUSES.contains(&s.as_str()),
            "status {s:?} is not one of {STATUSES:?}"
        );
        assert_eq!(s, want);
    };
    ctx.create_ok(&b, "c16");
    check("created");
    ctx.start_ok("c16");
    check("running");
    if ctx.pause_or_skip("c16") {
        check("paused");
        ctx.run(&["resume", "c16"]).assert_ok();
        check("running");
    }
    ctx.run(&["kill", "c16", "9"]).assert_ok();
    ctx.wait_status("c16", "stopped", T10);
    check("stopped");
}

#[test]
fn c17_outside_sigkill_gives_stopped_pid_zero() {
    let Some(ctx) = TestCtx::new("c17") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    let init = ctx.running(&b, "c17");
    assert!(init.signal(Signal::SIGKILL), "could not SIGKILL the init {init:?}");
    let s = ctx.wait_status("c17", "stopped", T10);
    assert_eq!(s["pid"].as_i64(), Some(0), "a stopped container reports pid 0: {s:#}");
}

#[test]
fn c18_start_on_running_or_stopped_fails_program_not_rerun() {
    let Some(ctx) = TestCtx::new("c18") else { return };
    let b = ctx.bundle(&["sh", "-c", "echo ran >> /tmp/marker; exec sleep 1000"]);
    let marker = b.rootfs_path("tmp/marker");
    ctx.running(&b, "c18");
    assert!(
        wait_for_file(&marker, T10, |t| !t.is_empty()),
        "the program did not run after start"
    );
    ctx.run(&["start", "c18"])
        .assert_fails_with(1, "cannot start an already running container");
    assert_eq!(ctx.status("c18"), "running");
    ctx.run(&["kill", "c18", "9"]).assert_ok();
    ctx.wait_status("c18", "stopped", T10);
    ctx.run(&["start", "c18"]).assert_fails_with(1, "has stopped");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(read_or_empty(&marker), "ran\n", "the program must not have run again");
    assert_eq!(ctx.status("c18"), "stopped");
}

#[test]
fn c19_stdio_to_regular_file_runtime_silent() {
    let Some(ctx) = TestCtx::new("c19") else { return };
    let b = ctx.bundle(&["echo", "hi"]);
    let out_path = ctx.scratch("container.stdout");
    let err_path = ctx.scratch("container.stderr");
    let out = ctx
        .cmd(&["create", "--bundle", b.dir_str(), "c19"])
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .run();
    assert!(
        out.ok(),
        "create failed: {}\nits stderr file: {}",
        out.describe(),
        read_or_empty(&err_path)
    );
    assert_eq!(read_or_empty(&out_path), "", "create wrote to its stdout on success");
    assert_eq!(read_or_empty(&err_path), "", "create wrote to its stderr on success");
    let start = ctx.run(&["start", "c19"]);
    start.assert_ok();
    assert!(
        start.stdout.is_empty() && start.stderr.is_empty(),
        "start printed something:\n{}",
        start.describe()
    );
    ctx.wait_status("c19", "stopped", T10);
    assert_eq!(
        read_or_empty(&out_path),
        "hi\n",
        "the container's `echo hi` must land in the inherited stdout file"
    );
    assert_eq!(read_or_empty(&err_path), "", "nothing may be written to stderr");
}

/// `start` returns only once the container's program has replaced the runtime in the init
/// (runc reads its FIFO to EOF for the same reason): clients read `/proc/<state pid>` right
/// after `start` and must see the program. The init is stopped before `start`, so a `start`
/// that returned on writing the handshake byte is caught every time, not by a lost race.
#[test]
fn c20_start_returns_after_the_program_replaced_the_init() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let Some(ctx) = TestCtx::new("c20") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    let init = ctx.create_ok(&b, "c20");
    let cmdline = || read_or_empty(std::path::Path::new(&format!("/proc/{}/cmdline", init.pid)));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(init.pid), Signal::SIGSTOP).expect("SIGSTOP the init");
    let returned = AtomicBool::new(false);
    std::thread::scope(|s| {
        let start = s.spawn(|| {
            let out = ctx.run(&["start", "c20"]);
            returned.store(true, Ordering::SeqCst);
            out
        });
        std::thread::sleep(Duration::from_millis(500));
        let early = returned.load(Ordering::SeqCst);
        let before = cmdline();
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(init.pid), Signal::SIGCONT).expect("SIGCONT the init");
        let out = start.join().expect("start thread");
        out.assert_ok();
        assert!(
            !early,
            "`start` returned while the init was stopped before exec (its cmdline was {before:?})"
        );
    });
    let after = cmdline();
    assert!(
        after.starts_with("sleep\0"),
        "right after `start` the state pid {} must run the program, it runs {after:?}",
        init.pid
    );
    assert_eq!(ctx.status("c20"), "running");
}
