//! The per-test context: a fresh `--root`, a scratch directory, runtime invocations with a
//! timeout, and cleanup of everything the test created.

use std::fs::{self, File};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::Value;

use crate::bundle::Bundle;
use crate::cgroup;
use crate::procfs::{self, ProcId};
use crate::runtime::Runtime;
use crate::subreaper::Subreaper;
use crate::{announce, is_valid_container_id, require_root, wait_until, CGROUP_PREFIX, TEST_BASE};

/// Default time limit of one runtime invocation.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Tests that measure global state (the mount table) take this lock exclusively; every other
/// test holds it shared for its whole life. Only affects tests within one test binary.
static EXCLUSIVE: RwLock<()> = RwLock::new(());
static UNIQUE: AtomicU32 = AtomicU32::new(0);

#[allow(dead_code)] // the guards are held only for their Drop
enum LockGuard {
    Shared(RwLockReadGuard<'static, ()>),
    Exclusive(RwLockWriteGuard<'static, ()>),
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LockGuard::Shared(_) => "Shared",
            LockGuard::Exclusive(_) => "Exclusive",
        })
    }
}

#[derive(Debug, Default)]
struct Tracked {
    ids: Vec<String>,
    pids: Vec<ProcId>,
    cgroups: Vec<String>,
}

/// One test's world. Dropping it cleans up (see [`TestCtx::cleanup`]).
#[derive(Debug)]
pub struct TestCtx {
    /// The runtime under test.
    pub rt: Runtime,
    name: String,
    unique: String,
    base: PathBuf,
    root: PathBuf,
    work: PathBuf,
    seq: AtomicU32,
    tracked: Mutex<Tracked>,
    _lock: LockGuard,
}

/// Result of one runtime invocation.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// The full argv (program first).
    pub argv: Vec<String>,
    /// Exit code (`None` when killed by a signal or timed out).
    pub code: Option<i32>,
    /// Terminating signal, if any.
    pub signal: Option<i32>,
    /// The invocation exceeded its time limit and was SIGKILLed.
    pub timed_out: bool,
    /// Captured stdout (empty when the test supplied its own stdout).
    pub stdout: String,
    /// Captured stderr (empty when the test supplied its own stderr).
    pub stderr: String,
    /// Wall time.
    pub elapsed: Duration,
}

impl RunOutput {
    /// Exit code 0.
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// Human-readable summary for assertion messages.
    pub fn describe(&self) -> String {
        let how = if self.timed_out {
            "TIMED OUT (killed)".to_string()
        } else if let Some(s) = self.signal {
            format!("killed by signal {s}")
        } else {
            format!("exit {}", self.code.map_or("?".into(), |c| c.to_string()))
        };
        format!(
            "`{}` -> {how} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.argv.join(" "),
            self.elapsed,
            self.stdout,
            self.stderr
        )
    }

    /// Panics unless the exit code is 0.
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert!(self.ok(), "expected success:\n{}", self.describe());
        self
    }

    /// Panics unless the exit code is `code`.
    #[track_caller]
    pub fn assert_exit(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "expected exit {code}:\n{}", self.describe());
        self
    }

    /// Panics unless the exit code is `code` and stderr contains `needle`.
    #[track_caller]
    pub fn assert_fails_with(&self, code: i32, needle: &str) -> &Self {
        self.assert_exit(code);
        assert!(
            self.stderr.contains(needle),
            "expected {needle:?} on stderr:\n{}",
            self.describe()
        );
        self
    }

    /// Parses stdout as JSON (panics with context otherwise).
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim_end())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.describe()))
    }
}

/// A runtime invocation being prepared: `RT [global...] --root R args...`.
#[derive(Debug)]
pub struct Invocation<'a> {
    ctx: &'a TestCtx,
    args: Vec<String>,
    global: Vec<String>,
    with_root: bool,
    stdin: Option<Vec<u8>>,
    stdout: Option<File>,
    stderr: Option<File>,
    timeout: Duration,
    cwd: Option<PathBuf>,
}

