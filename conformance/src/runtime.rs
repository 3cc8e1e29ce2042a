//! Which runtime binary the tests drive.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{find_in_path, is_executable, require_binary, skip_missing};

/// The family of the runtime under test (decides product name and known quirks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// This project's runtime.
    RuntimeCli,
    /// runc (the reference).
    Runc,
    /// crun, driven through `scripts/crun-wrap.sh`.
    Crun,
    /// Any other binary given by absolute path.
    Other,
}

/// A runtime binary and how to invoke it.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// Family.
    pub kind: RuntimeKind,
    /// Product name as printed by `--version` (`runtime-cli`, `runc`, `crun`, or the file name).
    pub name: String,
    /// What is executed (the binary itself, or a wrapper script).
    pub program: PathBuf,
    /// The real runtime binary (differs from `program` for crun).
    pub binary: PathBuf,
    /// Extra environment for every invocation.
    pub env: Vec<(String, String)>,
}

/// The workspace directory (parent of this crate's manifest directory).
pub fn workspace_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// This crate's directory (`<workspace>/conformance`).
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

impl Runtime {
    /// The runtime chosen by `RUNTIME`: `runtime-cli` (default), `runc`, `crun`, or an
    /// absolute path. Returns `None` (after printing `SKIP:`) when a peer runtime is not
    /// installed and `CI` is not set; panics on a bad value or a missing runtime-cli binary.
    pub fn from_env() -> Option<Runtime> {
        let sel = std::env::var("RUNTIME").unwrap_or_default();
        match sel.as_str() {
            "" | "runtime-cli" => Some(Runtime::runtime_cli()),
            "runc" => Runtime::runc(),
            "crun" => Runtime::crun(),
            p if p.starts_with('/') => Some(Runtime::from_path(Path::new(p))),
            other => panic!("RUNTIME={other:?}: expected `runtime-cli`, `runc`, `crun` or an absolute path"),
        }
    }

    /// This project's binary: `$RUNTIME_CLI_BIN`, else `<workspace>/target/release/runtime-cli`
    /// if it exists, else `<workspace>/target/debug/runtime-cli`. A missing binary is a test
    /// failure (it is the thing under test), never a skip.
    pub fn runtime_cli() -> Runtime {
        let ws = workspace_dir();
        let bin = match std::env::var_os("RUNTIME_CLI_BIN") {
            Some(b) if !b.is_empty() => absolute(Path::new(&b)),
            _ => {
                let release = ws.join("target/release/runtime-cli");
                if release.exists() {
                    release
                } else {
                    ws.join("target/debug/runtime-cli")
                }
            }
        };
        if !is_executable(&bin) {
            panic!(
                "runtime-cli binary not found or not executable: {} -- build it first \
                 (`cargo build -p runtime-cli` or `cargo build --release -p runtime-cli`), or set \
                 RUNTIME_CLI_BIN=/path/to/runtime-cli, or choose another runtime with RUNTIME=runc|crun|/abs/path",
                bin.display()
            );
        }
        Runtime {
            kind: RuntimeKind::RuntimeCli,
            name: "runtime-cli".into(),
            program: bin.clone(),
            binary: bin,
            env: vec![],
        }
    }

    /// runc from `PATH` (skip / CI failure when missing).
    pub fn runc() -> Option<Runtime> {
        let bin = require_binary("runc")?;
        let bin = bin.canonicalize().unwrap_or(bin);
        Some(Runtime {
            kind: RuntimeKind::Runc,
            name: "runc".into(),
            program: bin.clone(),
            binary: bin,
            env: vec![],
        })
    }

    /// runc if installed, without printing anything (for optional side-by-side runs).
    pub fn runc_if_installed() -> Option<Runtime> {
        find_in_path("runc").map(|bin| {
            let bin = bin.canonicalize().unwrap_or(bin);
            Runtime {
                kind: RuntimeKind::Runc,
                name: "runc".into(),
                program: bin.clone(),
                binary: bin,
                env: vec![],
            }
        })
    }

    /// crun, run through `conformance/scripts/crun-wrap.sh` (crun 1.8.1 refuses this hybrid
    /// cgroup host unless `/sys/fs/cgroup/unified` is unmounted in a private mount namespace).
    pub fn crun() -> Option<Runtime> {
        let bin = require_binary("crun")?;
        if find_in_path("unshare").is_none() {
            skip_missing("`unshare` (util-linux) is needed to run crun here");
            return None;
        }
        let wrapper = crate_dir().join("scripts/crun-wrap.sh");
        if !is_executable(&wrapper) {
            panic!("{} is missing or not executable", wrapper.display());
        }
        Some(Runtime {
            kind: RuntimeKind::Crun,
            name: "crun".into(),
            program: wrapper,
            env: vec![("CRUN".into(), bin.display().to_string())],
            binary: bin,
        })
    }

    /// Any runtime binary by absolute path.
    pub fn from_path(p: &Path) -> Runtime {
        if !is_executable(p) {
            panic!("RUNTIME={}: not an executable file", p.display());
        }
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let kind = match name.as_str() {
            "runtime-cli" => RuntimeKind::RuntimeCli,
            "runc" => RuntimeKind::Runc,
            _ => RuntimeKind::Other,
        };
        Runtime {
            kind,
            name,
            program: p.to_path_buf(),
            binary: p.to_path_buf(),
            env: vec![],
        }
    }

    /// A `Command` for the program with the runtime's environment (no arguments yet).
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}
