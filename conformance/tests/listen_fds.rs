//! Socket activation (issue 6; runc's `LISTEN_FDS` handling): when the runtime is started
//! with `LISTEN_FDS=n` and `LISTEN_PID` naming itself, fds 3..3+n go into the container
//! before the `--preserve-fds` ones, and the process gets `LISTEN_FDS=n` and `LISTEN_PID=1`.

use std::fs;
use std::process::Command;

use conformance::TestCtx;

#[test]
fn p01_listen_fds_then_preserved_fds() {
    let Some(ctx) = TestCtx::new("p01") else { return };
    let b = ctx.bundle(&[
        "sh",
        "-c",
        "echo \"$LISTEN_FDS $LISTEN_PID\"; cat <&3; cat <&4; ls /proc/self/fd",
    ]);
    b.save();
    ctx.track_id("p01");
    let (f3, f4) = (ctx.scratch("activated"), ctx.scratch("preserved"));
    fs::write(&f3, "activated-content\n").unwrap();
    fs::write(&f4, "preserved-content\n").unwrap();
    // `exec` keeps the shell's pid, so LISTEN_PID=$$ names the runtime.
    let script = format!(
        "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" --root {} run --preserve-fds 1 --bundle {} p01 3<{} 4<{} </dev/null",
        ctx.root_str(),
        b.dir_str(),
        f3.display(),
        f4.display()
    );
    let mut c = Command::new("/bin/sh");
    c.args(["-c", &script]).arg(&ctx.rt.program);
    for (k, v) in &ctx.rt.env {
        c.env(k, v);
    }
    let out = c.output().expect("run the runtime");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some("1 1"),
        "LISTEN_FDS and LISTEN_PID:\n{stdout}"
    );
    assert_eq!(lines.get(1).copied(), Some("activated-content"), "{stdout}");
    assert_eq!(lines.get(2).copied(), Some("preserved-content"), "{stdout}");
    // 0-2, the two passed fds, and ls's own directory fd: nothing else leaks in.
    let fds: Vec<&str> = lines[3..].to_vec();
    assert!(
        fds.len() <= 6 && fds.starts_with(&["0", "1", "2", "3", "4"]),
        "open fds: {fds:?}"
    );
    ctx.assert_no_leftovers("p01", &b.cgroups_path(), None);
}
