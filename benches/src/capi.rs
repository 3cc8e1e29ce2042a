//! The C API subject: `capi-lifecycle` (benches/capi_lifecycle.c linked with libruntime)
//! runs create + start + wait + delete through the C API in its own process, one iteration
//! per line the harness writes to it, so that it alternates with the CLI runtimes.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use crate::lab::Result;
use crate::proc::Reaper;

/// One iteration as `capi-lifecycle` measured it.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub wall: Duration,
    pub cpu: Duration,
    /// create, start, wait (init exits), delete.
    pub phases: [Duration; 4],
}

#[derive(Debug)]
pub struct Capi {
    pid: i32,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    err_log: PathBuf,
}

impl Capi {
    /// Start `bin STATE_ROOT BUNDLE ID` (stderr to `err_log`).
    pub fn spawn(bin: &Path, root: &Path, bundle: &Path, id: &str, err_log: PathBuf) -> Result<Capi> {
        let err = std::fs::File::create(&err_log).map_err(|e| format!("creating {}: {e}", err_log.display()))?;
        let mut child = Command::new(bin)
            .arg(root)
            .arg(bundle)
            .arg(id)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .map_err(|e| format!("spawning {}: {e}", bin.display()))?;
        Ok(Capi {
            pid: child.id() as i32,
            stdin: child.stdin.take(),
            stdout: BufReader::new(child.stdout.take().expect("piped")),
            err_log,
        })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    fn failure(&self, what: &str) -> String {
        let log = std::fs::read_to_string(&self.err_log).unwrap_or_default();
        format!("C API (capi-lifecycle): {what}: {}", log.trim())
    }

    /// One create + start + wait + delete.
    pub fn iterate(&mut self) -> Result<Sample> {
        let stdin = self.stdin.as_mut().ok_or("C API: already finished")?;
        if stdin.write_all(b"go\n").and_then(|()| stdin.flush()).is_err() {
            return Err(self.failure("it exited"));
        }
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) | Err(_) => return Err(self.failure("it exited")),
            Ok(_) => {}
        }
        parse(&line).ok_or_else(|| self.failure(&format!("bad answer {line:?}")))
    }

    /// Close its stdin and wait for it to exit 0.
    pub fn finish(mut self, reaper: &mut Reaper) -> Result<()> {
        drop(self.stdin.take());
        match reaper.wait(self.pid)? {
            0 => Ok(()),
            c => Err(self.failure(&format!("exit status {c}"))),
        }
    }
}

/// `ok WALL CPU CREATE START WAIT DELETE` (nanoseconds).
fn parse(line: &str) -> Option<Sample> {
    let mut it = line.split_whitespace();
    if it.next()? != "ok" {
        return None;
    }
    let v: Vec<u64> = it.map(|s| s.parse().ok()).collect::<Option<_>>()?;
    let [wall, cpu, c, s, w, d] = v.as_slice() else {
        return None;
    };
    let ns = |x: &u64| Duration::from_nanos(*x);
    Some(Sample {
        wall: ns(wall),
        cpu: ns(cpu),
        phases: [ns(c), ns(s), ns(w), ns(d)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_answers() {
        let s = parse("ok 30000000 12000000 20000000 5000000 1000000 4000000\n").expect("parses");
        assert_eq!(s.wall, Duration::from_millis(30));
        assert_eq!(s.cpu, Duration::from_millis(12));
        assert_eq!(s.phases[3], Duration::from_millis(4));
        assert!(parse("ok 1 2 3\n").is_none());
        assert!(parse("error 1 2 3 4 5 6\n").is_none());
        assert!(parse("ok 1 2 3 4 5 x\n").is_none());
    }
}
