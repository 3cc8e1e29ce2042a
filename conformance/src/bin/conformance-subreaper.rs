//! `conformance-subreaper STATUS_FILE PROGRAM [ARG...]`
//!
//! Test helper: marks itself a child subreaper (PR_SET_CHILD_SUBREAPER, as containerd's shim
//! and conmon do), runs PROGRAM with stdin = /dev/null and this process's stdout/stderr, writes
//! `code N` / `signal N` to STATUS_FILE (atomically) when PROGRAM exits, and then stays alive
//! until its own stdin reaches EOF, so the test can inspect which processes were reparented to
//! it. Before exiting it reaps zombie children; live ones are reparented further up.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

fn main() {
    let mut args = std::env::args_os().skip(1);
    let (Some(status_file), Some(program)) = (args.next(), args.next()) else {
        eprintln!("usage: conformance-subreaper STATUS_FILE PROGRAM [ARG...]");
        std::process::exit(2);
    };
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        eprintln!("conformance-subreaper: PR_SET_CHILD_SUBREAPER: {e}");
        std::process::exit(70);
    }
    let text = match Command::new(&program).args(args).stdin(Stdio::null()).status() {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(c), _) => format!("code {c}\n"),
            (None, Some(sig)) => format!("signal {sig}\n"),
            _ => "unknown\n".to_string(),
        },
        Err(e) => format!("spawn-error {e}\n"),
    };
    let status_file = std::path::PathBuf::from(status_file);
    let tmp = status_file.with_extension("tmp");
    if std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &status_file))
        .is_err()
    {
        std::process::exit(71);
    }
    let mut stdin = std::io::stdin();
    let mut buf = [0u8; 64];
    while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
    while let Ok(st) = waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
        if st == WaitStatus::StillAlive {
            break;
        }
    }
}
