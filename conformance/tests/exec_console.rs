//! cli-contract.md §10 "stdio, console, fds" items 20–23 (§4, §5.3), "exec" items 35–39 (§2.4)
//! and "pause / ps" items 40 and 42 (§2.9, §2.10).

use std::fs::{self, File};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use conformance::console::{read_until_eof, receive_console_message, ConsoleSocket, PtyProxy};
use conformance::{cgroup, read_or_empty, read_pid_file, wait_until, ProcId, RunOutput, TestCtx};
use nix::fcntl::OFlag;
use serde_json::{json, Value};

const T10: Duration = Duration::from_secs(10);
const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Lines of `s`, without trailing blanks.
fn lines(s: &str) -> Vec<&str> {
    s.lines().map(str::trim_end).collect()
}

/// The lines strictly between the line `from` and the next line `to`.
fn section<'a>(s: &'a str, from: &str, to: &str) -> Vec<&'a str> {
    lines(s)
        .into_iter()
        .skip_while(|l| *l != from)
        .skip(1)
        .take_while(|l| *l != to)
        .collect()
}

/// A runtime-spec `process` object running `args` as root in `/` (for `exec --process`).
fn process(args: &[&str]) -> Value {
    json!({
        "terminal": false,
        "user": {"uid": 0, "gid": 0},
        "args": args,
        "env": [PATH_ENV],
        "cwd": "/"
    })
}

/// Writes `p` to a fresh scratch file and returns its path.
fn process_file(ctx: &TestCtx, p: &Value) -> PathBuf {
    let f = ctx.scratch("process.json");
    fs::write(&f, serde_json::to_string(p).unwrap()).unwrap();
    f
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// `/proc/<pid>/ns/<name>` link targets for the namespaces an exec'd process must share.
fn namespaces(pid: i32) -> Vec<(String, String)> {
    ["mnt", "pid", "net", "ipc", "uts"]
        .iter()
        .map(|n| {
            let t = fs::read_link(format!("/proc/{pid}/ns/{n}"))
                .unwrap_or_else(|e| panic!("readlink /proc/{pid}/ns/{n}: {e}"));
            (n.to_string(), t.display().to_string())
        })
        .collect()
}

/// Runs `RT --root R args...` through `/bin/sh -c '<redirs>; exec "$@"'` so that the runtime
/// starts with the extra fds `redirs` opens (e.g. `exec 3<f1 4<f2 5<f3`); std's `Command` can
/// pass only 0–2 without an unsafe `pre_exec`. Only for bundles made by `ctx.bundle` (their
/// cgroup is checked here, the id is tracked for cleanup). stdout/stderr are captured.
fn run_with_open_fds(ctx: &TestCtx, redirs: &str, args: &[&str], id: &str, bundle: Option<&Path>) -> RunOutput {
    if let Some(b) = bundle {
        let cfg: Value = serde_json::from_str(&fs::read_to_string(b.join("config.json")).unwrap()).unwrap();
        let cg = cfg["linux"]["cgroupsPath"].as_str().unwrap_or("");
        cgroup::check_test_cgroup_path(cg).unwrap_or_else(|e| panic!("refusing to run: {e}"));
        ctx.track_id(id);
    }
    let out_path = ctx.scratch("sh.stdout");
    let err_path = ctx.scratch("sh.stderr");
    let mut argv = vec![
        ctx.rt.program.display().to_string(),
        "--root".into(),
        ctx.root_str().into(),
    ];
    argv.extend(args.iter().map(|a| a.to_string()));
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("{redirs}; exec \"$@\""))
        .arg("sh")
        .args(&argv)
        .envs(ctx.rt.env.iter().map(|(k, v)| (k, v)))
        .current_dir(ctx.work())
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .expect("spawn /bin/sh");
    let started = Instant::now();
    let mut status = None;
    let finished = wait_until(Duration::from_secs(30), || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    });
    if !finished {
        let _ = child.kill(); // the runtime itself (sh exec'd it): our own child, by pid
        status = child.wait().ok();
    }
    use std::os::unix::process::ExitStatusExt;
    RunOutput {
        argv,
        code: if finished { status.and_then(|s| s.code()) } else { None },
        signal: status.and_then(|s| s.signal()),
        timed_out: !finished,
        stdout: read_or_empty(&out_path),
        stderr: read_or_empty(&err_path),
        elapsed: started.elapsed(),
    }
}

