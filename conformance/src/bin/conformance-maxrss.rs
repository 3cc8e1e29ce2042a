//! Helper for the resource-bound tests: `conformance-maxrss OUT CMD [ARG...]` runs CMD (its
//! stdio inherited), waits for it, and writes `<exit code> <peak RSS in KiB>` to OUT. The
//! peak comes from getrusage(RUSAGE_CHILDREN) of this fresh process, whose only child is CMD.

use std::process::{Command, ExitCode};

use nix::sys::resource::{getrusage, UsageWho};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: conformance-maxrss OUT CMD [ARG...]");
        return ExitCode::from(2);
    }
    let status = match Command::new(&args[2]).args(&args[3..]).status() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("conformance-maxrss: cannot run {}: {e}", args[2]);
            return ExitCode::from(2);
        }
    };
    let maxrss = getrusage(UsageWho::RUSAGE_CHILDREN).map(|u| u.max_rss()).unwrap_or(-1);
    let code = status.code().unwrap_or(-1);
    if let Err(e) = std::fs::write(&args[1], format!("{code} {maxrss}")) {
        eprintln!("conformance-maxrss: writing {}: {e}", args[1]);
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}