impl Invocation<'_> {
    /// Global flags placed before `--root` (e.g. `--log F --log-format json`).
    pub fn global(mut self, flags: &[&str]) -> Self {
        self.global.extend(flags.iter().map(|s| s.to_string()));
        self
    }

    /// Do not add `--root <ctx root>` (the test passes its own root spelling).
    pub fn no_root(mut self) -> Self {
        self.with_root = false;
        self
    }

    /// Bytes for the runtime's stdin (default: `/dev/null`).
    pub fn stdin(mut self, bytes: &[u8]) -> Self {
        self.stdin = Some(bytes.to_vec());
        self
    }

    /// Use this file as the runtime's stdout (not captured then).
    pub fn stdout(mut self, f: File) -> Self {
        self.stdout = Some(f);
        self
    }

    /// Use this file as the runtime's stderr (not captured then).
    pub fn stderr(mut self, f: File) -> Self {
        self.stderr = Some(f);
        self
    }

    /// Time limit (default 30 s); on expiry the runtime process is SIGKILLed by pid.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Working directory (default: the test's scratch directory).
    pub fn cwd(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.to_path_buf());
        self
    }

    fn runtime_args(&self) -> Vec<String> {
        let mut v = self.global.clone();
        if self.with_root {
            v.push("--root".into());
            v.push(self.ctx.root_str().into());
        }
        v.extend(self.args.iter().cloned());
        v
    }

    /// Prepares stdio: capture files under the scratch dir unless the test gave its own.
    fn stdio(&mut self, n: u32) -> (Stdio, Stdio, Stdio, Option<PathBuf>, Option<PathBuf>) {
        let work = self.ctx.work.clone();
        let stdin = match &self.stdin {
            Some(bytes) => {
                let p = work.join(format!("run-{n}.stdin"));
                fs::write(&p, bytes).expect("write stdin file");
                Stdio::from(File::open(&p).expect("open stdin file"))
            }
            None => Stdio::null(),
        };
        let (out, out_path) = match self.stdout.take() {
            Some(f) => (Stdio::from(f), None),
            None => {
                let p = work.join(format!("run-{n}.stdout"));
                (Stdio::from(File::create(&p).expect("create stdout file")), Some(p))
            }
        };
        let (err, err_path) = match self.stderr.take() {
            Some(f) => (Stdio::from(f), None),
            None => {
                let p = work.join(format!("run-{n}.stderr"));
                (Stdio::from(File::create(&p).expect("create stderr file")), Some(p))
            }
        };
        (stdin, out, err, out_path, err_path)
    }

    /// Runs the runtime and waits (up to the timeout) for it to exit. Output is captured through
    /// regular files, never pipes: a container init inherits the runtime's stdio and would
    /// otherwise hold a pipe open long after the runtime exited.
    pub fn run(mut self) -> RunOutput {
        let n = self.ctx.next_seq();
        let args = self.runtime_args();
        self.ctx.before_run(&args, self.cwd.as_deref());
        let (stdin, out, err, out_path, err_path) = self.stdio(n);
        let mut cmd = self.ctx.rt.command();
        cmd.args(&args).stdin(stdin).stdout(out).stderr(err);
        cmd.current_dir(self.cwd.as_deref().unwrap_or(&self.ctx.work));
        let mut argv = vec![self.ctx.rt.program.display().to_string()];
        argv.extend(args);
        let started = Instant::now();
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {argv:?}: {e}"));
        let mut status: Option<ExitStatus> = None;
        let finished = wait_until(self.timeout, || {
            status = child.try_wait().ok().flatten();
            status.is_some()
        });
        let timed_out = !finished;
        if timed_out {
            // Kill exactly the process we started, by its pid.
            let _ = child.kill();
            status = child.wait().ok();
        }
        let elapsed = started.elapsed();
        let read =
            |p: Option<PathBuf>| p.map(|p| String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned());
        RunOutput {
            argv,
            code: if timed_out { None } else { status.and_then(|s| s.code()) },
            signal: status.and_then(|s| s.signal()),
            timed_out,
            stdout: read(out_path).unwrap_or_default(),
            stderr: read(err_path).unwrap_or_default(),
            elapsed,
        }
    }

    /// Like [`Invocation::run`], but the runtime is started by the `conformance-subreaper`
    /// helper (`helper` = [`crate::subreaper_helper!`]), a child subreaper that stays alive
    /// until the returned [`Subreaper`] is dropped, so a test can check where the processes the
    /// runtime left behind were reparented.
    pub fn run_under_subreaper(mut self, helper: &str) -> (RunOutput, Subreaper) {
        let n = self.ctx.next_seq();
        let args = self.runtime_args();
        self.ctx.before_run(&args, self.cwd.as_deref());
        let (_stdin, out, err, out_path, err_path) = self.stdio(n);
        let status_file = self.ctx.work.join(format!("run-{n}.status"));
        let mut cmd = Command::new(helper);
        cmd.arg(&status_file).arg(&self.ctx.rt.program).args(&args);
        cmd.envs(self.ctx.rt.env.iter().map(|(k, v)| (k, v)));
        cmd.stdin(Stdio::piped()).stdout(out).stderr(err);
        cmd.current_dir(self.cwd.as_deref().unwrap_or(&self.ctx.work));
        let mut argv = vec![self.ctx.rt.program.display().to_string()];
        argv.extend(args);
        let started = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {helper} for {argv:?}: {e}"));
        let hold = child.stdin.take();
        let reaper = Subreaper { child, hold };
        let finished = wait_until(self.timeout, || status_file.exists());
        let elapsed = started.elapsed();
        let text = fs::read_to_string(&status_file).unwrap_or_default();
        let mut words = text.split_whitespace();
        let (code, signal) = match (words.next(), words.next().and_then(|w| w.parse().ok())) {
            (Some("code"), Some(c)) => (Some(c), None),
            (Some("signal"), Some(s)) => (None, Some(s)),
            _ => (None, None),
        };
        let read =
            |p: Option<PathBuf>| p.map(|p| String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned());
        let out = RunOutput {
            argv,
            code,
            signal,
            timed_out: !finished,
            stdout: read(out_path).unwrap_or_default(),
            stderr: read(err_path).unwrap_or_default(),
            elapsed,
        };
        // On timeout the runtime is still a child of the helper: kill it by pid.
        if !finished {
            for p in reaper.descendants() {
                if p.ppid == reaper.pid() && p.exe().is_some_and(|e| e == self.ctx.rt.binary) {
                    if let Some(id) = ProcId::of(p.pid) {
                        id.signal(Signal::SIGKILL);
                    }
                }
            }
        }
        (out, reaper)
    }
}