/// Accepts the pending console connection (after the runtime exited) and checks the message
/// shape of §4: 1..4095 data bytes, exactly one `SCM_RIGHTS` message with exactly one fd, which
/// is a pty master; nothing else on the connection. Returns the message (its fd is `fds[0]`);
/// whether the connection was closed (`eof`, §4 step 5) is asserted by the caller at the end, so
/// the terminal checks still run and report when only that fails.
#[track_caller]
fn receive_pty_master(sock: &ConsoleSocket, what: &str) -> conformance::console::ConsoleMessage {
    let stream = sock
        .accept_pending()
        .expect("accept on the console socket")
        .unwrap_or_else(|| panic!("{what} exited 0 but no connection is pending on the console socket"));
    let msg = receive_console_message(&stream, Duration::from_secs(2)).expect("recvmsg on the console connection");
    assert!(
        (1..=4095).contains(&msg.data.len()),
        "{what}: the console message must carry 1..4095 data bytes, got {}: {msg:?}",
        msg.data.len()
    );
    assert!(
        !msg.control_truncated,
        "{what}: control data truncated (too many fds): {msg:?}"
    );
    assert_eq!(
        msg.scm_rights_messages, 1,
        "{what}: want exactly one SCM_RIGHTS message: {msg:?}"
    );
    assert_eq!(msg.fds.len(), 1, "{what}: want exactly one fd: {msg:?}");
    assert!(
        msg.other_control_messages.is_empty(),
        "{what}: unexpected control messages: {msg:?}"
    );
    assert!(
        msg.trailing_bytes == 0 && msg.trailing_fds == 0,
        "{what}: more was sent after the first message: {msg:?}"
    );
    let fd = &msg.fds[0];
    assert_eq!(fd.isatty().ok(), Some(true), "{what}: the received fd is not a tty");
    assert!(
        fd.pty_index().is_some(),
        "{what}: the received fd is not a pty master (/proc/self/fdinfo has no tty-index)"
    );
    assert_eq!(
        fd.rdev(),
        Some((5, 2)),
        "{what}: the received fd is not a ptmx (char 5:2)"
    );
    msg
}

#[test]
fn c20_c21_console_socket_create() {
    let Some(ctx) = TestCtx::new("c20") else { return };
    let mut b = ctx.bundle(&["sh"]);
    b.terminal(true);
    b.config_mut()["process"]["consoleSize"] = json!({"height": 30, "width": 100});
    let sock = ConsoleSocket::bind(&ctx.scratch("console.sock")).expect("bind console socket");
    let pid_file = ctx.scratch("init.pid");
    let out = ctx.create_with(
        &b,
        "c20",
        &["--console-socket", sock.path_str(), "--pid-file", s(&pid_file)],
    );
    out.assert_ok();
    if let Some(p) = ProcId::of(read_pid_file(&pid_file)) {
        ctx.track_pid(p);
    }
    // Only now, after `create` has exited, accept (as go-runc does).
    let msg = receive_pty_master(&sock, "create");
    let master = &msg.fds[0];
    let n = master.pty_index().unwrap();
    ctx.start_ok("c20");
    let mut pty = PtyProxy::new(master).expect("start the pty proxy");
    pty.send(
        "tty; stty size; stat -c %t:%T /dev/console; \
         stat -L -c %t:%T /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2; readlink /proc/self/fd/0; echo ok\n",
    )
    .unwrap();
    let got = pty.read_until(T10, |t| {
        conformance::console::strip_terminal_codes(t)
            .lines()
            .any(|l| l.trim() == "ok")
    });
    let all = pty.lines();
    assert!(got, "no `ok` line came back through the pty master; output: {all:#?}");
    let pts = format!("/dev/pts/{n}");
    assert!(
        all.iter().filter(|l| **l == pts).count() >= 2,
        "`tty` and `readlink /proc/self/fd/0` must print {pts} (the master's tty-index is {n}); output: {all:#?}"
    );
    assert!(
        all.iter().any(|l| l == "30 100"),
        "`stty size` must print `30 100` (consoleSize); output: {all:#?}"
    );
    // /dev/console and fds 0-2 are the same pty slave: major 136 (0x88), minor n.
    let dev = format!("88:{n:x}");
    assert!(
        all.iter().filter(|l| **l == dev).count() >= 4,
        "/dev/console and fds 0, 1, 2 must all be the pty slave {dev} (hex major:minor); output: {all:#?}"
    );
    assert!(
        msg.eof,
        "create: the console connection was still open 2 s after `create` exited (§4 step 5: \
         close the connection; a process of the runtime, e.g. the waiting init, still holds it): {msg:?}"
    );
}

