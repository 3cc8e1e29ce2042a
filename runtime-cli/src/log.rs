//! The `--log` / `--log-format` contract: every failure appends exactly one error entry to
//! the log destination, and, when the destination is a file, the bare message also goes to
//! stderr (containerd reads the file's last error line; go-runc and conmon read stderr).

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug)]
pub struct Logger {
    file: Option<File>,
    format: Format,
    pub debug: bool,
}

impl Logger {
    pub fn new(path: Option<&Path>, format: Format, debug: bool) -> std::io::Result<Self> {
        let file = match path {
            Some(p) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o644)
                    .custom_flags(libc::O_SYNC | libc::O_CLOEXEC)
                    .open(p)?,
            ),
            None => None,
        };
        Ok(Logger { file, format, debug })
    }

    /// A logger for errors that happen before the flags are known.
    pub fn stderr() -> Self {
        Logger {
            file: None,
            format: Format::Text,
            debug: false,
        }
    }

    fn line(&self, level: &str, msg: &str) -> String {
        let time = runtime_core::state::now_rfc3339();
        match self.format {
            Format::Json => {
                let mut s = serde_json::json!({"level": level, "msg": msg, "time": time}).to_string();
                s.push('\n');
                s
            }
            Format::Text => format!("time={time:?} level={level} msg={msg:?}\n"),
        }
    }

    pub fn log(&mut self, level: &str, msg: &str) {
        if level == "debug" && !self.debug {
            return;
        }
        let line = self.line(level, msg);
        match &mut self.file {
            Some(f) => {
                let _ = f.write_all(line.as_bytes());
            }
            None => {
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
        }
    }

    /// Report the error of a failed command.
    pub fn error(&mut self, msg: &str) {
        self.log("error", msg);
        if self.file.is_some() {
            eprintln!("{msg}");
        }
    }
}