/// The global-flag words of runc's command line that take a value.
const GLOBAL_VALUE_FLAGS: [&str; 5] = ["--root", "--log", "--log-format", "--criu", "--rootless"];
/// `create`/`run` flags that take a value.
const CREATE_VALUE_FLAGS: [&str; 6] = [
    "--bundle",
    "-b",
    "--console-socket",
    "--pid-file",
    "--preserve-fds",
    "--pidfd-socket",
];

impl TestCtx {
    /// A context for test `name` driving the runtime chosen by `RUNTIME`. `None` (after a
    /// printed `SKIP:`) when not root or when the chosen peer runtime is not installed; under
    /// `CI=true` those panic instead.
    pub fn new(name: &str) -> Option<TestCtx> {
        if !require_root() {
            return None;
        }
        let rt = Runtime::from_env()?;
        Some(TestCtx::with_runtime(name, rt))
    }

    /// Like [`TestCtx::new`], but no other test of this binary runs while it lives (for
    /// measurements of global state such as the mount table).
    pub fn new_exclusive(name: &str) -> Option<TestCtx> {
        if !require_root() {
            return None;
        }
        let rt = Runtime::from_env()?;
        let lock = LockGuard::Exclusive(EXCLUSIVE.write().unwrap_or_else(|e| e.into_inner()));
        Some(TestCtx::build(name, rt, lock))
    }

    /// A context driving a specific runtime (side-by-side tests). The caller checked root.
    pub fn with_runtime(name: &str, rt: Runtime) -> TestCtx {
        let lock = LockGuard::Shared(EXCLUSIVE.read().unwrap_or_else(|e| e.into_inner()));
        TestCtx::build(name, rt, lock)
    }

    fn build(name: &str, rt: Runtime, lock: LockGuard) -> TestCtx {
        let short: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(24)
            .collect::<String>();
        let unique = format!(
            "{short}-{}-{}",
            std::process::id(),
            UNIQUE.fetch_add(1, Ordering::SeqCst)
        );
        let base = Path::new(TEST_BASE).join(&unique);
        let _ = fs::remove_dir_all(&base); // a stale dir of a previous process with our pid
        for d in [&base.join("root"), &base.join("work")] {
            fs::create_dir_all(d).unwrap_or_else(|e| panic!("mkdir {}: {e}", d.display()));
        }
        for d in [Path::new(TEST_BASE), &base, &base.join("work")] {
            let _ = fs::set_permissions(d, fs::Permissions::from_mode(0o755));
        }
        // The state root is created by the test (0700, like runc's own), so `list` works at once.
        let _ = fs::set_permissions(base.join("root"), fs::Permissions::from_mode(0o700));
        TestCtx {
            rt,
            name: name.to_string(),
            root: base.join("root"),
            work: base.join("work"),
            base,
            unique,
            seq: AtomicU32::new(0),
            tracked: Mutex::new(Tracked::default()),
            _lock: lock,
        }
    }