#[test]
fn c20_console_socket_run_detach() {
    let Some(ctx) = TestCtx::new("c20r") else { return };
    let mut b = ctx.bundle(&["sh"]);
    b.terminal(true);
    b.save();
    let sock = ConsoleSocket::bind(&ctx.scratch("console.sock")).expect("bind console socket");
    let pid_file = ctx.scratch("init.pid");
    let out = ctx.run(&[
        "run",
        "-d",
        "--console-socket",
        sock.path_str(),
        "--pid-file",
        s(&pid_file),
        "--bundle",
        b.dir_str(),
        "c20r",
    ]);
    out.assert_ok();
    let init = ProcId::of(read_pid_file(&pid_file)).expect("the init of `run -d` is alive");
    ctx.track_pid(init);
    assert_eq!(ctx.status("c20r"), "running");
    let msg = receive_pty_master(&sock, "run -d");
    let mut pty = PtyProxy::new(&msg.fds[0]).expect("start the pty proxy");
    pty.send("echo $((6*7))\n").unwrap();
    let got = pty.read_until(T10, |t| {
        conformance::console::strip_terminal_codes(t)
            .lines()
            .any(|l| l.trim() == "42")
    });
    assert!(
        got,
        "no `42` came back through the pty master; output: {:#?}",
        pty.lines()
    );
    assert!(
        msg.eof,
        "run -d: the runtime did not close the console connection: {msg:?}"
    );
}

#[test]
fn c22_preserve_fds_and_init_fd_hygiene() {
    let Some(ctx) = TestCtx::new("c22") else { return };
    let f: Vec<PathBuf> = ["one", "two", "three"]
        .iter()
        .map(|w| {
            let p = ctx.scratch(&format!("preserved-{w}"));
            fs::write(&p, w).unwrap();
            p
        })
        .collect();
    let redirs = format!("exec 3<{} 4<{} 5<{}", s(&f[0]), s(&f[1]), s(&f[2]));

    // --preserve-fds 2: fds 3 and 4 (the same files), not 5.
    let b = ctx.bundle(&[
        "sh",
        "-c",
        "echo fds; ls /proc/$$/fd; echo links; readlink /proc/$$/fd/3; readlink /proc/$$/fd/4; \
         echo data; cat <&3; echo; cat <&4; echo; echo end",
    ]);
    let out_path = ctx.scratch("with.stdout");
    let out = run_with_open_fds(
        &ctx,
        &format!("{redirs}; exec 1>{}", s(&out_path)),
        &["create", "--preserve-fds", "2", "--bundle", b.dir_str(), "c22a"],
        "c22a",
        Some(b.path()),
    );
    out.assert_ok();
    ctx.start_ok("c22a");
    ctx.wait_status("c22a", "stopped", T10);
    let text = read_or_empty(&out_path);
    assert_eq!(
        section(&text, "fds", "links"),
        ["0", "1", "2", "3", "4"],
        "with --preserve-fds 2 and fds 3, 4, 5 open in the runtime, the init must have exactly 0-4:\n{text}"
    );
    let links = section(&text, "links", "data");
    assert!(
        links.len() == 2 && links[0].ends_with("preserved-one") && links[1].ends_with("preserved-two"),
        "fds 3 and 4 must be the caller's files:\n{text}"
    );
    assert_eq!(
        section(&text, "data", "end"),
        ["one", "two"],
        "contents through fds 3 and 4:\n{text}"
    );

    // No --preserve-fds: only 0, 1, 2 although the runtime had 3, 4, 5 open.
    let b = ctx.bundle(&["sh", "-c", "echo fds; ls /proc/$$/fd; echo end"]);
    let out_path = ctx.scratch("without.stdout");
    let out = run_with_open_fds(
        &ctx,
        &format!("{redirs}; exec 1>{}", s(&out_path)),
        &["create", "--bundle", b.dir_str(), "c22b"],
        "c22b",
        Some(b.path()),
    );
    out.assert_ok();
    ctx.start_ok("c22b");
    ctx.wait_status("c22b", "stopped", T10);
    let text = read_or_empty(&out_path);
    assert_eq!(
        section(&text, "fds", "end"),
        ["0", "1", "2"],
        "without --preserve-fds the init must have only fds 0, 1, 2:\n{text}"
    );
}

