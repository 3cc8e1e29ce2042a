//! The one public error type. Every variant carries the context that failed (the id, the
//! file, the field, the path); `Display` prints a single line in runc's wording where clients
//! match substrings (see the CLI contract), and [`Error::kind`] maps it to an exit or error
//! code for the binaries.

use std::path::PathBuf;

use nix::errno::Errno;

/// What kind of failure an [`Error`] is: the CLI and C API map this to exit and error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No container with that id.
    NotFound,
    /// A container with that id exists already.
    AlreadyExists,
    /// The request or the bundle is malformed (bad id, bad config, bad signal...).
    InvalidArgument,
    /// The container is in the wrong state for the operation.
    InvalidState,
    /// The feature asked for is not supported by this runtime or host.
    NotSupported,
    /// A system call or file operation failed.
    System,
}

/// The error type of every fallible call in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("invalid container ID format: {0:?}")]
    InvalidId(String),
    #[error("container does not exist")]
    NotExist(String),
    #[error("container with given ID already exists: {0}")]
    AlreadyExists(String),
    /// The container is in a state where the operation is not allowed; `msg` is runc's text.
    #[error("{msg}")]
    WrongState { id: String, msg: String },
    /// `config.json` (or another input document) is invalid; `field` is the JSON path.
    #[error("{file}: {field}: {msg}")]
    Config { file: PathBuf, field: String, msg: String },
    /// A command-line style argument is invalid (signal name, terminal flags...).
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}: not supported")]
    NotSupported(String),
    /// An I/O operation on a path failed.
    #[error("{context} {path}: {}", errno_text_io(.source))]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A system call failed.
    #[error("{context}: {}", errno_text(*.errno))]
    Sys { context: String, errno: Errno },
    /// The container's init reported a failure during setup.
    #[error("{stage}: {detail}{}", errno_suffix(*.errno))]
    Init {
        stage: &'static str,
        detail: String,
        errno: i32,
    },
    /// The container's init died before reporting.
    #[error("container init exited before it was ready: {0}")]
    InitDied(String),
    /// A state file could not be read or written.
    #[error("state of container {id}: {msg}")]
    State { id: String, msg: String },
    /// A hook failed.
    #[error("error running {kind} hook #{index}: {msg}")]
    Hook {
        kind: &'static str,
        index: usize,
        msg: String,
    },
}

impl Error {
    /// The kind of this error, for exit and error codes.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotExist(_) => ErrorKind::NotFound,
            Error::AlreadyExists(_) => ErrorKind::AlreadyExists,
            Error::InvalidId(_) | Error::Config { .. } | Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::WrongState { .. } => ErrorKind::InvalidState,
            Error::NotSupported(_) => ErrorKind::NotSupported,
            _ => ErrorKind::System,
        }
    }

    pub(crate) fn sys(context: impl Into<String>, errno: Errno) -> Self {
        Error::Sys {
            context: context.into(),
            errno,
        }
    }

    pub(crate) fn io(context: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            context,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn config(file: impl Into<PathBuf>, field: impl Into<String>, msg: impl Into<String>) -> Self {
        Error::Config {
            file: file.into(),
            field: field.into(),
            msg: msg.into(),
        }
    }

    pub(crate) fn wrong_state(id: &str, msg: impl Into<String>) -> Self {
        Error::WrongState {
            id: id.to_string(),
            msg: msg.into(),
        }
    }
}

/// `strerror` text in Go's spelling: lower case, no "(os error N)" suffix, because clients
/// (podman, dockerd) match substrings such as `no such file or directory`.
pub fn errno_text(errno: Errno) -> String {
    let desc = errno.desc();
    let mut s = String::with_capacity(desc.len());
    let mut chars = desc.chars();
    if let Some(first) = chars.next() {
        s.extend(first.to_lowercase());
        s.push_str(chars.as_str());
    }
    s
}

fn errno_text_io(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => errno_text(Errno::from_raw(n)),
        None => e.to_string(),
    }
}

fn errno_suffix(errno: i32) -> String {
    if errno == 0 {
        String::new()
    } else {
        format!(": {}", errno_text(Errno::from_raw(errno)))
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_text_is_go_style() {
        assert_eq!(errno_text(Errno::ENOENT), "no such file or directory");
        assert_eq!(errno_text(Errno::EACCES), "permission denied");
    }

    #[test]
    fn messages_keep_client_substrings() {
        assert!(Error::NotExist("x".into())
            .to_string()
            .contains("container does not exist"));
        assert!(Error::AlreadyExists("x".into()).to_string().contains("already exists"));
        let e = Error::Init {
            stage: "exec",
            detail: "exec: \"nope\": executable file not found in $PATH".into(),
            errno: 0,
        };
        assert!(e.to_string().contains("executable file not found in $PATH"));
        assert_eq!(e.kind(), ErrorKind::System);
    }
}
