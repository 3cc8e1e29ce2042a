//! Signal names and numbers as `kill` accepts them: a decimal number, or a name with or
//! without the `SIG` prefix, in any case.

use crate::error::Error;

const NAMES: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("IOT", libc::SIGIOT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("STKFLT", libc::SIGSTKFLT),
    ("CHLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("POLL", libc::SIGPOLL),
    ("PWR", libc::SIGPWR),
    ("SYS", libc::SIGSYS),
];

/// Parse a signal as `kill` takes it. Real-time signals are accepted as numbers and as
/// `RTMIN+n` / `RTMAX-n`.
pub fn parse(s: &str) -> Result<i32, Error> {
    let bad = || Error::InvalidArgument(format!("unknown signal {s:?}"));
    if let Ok(n) = s.parse::<i32>() {
        return if (1..=libc::SIGRTMAX()).contains(&n) {
            Ok(n)
        } else {
            Err(bad())
        };
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(&(_, n)) = NAMES.iter().find(|(nm, _)| *nm == name) {
        return Ok(n);
    }
    let rt = |base: i32, rest: &str, sign: i32| -> Result<i32, Error> {
        let off: i32 = if rest.is_empty() {
            0
        } else {
            rest.parse().map_err(|_| bad())?
        };
        let n = base + sign * off;
        if (libc::SIGRTMIN()..=libc::SIGRTMAX()).contains(&n) {
            Ok(n)
        } else {
            Err(bad())
        }
    };
    if let Some(rest) = name.strip_prefix("RTMIN") {
        return rt(libc::SIGRTMIN(), rest.strip_prefix('+').unwrap_or(rest), 1);
    }
    if let Some(rest) = name.strip_prefix("RTMAX") {
        return rt(libc::SIGRTMAX(), rest.strip_prefix('-').unwrap_or(rest), -1);
    }
    Err(bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        for s in ["15", "TERM", "term", "SIGTERM", "sigterm"] {
            assert_eq!(parse(s).unwrap(), libc::SIGTERM, "{s}");
        }
        assert_eq!(parse("KILL").unwrap(), 9);
        assert_eq!(parse("RTMIN+1").unwrap(), libc::SIGRTMIN() + 1);
        assert_eq!(parse("SIGRTMAX").unwrap(), libc::SIGRTMAX());
    }

    #[test]
    fn rejects_bad_signals() {
        for s in ["NOPE", "0", "-1", "65", "", "SIG", "RTMIN+99", "9x"] {
            let e = parse(s).unwrap_err();
            assert!(e.to_string().contains("unknown signal"), "{s}: {e}");
        }
    }
}
