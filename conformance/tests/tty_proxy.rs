//! A foreground `run -t`-style session and `exec -t` without `--console-socket`, driven
//! through a real pty (issue 6; `cli-contract.md` §4): the runtime proxies the caller's
//! terminal: typed commands run in the container's own terminal, the window size follows
//! the caller's, the exit code comes back, and the caller's terminal modes are restored.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use conformance::{Bundle, TestCtx};
use nix::pty::{openpty, Winsize};
use nix::sys::termios::{tcgetattr, LocalFlags};
use serde_json::json;

/// A pty whose slave is the runtime's stdio, sized 37x101.
struct Pty {
    master: OwnedFd,
    slave: OwnedFd,
}

impl Pty {
    fn new() -> Pty {
        let ws = Winsize {
            ws_row: 37,
            ws_col: 101,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let p = openpty(Some(&ws), None).expect("openpty");
        Pty {
            master: p.master,
            slave: p.slave,
        }
    }

    fn stdio(&self) -> Stdio {
        Stdio::from(self.slave.try_clone().expect("dup slave"))
    }

    /// Spawns `RT --root R args...` on the pty.
    fn spawn(&self, ctx: &TestCtx, args: &[&str]) -> Child {
        let mut c = Command::new(&ctx.rt.program);
        c.arg("--root").arg(ctx.root()).args(args);
        for (k, v) in &ctx.rt.env {
            c.env(k, v);
        }
        c.stdin(self.stdio()).stdout(self.stdio()).stderr(self.stdio());
        c.spawn().expect("spawn runtime")
    }

    /// Types `input` after a moment, then reads the master until the child exits (and the
    /// output is drained) or `limit` passes. Returns (output, exit code).
    fn session(&self, mut child: Child, input: &[&str], limit: Duration) -> (String, Option<i32>) {
        let mut w = File::from(self.master.try_clone().expect("dup master"));
        let master = self.master.try_clone().expect("dup master");
        nix::fcntl::fcntl(
            master.as_fd(),
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )
        .expect("nonblock");
        let start = Instant::now();
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        let mut typed = 0;
        let mut code = None;
        loop {
            match nix::unistd::read(master.as_fd(), &mut buf) {
                Ok(n) if n > 0 => out.extend_from_slice(&buf[..n]),
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
            // Type the next line once the shell printed a prompt.
            let text = String::from_utf8_lossy(&out);
            if typed < input.len() && text.matches("# ").count() > typed {
                w.write_all(input[typed].as_bytes()).expect("type");
                typed += 1;
            }
            if code.is_none() {
                if let Some(st) = child.try_wait().expect("try_wait") {
                    code = st.code();
                }
            } else {
                // Drain for a moment after the exit.
                std::thread::sleep(Duration::from_millis(100));
                while let Ok(n) = nix::unistd::read(master.as_fd(), &mut buf) {
                    if n == 0 {
                        break;
                    }
                    out.extend_from_slice(&buf[..n]);
                }
                break;
            }
            if start.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
        }
        (String::from_utf8_lossy(&out).into_owned(), code)
    }
}

fn tty_bundle(ctx: &TestCtx, args: &[&str]) -> Bundle {
    let mut b = ctx.bundle(args);
    b.config_mut()["process"]["terminal"] = json!(true);
    b.config_mut()["process"]["env"] = json!(["PATH=/bin", "TERM=xterm", "PS1=# "]);
    b.save();
    b
}

/// `run` with `process.terminal` and no console socket, typed at through a pty.
#[test]
fn t01_foreground_run_proxies_the_terminal() {
    let Some(ctx) = TestCtx::new("t01") else { return };
    let b = tty_bundle(&ctx, &["sh"]);
    ctx.track_id("t01");
    let pty = Pty::new();
    let before = tcgetattr(pty.slave.as_fd()).expect("tcgetattr");
    let child = pty.spawn(&ctx, &["run", "--bundle", b.dir_str(), "t01"]);
    let (out, code) = pty.session(
        child,
        &["tty; stty size; echo sum-$((40+2))\r", "exit 5\r"],
        Duration::from_secs(20),
    );
    assert_eq!(code, Some(5), "exit code through the proxy; output:\n{out}");
    assert!(out.contains("sum-42"), "the typed command ran:\n{out}");
    assert!(out.contains("/dev/pts/"), "`tty` reports a terminal:\n{out}");
    assert!(out.contains("37 101"), "the window size is the caller's:\n{out}");
    let after = tcgetattr(pty.slave.as_fd()).expect("tcgetattr");
    for f in [LocalFlags::ICANON, LocalFlags::ECHO] {
        assert_eq!(
            after.local_flags.contains(f),
            before.local_flags.contains(f),
            "{f:?} restored on exit"
        );
    }
    ctx.assert_no_leftovers("t01", &b.cgroups_path(), None);
}

/// `exec -t` without a console socket into a running container, through a pty.
#[test]
fn t02_foreground_exec_tty_proxies_the_terminal() {
    let Some(ctx) = TestCtx::new("t02") else { return };
    let b = ctx.bundle(&["sleep", "60"]);
    ctx.running(&b, "t02");
    let pty = Pty::new();
    let child = pty.spawn(&ctx, &["exec", "-t", "--env", "PS1=# ", "t02", "sh"]);
    let (out, code) = pty.session(
        child,
        &["tty; echo in-exec-$((3+4))\r", "exit 6\r"],
        Duration::from_secs(20),
    );
    assert_eq!(code, Some(6), "exit code through the proxy; output:\n{out}");
    assert!(out.contains("in-exec-7"), "{out}");
    assert!(out.contains("/dev/pts/"), "{out}");
    ctx.run(&["delete", "--force", "t02"]).assert_ok();
    ctx.assert_no_leftovers("t02", &b.cgroups_path(), None);
}