#[test]
fn c22_exec_fd_hygiene_and_preserve_fds() {
    let Some(ctx) = TestCtx::new("c22e") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    ctx.running(&b, "c22e");
    let f: Vec<PathBuf> = ["one", "two", "three"]
        .iter()
        .map(|w| {
            let p = ctx.scratch(&format!("preserved-{w}"));
            fs::write(&p, w).unwrap();
            p
        })
        .collect();
    let redirs = format!("exec 3<{} 4<{} 5<{}", s(&f[0]), s(&f[1]), s(&f[2]));
    let out = run_with_open_fds(
        &ctx,
        &redirs,
        &["exec", "c22e", "sh", "-c", "echo fds; ls /proc/$$/fd; echo end"],
        "c22e",
        None,
    );
    out.assert_ok();
    assert_eq!(
        section(&out.stdout, "fds", "end"),
        ["0", "1", "2"],
        "an exec'd process must have only fds 0, 1, 2 (the runtime had 3, 4, 5 open):\n{}",
        out.describe()
    );
    let out = run_with_open_fds(
        &ctx,
        &redirs,
        &[
            "exec",
            "--preserve-fds",
            "1",
            "c22e",
            "sh",
            "-c",
            "echo fds; ls /proc/$$/fd; echo data; cat <&3; echo; echo end",
        ],
        "c22e",
        None,
    );
    out.assert_ok();
    assert_eq!(
        section(&out.stdout, "fds", "data"),
        ["0", "1", "2", "3"],
        "exec --preserve-fds 1 must pass exactly fd 3 besides 0-2:\n{}",
        out.describe()
    );
    assert_eq!(section(&out.stdout, "data", "end"), ["one"], "{}", out.describe());
}

const REOPEN_SCRIPT: &str =
    "id -u; echo hi >> /proc/self/fd/1 && echo reopened; echo err >> /proc/self/fd/2 && echo reopened-err";