    /// The test's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `--root` directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The `--root` directory as `&str`.
    pub fn root_str(&self) -> &str {
        self.root.to_str().expect("UTF-8 path")
    }

    /// A scratch directory (the runtime's default cwd).
    pub fn work(&self) -> &Path {
        &self.work
    }

    /// A fresh path in the scratch directory (not created).
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.work.join(format!("{}-{name}", self.next_seq()))
    }

    fn next_seq(&self) -> u32 {
        self.seq.fetch_add(1, Ordering::SeqCst)
    }

    fn tracked(&self) -> std::sync::MutexGuard<'_, Tracked> {
        self.tracked.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new bundle running `args` in its own test cgroup `/runtime-cli-test/<unique>-b<N>`.
    pub fn bundle(&self, args: &[&str]) -> Bundle {
        let n = self.next_seq();
        let cg = format!("{CGROUP_PREFIX}/{}-b{n}", self.unique);
        self.track_cgroup(&cg);
        let dir = self.base.join(format!("bundle-{n}"));
        Bundle::create(&dir, &cg, args).unwrap_or_else(|e| panic!("create bundle {}: {e}", dir.display()))
    }

    /// Starts building an invocation `RT --root R args...`.
    pub fn cmd(&self, args: &[&str]) -> Invocation<'_> {
        Invocation {
            ctx: self,
            args: args.iter().map(|s| s.to_string()).collect(),
            global: Vec::new(),
            with_root: true,
            stdin: None,
            stdout: None,
            stderr: None,
            timeout: DEFAULT_TIMEOUT,
            cwd: None,
        }
    }

    /// Runs `RT --root R args...` and returns its output.
    pub fn run(&self, args: &[&str]) -> RunOutput {
        self.cmd(args).run()
    }

    /// Remembers a container id for cleanup (`delete --force`).
    pub fn track_id(&self, id: &str) {
        let mut t = self.tracked();
        if is_valid_container_id(id) && !t.ids.iter().any(|i| i == id) {
            t.ids.push(id.to_string());
        }
    }

    /// Remembers a process (started through the runtime) to kill at cleanup if still alive.
    pub fn track_pid(&self, p: ProcId) {
        let mut t = self.tracked();
        if !t.pids.contains(&p) {
            t.pids.push(p);
        }
    }

    /// Remembers a test cgroup path to `rmdir` at cleanup.
    pub fn track_cgroup(&self, path: &str) {
        let mut t = self.tracked();
        if !t.cgroups.iter().any(|c| c == path) {
            t.cgroups.push(path.to_string());
        }
    }

    /// Safety net and bookkeeping before every invocation: for `create`/`run`, refuse a bundle
    /// whose `cgroupsPath` is not below `/runtime-cli-test/` (it could end up under
    /// `process_api`), and remember the id and cgroup for cleanup.
    fn before_run(&self, args: &[String], cwd: Option<&Path>) {
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_str();
            if GLOBAL_VALUE_FLAGS.contains(&a) {
                i += 2;
            } else if a.starts_with('-') {
                i += 1;
            } else {
                break;
            }
        }
        let Some(sub) = args.get(i) else { return };
        if sub != "create" && sub != "run" {
            return;
        }
        let mut bundle = cwd.unwrap_or(&self.work).to_path_buf();
        let mut id = None;
        let mut j = i + 1;
        while j < args.len() {
            let a = args[j].as_str();
            if a == "--bundle" || a == "-b" {
                if let Some(v) = args.get(j + 1) {
                    bundle = bundle.join(v);
                }
                j += 2;
                continue;
            }
            if let Some(v) = a.strip_prefix("--bundle=").or_else(|| a.strip_prefix("-b=")) {
                bundle = bundle.join(v);
            } else if CREATE_VALUE_FLAGS.contains(&a) {
                j += 2;
                continue;
            } else if !a.starts_with('-') {
                id = Some(a.to_string());
            }
            j += 1;
        }
        let config = bundle.join("config.json");
        if let Ok(text) = fs::read_to_string(&config) {
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                let cg = v["linux"]["cgroupsPath"].as_str().unwrap_or("");
                if let Err(e) = cgroup::check_test_cgroup_path(cg) {
                    panic!("refusing to run `{sub}` with {}: {e}", config.display());
                }
                self.track_cgroup(cg);
            }
        }
        if let Some(id) = id {
            self.track_id(&id);
        }
    }

    /// `create --bundle B [extra...] ID` (the bundle's config is saved first).
    pub fn create_with(&self, bundle: &Bundle, id: &str, extra: &[&str]) -> RunOutput {
        bundle.save();
        let mut args = vec!["create", "--bundle", bundle.dir_str()];
        args.extend_from_slice(extra);
        args.push(id);
        self.run(&args)
    }

    /// `create --bundle B --pid-file P ID`, asserting success; returns the init's identity
    /// (read from the pid file, which must hold only digits).
    #[track_caller]
    pub fn create_ok(&self, bundle: &Bundle, id: &str) -> ProcId {
        let pid_file = self.scratch(&format!("{id}.pid"));
        let out = self.create_with(bundle, id, &["--pid-file", pid_file.to_str().expect("UTF-8")]);
        out.assert_ok();
        let pid = read_pid_file(&pid_file);
        let p = ProcId::of(pid).unwrap_or_else(|| panic!("init pid {pid} from the pid file is not alive after create"));
        self.track_pid(p);
        p
    }

    /// `start ID`, asserting success.
    #[track_caller]
    pub fn start_ok(&self, id: &str) {
        self.run(&["start", id]).assert_ok();
    }

    /// create + start, asserting success; returns the init.
    #[track_caller]
    pub fn running(&self, bundle: &Bundle, id: &str) -> ProcId {
        let p = self.create_ok(bundle, id);
        self.start_ok(id);
        p
    }

    /// `state ID`, asserting success, parsed.
    #[track_caller]
    pub fn state(&self, id: &str) -> Value {
        let out = self.run(&["state", id]);
        out.assert_ok();
        out.json()
    }

    /// The `status` field of `state ID`.
    #[track_caller]
    pub fn status(&self, id: &str) -> String {
        let s = self.state(id);
        s["status"]
            .as_str()
            .unwrap_or_else(|| panic!("state has no string `status`: {s}"))
            .to_string()
    }

    /// Polls `state ID` until `status` is `want` (panics after `timeout`); returns the state.
    #[track_caller]
    pub fn wait_status(&self, id: &str, want: &str, timeout: Duration) -> Value {
        let mut last = Value::Null;
        let ok = wait_until(timeout, || {
            last = self.state(id);
            last["status"] == want
        });
        assert!(
            ok,
            "container {id} did not become {want:?} within {timeout:?}; last state: {last}"
        );
        last
    }

    /// `pause ID`: `true` on success; when the runtime answers that `pause` is not supported
    /// (stderr mentions "not supported", "not implemented", "unknown" or "unrecognized"), prints
    /// `SKIP:` with the reason and returns `false`; any other failure panics.
    #[track_caller]
    pub fn pause_or_skip(&self, id: &str) -> bool {
        let out = self.run(&["pause", id]);
        if out.ok() {
            return true;
        }
        let e = out.stderr.to_lowercase();
        if ["not supported", "not implemented", "unknown", "unrecognized"]
            .iter()
            .any(|w| e.contains(w))
        {
            crate::skip_unsupported(&format!(
                "{}: `pause` is not supported by {} yet ({})",
                self.name,
                self.rt.name,
                out.stderr.trim()
            ));
            return false;
        }
        panic!("pause failed:\n{}", out.describe());
    }

    /// `<root>/<id>`.
    pub fn state_dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// Everything that should be gone after a container was deleted (or a create failed):
    /// its state directory, its cgroup in any hierarchy, any process in that cgroup, and the
    /// init process. Returns human-readable findings (empty = clean).
    pub fn leftovers(&self, id: &str, cgroups_path: &str, init: Option<ProcId>) -> Vec<String> {
        let mut found = Vec::new();
        if !id.is_empty() && self.state_dir(id).exists() {
            found.push(format!("state directory {} still exists", self.state_dir(id).display()));
        }
        for d in cgroup::existing_dirs(cgroups_path) {
            found.push(format!("cgroup directory {} still exists", d.display()));
        }
        let procs = procfs::processes_in_cgroup(cgroups_path);
        if !procs.is_empty() {
            found.push(format!("processes still in cgroup {cgroups_path}: {procs:?}"));
        }
        if let Some(p) = init {
            if let Some(s) = p.stat().filter(|s| !s.is_dead()) {
                found.push(format!("init process still alive: {s:?}"));
            }
        }
        found
    }

    /// Panics if [`TestCtx::leftovers`] finds anything (waits up to 2 s for the init to be
    /// gone, since a killed process needs a moment to die).
    #[track_caller]
    pub fn assert_no_leftovers(&self, id: &str, cgroups_path: &str, init: Option<ProcId>) {
        let mut found = Vec::new();
        wait_until(Duration::from_secs(2), || {
            found = self.leftovers(id, cgroups_path, init);
            found.is_empty()
        });
        assert!(
            found.is_empty(),
            "leftovers of container {id:?}:\n  {}",
            found.join("\n  ")
        );
    }

    /// Removes everything this test created: `delete --force` of each container id, SIGKILL of
    /// recorded init pids still alive (same start time), `rmdir` of the test cgroups (after
    /// killing what is left inside them), unmounting anything mounted below the test directory
    /// in this mount namespace, and removal of the test directory without crossing filesystems.
    /// Returns what could not be cleaned. Never panics.
    pub fn cleanup(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let (ids, cgroups) = {
            let t = self.tracked();
            (t.ids.clone(), t.cgroups.clone())
        };
        for id in &ids {
            if !self.state_dir(id).exists() {
                continue;
            }
            let st = self.cmd(&["state", id]).timeout(Duration::from_secs(10)).run();
            if let Ok(v) = serde_json::from_str::<Value>(st.stdout.trim()) {
                if let Some(p) = v["pid"]
                    .as_i64()
                    .and_then(|p| i32::try_from(p).ok())
                    .and_then(ProcId::of)
                {
                    self.track_pid(p);
                }
            }
            let out = self
                .cmd(&["delete", "--force", id])
                .timeout(Duration::from_secs(15))
                .run();
            if !out.ok() {
                problems.push(format!("cleanup: delete --force {id} failed: {}", out.describe()));
            }
        }
        let pids = self.tracked().pids.clone();
        for p in &pids {
            p.signal(Signal::SIGKILL);
        }
        for cg in &cgroups {
            problems.extend(cgroup::remove_test_cgroup(cg));
        }
        for p in &pids {
            if !wait_until(Duration::from_secs(2), || !p.is_alive()) {
                problems.push(format!("cleanup: process {p:?} survived SIGKILL"));
            }
        }
        // Mounts a runtime leaked into this namespace below our directory would make a
        // recursive removal walk into them: detach them first, deepest first.
        let mut mounts = procfs::mount_points_below(&self.base);
        mounts.sort_by_key(|m| std::cmp::Reverse(m.as_os_str().len()));
        for m in mounts {
            problems.push(format!("cleanup: a mount was left below the test dir: {}", m.display()));
            let _ = nix::mount::umount2(&m, nix::mount::MntFlags::MNT_DETACH);
        }
        if self.base.starts_with(TEST_BASE) && self.base != Path::new(TEST_BASE) {
            let rm = Command::new("rm")
                .args(["-rf", "--one-file-system", "--"])
                .arg(&self.base)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if !rm.is_ok_and(|s| s.success()) || self.base.exists() {
                problems.push(format!("cleanup: could not remove {}", self.base.display()));
            }
        }
        problems
    }
}

impl Drop for TestCtx {
    fn drop(&mut self) {
        let problems = self.cleanup();
        if !problems.is_empty() {
            announce(&format!(
                "[{}] cleanup problems:\n  {}",
                self.name,
                problems.join("\n  ")
            ));
        }
    }
}

/// Reads a pid file, asserting it holds only ASCII digits (no newline, no spaces).
#[track_caller]
pub fn read_pid_file(path: &Path) -> i32 {
    let raw = fs::read(path).unwrap_or_else(|e| panic!("pid file {}: {e}", path.display()));
    assert!(
        !raw.is_empty() && raw.iter().all(u8::is_ascii_digit),
        "pid file {} must hold only ASCII digits, got {:?}",
        path.display(),
        String::from_utf8_lossy(&raw)
    );
    String::from_utf8_lossy(&raw)
        .parse()
        .unwrap_or_else(|e| panic!("pid file {}: {e}", path.display()))
}