#[test]
fn c23_stdio_reopenable_by_uid_1000_file() {
    let Some(ctx) = TestCtx::new("c23f") else { return };
    let mut b = ctx.bundle(&["sh", "-c", REOPEN_SCRIPT]);
    b.config_mut()["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    b.save();
    let out_path = ctx.scratch("container.stdout");
    let err_path = ctx.scratch("container.stderr");
    // O_APPEND: the container's own fd 1 and the reopened one write at the end, not over each other.
    let append = |p: &Path| File::options().create(true).append(true).open(p).unwrap();
    let out = ctx
        .cmd(&["create", "--bundle", b.dir_str(), "c23f"])
        .stdout(append(&out_path))
        .stderr(append(&err_path))
        .run();
    assert!(
        out.ok(),
        "{}\nstderr file: {}",
        out.describe(),
        read_or_empty(&err_path)
    );
    ctx.start_ok("c23f");
    ctx.wait_status("c23f", "stopped", T10);
    assert_eq!(
        read_or_empty(&out_path),
        "1000\nhi\nreopened\nreopened-err\n",
        "uid 1000 must be able to reopen /proc/self/fd/1 and /proc/self/fd/2 (root-created files); stderr: {:?}",
        read_or_empty(&err_path)
    );
    assert_eq!(read_or_empty(&err_path), "err\n");
}

#[test]
fn c23_stdio_reopenable_by_uid_1000_pipe() {
    let Some(ctx) = TestCtx::new("c23p") else { return };
    let mut b = ctx.bundle(&["sh", "-c", REOPEN_SCRIPT]);
    b.config_mut()["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    b.save();
    let (pipe_r, pipe_w): (OwnedFd, OwnedFd) = nix::unistd::pipe2(OFlag::O_CLOEXEC).expect("pipe2");
    let err_path = ctx.scratch("container.stderr");
    let out = ctx
        .cmd(&["create", "--bundle", b.dir_str(), "c23p"])
        .stdout(File::from(pipe_w))
        .stderr(File::create(&err_path).unwrap())
        .run();
    assert!(
        out.ok(),
        "{}\nstderr file: {}",
        out.describe(),
        read_or_empty(&err_path)
    );
    ctx.start_ok("c23p");
    ctx.wait_status("c23p", "stopped", T10);
    let (bytes, eof) = read_until_eof(&pipe_r, T10);
    assert!(
        eof,
        "the stdout pipe did not reach EOF after the container stopped (a process still holds it)"
    );
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        "1000\nhi\nreopened\nreopened-err\n",
        "uid 1000 must be able to reopen /proc/self/fd/1 (a root-created pipe); stderr: {:?}",
        read_or_empty(&err_path)
    );
}

#[test]
fn c35_exec_detach_pid_file_namespaces_cgroup_ps() {
    let Some(ctx) = TestCtx::new("c35") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    let init = ctx.running(&b, "c35");
    let f = process_file(&ctx, &process(&["sleep", "1000"]));
    let pid_file = ctx.scratch("exec.pid");
    let out = ctx.run(&[
        "exec",
        "--process",
        s(&f),
        "--detach",
        "--pid-file",
        s(&pid_file),
        "c35",
    ]);
    out.assert_ok();
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "exec -d printed something:\n{}",
        out.describe()
    );
    let pid = read_pid_file(&pid_file);
    let p = ProcId::of(pid).unwrap_or_else(|| panic!("exec'd pid {pid} is not alive"));
    ctx.track_pid(p);
    assert_eq!(
        p.stat().map(|s| s.comm),
        Some("sleep".to_string()),
        "the pid file must name the exec'd process itself"
    );
    assert_eq!(
        namespaces(pid),
        namespaces(init.pid),
        "the exec'd process must share the init's namespaces"
    );
    let cg = |pid: i32| fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert_eq!(
        cg(pid),
        cg(init.pid),
        "the exec'd process must be in the init's cgroups"
    );

    // item 42: ps --format json lists both.
    let ps = ctx.run(&["ps", "--format", "json", "c35"]);
    ps.assert_ok();
    let v = ps.json();
    let pids: Vec<i64> = v
        .as_array()
        .unwrap_or_else(|| panic!("ps --format json must print an array: {}", ps.describe()))
        .iter()
        .map(|x| x.as_i64().unwrap_or_else(|| panic!("not an integer: {x} in {v}")))
        .collect();
    assert!(
        pids.contains(&i64::from(init.pid)) && pids.contains(&i64::from(pid)),
        "ps must list the init {} and the exec'd {pid}: {pids:?}",
        init.pid
    );
}

#[test]
fn c36_exec_process_file_wins_over_tty_flag() {
    let Some(ctx) = TestCtx::new("c36") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    ctx.running(&b, "c36");
    let f = process_file(&ctx, &process(&["sh", "-c", "tty; echo rc=$?"]));
    let out = ctx.run(&["exec", "--process", s(&f), "--tty", "c36"]);
    out.assert_ok();
    assert_eq!(
        lines(&out.stdout),
        ["not a tty", "rc=1"],
        "terminal:false in the process file must win over --tty:\n{}",
        out.describe()
    );
}

#[test]
fn c37_exec_exit_codes_and_separate_stdio() {
    let Some(ctx) = TestCtx::new("c37") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    ctx.running(&b, "c37");
    ctx.run(&["exec", "c37", "sh", "-c", "exit 3"]).assert_exit(3);
    let out = ctx.run(&["exec", "c37", "sh", "-c", "kill -9 $$"]);
    out.assert_exit(137);
    let out = ctx.run(&["exec", "c37", "sh", "-c", "echo out; echo err >&2"]);
    out.assert_ok();
    assert_eq!(out.stdout, "out\n", "{}", out.describe());
    assert_eq!(out.stderr, "err\n", "{}", out.describe());
}

#[test]
fn c37_exec_process_file_user_env_cwd_and_flags() {
    let Some(ctx) = TestCtx::new("c37u") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    ctx.running(&b, "c37u");
    let mut p = process(&[
        "sh",
        "-c",
        "id -u; id -g; echo groups; id -G | tr ' ' '\\n'; echo cwd; pwd; echo env; env; echo end",
    ]);
    p["user"] = json!({"uid": 65534, "gid": 65534, "additionalGids": [5, 1234]});
    p["cwd"] = json!("/tmp");
    p["env"] = json!([PATH_ENV, "FOO=bar"]);
    let f = process_file(&ctx, &p);
    let out = ctx.run(&["exec", "--process", s(&f), "c37u"]);
    out.assert_ok();
    let l = lines(&out.stdout);
    assert_eq!(
        l.get(..2),
        Some(&["65534", "65534"][..]),
        "uid/gid:\n{}",
        out.describe()
    );
    let mut groups = section(&out.stdout, "groups", "cwd");
    groups.sort_unstable();
    assert_eq!(groups, ["1234", "5", "65534"], "additionalGids:\n{}", out.describe());
    assert_eq!(section(&out.stdout, "cwd", "env"), ["/tmp"], "cwd:\n{}", out.describe());
    let env = section(&out.stdout, "env", "end");
    assert!(
        env.contains(&"FOO=bar"),
        "env from the process file:\n{}",
        out.describe()
    );
    assert!(
        !env.contains(&"TERM=xterm"),
        "the process file is the whole truth: config.json's TERM=xterm must not appear:\n{}",
        out.describe()
    );

    // The flag form (no --process): config.json's process with overrides.
    let out = ctx.run(&[
        "exec",
        "--cwd",
        "/tmp",
        "--env",
        "A=b",
        "--user",
        "65534:65534",
        "c37u",
        "sh",
        "-c",
        "pwd; echo $A; id -u; id -g; echo $TERM",
    ]);
    out.assert_ok();
    assert_eq!(
        lines(&out.stdout),
        ["/tmp", "b", "65534", "65534", "xterm"],
        "exec --cwd/--env/--user (env appended to config.json's):\n{}",
        out.describe()
    );
}

#[test]
fn c38_exec_stopped_and_missing_binary() {
    let Some(ctx) = TestCtx::new("c38") else { return };
    let b = ctx.bundle(&["true"]);
    ctx.running(&b, "c38s");
    ctx.wait_status("c38s", "stopped", T10);
    let pid_file = ctx.scratch("stopped.pid");
    let out = ctx.run(&["exec", "--pid-file", s(&pid_file), "c38s", "true"]);
    out.assert_fails_with(255, "cannot exec in a stopped container");
    assert!(!pid_file.exists(), "a failed exec must not write the pid file");

    let b = ctx.bundle(&["sleep", "1000"]);
    ctx.running(&b, "c38m");
    for detach in [false, true] {
        let pid_file = ctx.scratch("missing.pid");
        let mut args = vec!["exec", "--pid-file", s(&pid_file)];
        if detach {
            args.push("--detach");
        }
        args.extend(["c38m", "nosuch-binary"]);
        let out = ctx.run(&args);
        out.assert_fails_with(255, "executable file not found");
        assert!(
            out.stderr.contains("nosuch-binary"),
            "the message must name the program:\n{}",
            out.describe()
        );
        assert!(
            !pid_file.exists(),
            "a failed exec (detach={detach}) must not write the pid file"
        );
    }
    assert_eq!(
        ctx.status("c38m"),
        "running",
        "a failed exec must not disturb the container"
    );
}

#[test]
fn c39_exec_paused_and_unknown_id() {
    let Some(ctx) = TestCtx::new("c39") else { return };
    ctx.run(&["exec", "c39-nosuch", "true"]).assert_exit(255);
    let b = ctx.bundle(&["sleep", "1000"]);
    ctx.running(&b, "c39");
    ctx.run(&["pause", "c39"]).assert_ok();
    let pid_file = ctx.scratch("paused.pid");
    // Not --ignore-paused: runc 1.1.5 would hang exec'ing into a frozen cgroup.
    let out = ctx.run(&["exec", "--pid-file", s(&pid_file), "c39", "true"]);
    out.assert_fails_with(255, "cannot exec in a paused container");
    assert!(!pid_file.exists(), "a refused exec must not write the pid file");
    ctx.run(&["resume", "c39"]).assert_ok();
    ctx.run(&["exec", "c39", "true"]).assert_ok();
}

#[test]
fn c40_pause_resume() {
    let Some(ctx) = TestCtx::new("c40") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    let init = ctx.running(&b, "c40");
    let freezer = Path::new("/sys/fs/cgroup/freezer")
        .join(b.cgroups_path().trim_start_matches('/'))
        .join("freezer.state");
    let freezer_state = || fs::read_to_string(&freezer).map(|t| t.trim().to_string()).ok();
    let has_freezer = freezer_state().is_some();
    if !has_freezer {
        conformance::announce(&format!(
            "NOTE: c40: {} does not exist (no v1 freezer); checking `state` only",
            freezer.display()
        ));
    }

    ctx.run(&["pause", "c40"]).assert_ok();
    let st = ctx.state("c40");
    assert_eq!(st["status"], "paused", "{st:#}");
    assert_eq!(st["pid"].as_i64(), Some(i64::from(init.pid)), "{st:#}");
    if has_freezer {
        assert_eq!(freezer_state().as_deref(), Some("FROZEN"), "{}", freezer.display());
    }
    ctx.run(&["pause", "c40"]).assert_fails_with(1, "not running");
    assert_eq!(ctx.status("c40"), "paused");

    ctx.run(&["resume", "c40"]).assert_ok();
    assert_eq!(ctx.status("c40"), "running");
    if has_freezer {
        assert_eq!(freezer_state().as_deref(), Some("THAWED"), "{}", freezer.display());
    }
    assert!(init.is_alive(), "the init died across pause/resume");
    ctx.run(&["resume", "c40"]).assert_fails_with(1, "container not paused");
    assert_eq!(ctx.status("c40"), "running");
}

#[test]
fn c42_ps_json_running_and_stopped() {
    let Some(ctx) = TestCtx::new("c42") else { return };
    let b = ctx.bundle(&["sleep", "1000"]);
    let init = ctx.running(&b, "c42");
    let ps = ctx.run(&["ps", "--format", "json", "c42"]);
    ps.assert_ok();
    assert!(
        ps.stdout.ends_with('\n'),
        "ps output must end with a newline:\n{}",
        ps.describe()
    );
    assert_eq!(
        ps.json(),
        json!([init.pid]),
        "ps of a single-process container:\n{}",
        ps.describe()
    );

    ctx.run(&["kill", "c42", "KILL"]).assert_ok();
    ctx.wait_status("c42", "stopped", T10);
    let ps = ctx.run(&["ps", "--format", "json", "c42"]);
    ps.assert_ok();
    let v = ps.json();
    assert!(
        v.is_null() || v.as_array().is_some_and(|a| a.is_empty()),
        "ps of a stopped container must print [] (or null):\n{}",
        ps.describe()
    );
}
