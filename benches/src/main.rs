//! The benchmark harness: runtime-cli against runc and crun on the same busybox bundle, with
//! the same absolute cgroup placement, in one private mount namespace, alternating the
//! runtimes run by run so that the ratios of one run are fair on a busy machine.
//!
//! ```sh
//! benches/run.sh [--n 50] [--json out.json]     # installs runc/crun/busybox, builds, runs
//! target/release/benches --help
//! ```
#![deny(unsafe_code)]

mod capi;
mod lab;
mod proc;
mod report;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use lab::{Lab, Result};
use proc::Reaper;
use report::{Metric, CAPI, CLI, CRUN, FLOOR, LIBRARY, RUNC};

const USAGE: &str = "usage: benches [--n N] [--json FILE] [--many N] [--scale L1,L2,...] [--smoke]
                 [--only LIST] [--runtime-cli PATH] [--crun PATH] [--runc PATH] [--capi PATH]
                 [--also NAME=PATH]...
  --n N          iterations of each timed measurement per runtime (default 50)
  --json FILE    also write the results (medians, ratios, every sample) as JSON
  --many N       containers in each state root for `state` and `list` (default 1000)
  --scale LIST   numbers of running containers at which `create` is timed (default 0,100,500)
  --smoke        a tiny run: --n 1 --many 4 --scale 0,2
  --only LIST    measure only these, comma-separated: size,run,lifecycle,exec,rss,scale
                 (scale includes state and list); default all
  --runtime-cli  the binary under test (default: runtime-cli beside this binary)
  --capi PATH    benches/capi_lifecycle.c built against libruntime, for the C API row of the
                 lifecycle (default: capi-lifecycle beside this binary; benches/run.sh builds it)
  --also N=PATH  one more runc-compatible binary, alternated with the others and shown in its
                 own column (e.g. a build of runtime-cli before a change, for a before/after)
Needs root. Everything it makes (containers, state, cgroups under /runtime-cli-test/bench-PID,
files under /run/runtime-cli-bench) is removed at the end.";

#[derive(Debug)]
struct Opts {
    n: usize,
    json: Option<PathBuf>,
    many: usize,
    scale: Vec<usize>,
    cli: PathBuf,
    crun: PathBuf,
    runc: PathBuf,
    capi: PathBuf,
    also: Vec<(String, PathBuf)>,
    only: Vec<String>,
}

const PARTS: [&str; 6] = ["size", "run", "lifecycle", "exec", "rss", "scale"];

impl Opts {
    fn wants(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == part)
    }
}

fn parse_opts(args: &[String]) -> Result<Opts> {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let mut o = Opts {
        n: 50,
        json: None,
        many: 1000,
        scale: vec![0, 100, 500],
        cli: exe_dir.join("runtime-cli"),
        crun: which("crun"),
        runc: which("runc"),
        capi: exe_dir.join("capi-lifecycle"),
        also: Vec::new(),
        only: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().ok_or_else(|| format!("{a} needs a value\n{USAGE}"));
        let num = |s: String| s.parse::<usize>().map_err(|_| format!("{a}: not a number: {s}"));
        match a.as_str() {
            "--n" => o.n = num(val()?)?.max(1),
            "--json" => o.json = Some(PathBuf::from(val()?)),
            "--many" => o.many = num(val()?)?.max(1),
            "--scale" => {
                o.scale = val()?
                    .split(',')
                    .map(|s| {
                        s.trim()
                            .parse::<usize>()
                            .map_err(|_| format!("--scale: not a number: {s}"))
                    })
                    .collect::<Result<_>>()?
            }
            "--smoke" => {
                o.n = 1;
                o.many = 4;
                o.scale = vec![0, 2];
            }
            "--runtime-cli" => o.cli = PathBuf::from(val()?),
            "--crun" => o.crun = PathBuf::from(val()?),
            "--runc" => o.runc = PathBuf::from(val()?),
            "--capi" => o.capi = PathBuf::from(val()?),
            "--also" => {
                let v = val()?;
                let (name, path) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--also wants NAME=PATH, got {v}"))?;
                let bad = |c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
                if name.is_empty() || name.contains(bad) || [CLI, CRUN, RUNC, "library", "capi"].contains(&name) {
                    return Err(format!("--also: bad or taken name {name:?}"));
                }
                o.also.push((name.to_string(), PathBuf::from(path)));
            }
            "--only" => {
                for part in val()?.split(',') {
                    if !PARTS.contains(&part) {
                        return Err(format!(
                            "--only: unknown part {part:?} (want some of {})",
                            PARTS.join(",")
                        ));
                    }
                    o.only.push(part.to_string());
                }
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    o.scale.sort_unstable();
    o.scale.dedup();
    for p in [&o.cli, &o.crun, &o.runc]
        .into_iter()
        .chain(o.also.iter().map(|(_, p)| p))
    {
        if !p.is_file() {
            return Err(format!(
                "{}: not found (benches/run.sh installs runc and crun and builds runtime-cli)",
                p.display()
            ));
        }
    }
    if o.wants("lifecycle") && !o.capi.is_file() {
        return Err(format!(
            "{}: not found (benches/run.sh builds it from benches/capi_lifecycle.c and libruntime; or --capi PATH)",
            o.capi.display()
        ));
    }
    o.cli = std::fs::canonicalize(&o.cli).map_err(|e| format!("{}: {e}", o.cli.display()))?;
    Ok(o)
}

fn which(name: &str) -> PathBuf {
    for d in [
        "/usr/local/sbin",
        "/usr/local/bin",
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
    ] {
        let p = Path::new(d).join(name);
        if p.is_file() {
            return p;
        }
    }
    PathBuf::from(name)
}

/// One runtime binary with its own state root.
#[derive(Debug)]
struct Rt {
    name: String,
    bin: PathBuf,
    root: PathBuf,
}

impl Rt {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--root").arg(&self.root).args(args);
        c
    }

    fn argv(&self, args: &[&str]) -> Vec<String> {
        let mut v = vec!["--root".to_string(), self.root.to_string_lossy().into_owned()];
        v.extend(args.iter().map(|s| s.to_string()));
        v
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn p(b: &Path) -> &str {
    b.to_str().expect("bench paths are UTF-8")
}

/// The order of `k` subjects in iteration `i`: rotated, so no runtime always goes first.
fn order(k: usize, i: usize) -> impl Iterator<Item = usize> {
    (0..k).map(move |j| (i + j) % k)
}

struct Bench {
    o: Opts,
    lab: Lab,
    rts: Vec<Rt>,
    reaper: Reaper,
    metrics: Vec<Metric>,
    /// Background containers per runtime (index into `rts`).
    bg: Vec<usize>,
}

impl Bench {
    fn metric(&mut self, key: &str, label: &str, unit: &'static str) -> usize {
        self.metrics.push(Metric::new(key, label, unit));
        self.metrics.len() - 1
    }

    fn warm_up(&mut self) -> Result<()> {
        for i in 0..self.rts.len() {
            let b = self.lab.bundle(&self.rts[i].name, "warm", &["/bin/true"])?;
            for _ in 0..3 {
                let c = self.rts[i].cmd(&["run", "--bundle", p(&b), "warm"]);
                self.reaper.timed(c, &format!("{} run (warm-up)", self.rts[i].name))?;
            }
        }
        Ok(())
    }

    /// `run` of /bin/true in the foreground, and the floor, alternated.
    fn run_and_floor(&mut self) -> Result<()> {
        let run = self.metric("run", "run /bin/true (foreground, to exit)", "ms");
        let run_cpu = self.metric("run_cpu", "  CPU time (user+sys) of run", "ms");
        let floor = self.metric("floor", "floor", "ms");
        let bundles: Vec<PathBuf> = (self.rts.iter())
            .map(|r| self.lab.bundle(&r.name, "run", &["/bin/true"]))
            .collect::<Result<_>>()?;
        let flags = self.lab.unshare_flags();
        let k = self.rts.len() + 1;
        for i in 0..self.o.n {
            for s in order(k, i) {
                if s == self.rts.len() {
                    let mut c = Command::new("unshare");
                    c.args(&flags).arg("chroot").arg(&self.lab.rootfs).arg("/bin/true");
                    let d = self.reaper.timed(c, "floor (unshare + chroot)")?;
                    self.metrics[floor].push(FLOOR, ms(d));
                } else {
                    let r = &self.rts[s];
                    let c = r.cmd(&["run", "--bundle", p(&bundles[s]), "run"]);
                    let (d, cpu) = self.reaper.timed_cpu(c, &format!("{} run", r.name))?;
                    self.metrics[run].push(&r.name, ms(d));
                    self.metrics[run_cpu].push(&r.name, ms(cpu));
                }
            }
        }
        Ok(())
    }

    /// create + start + wait for the init to exit + delete, per runtime, through the C API
    /// (capi-lifecycle, one iteration per request) and through the library in-process,
    /// alternated.
    fn lifecycle(&mut self) -> Result<()> {
        let total = self.metric("lifecycle", "create+start+wait+delete", "ms");
        let phases = [
            self.metric("create", "  create", "ms"),
            self.metric("start", "  start", "ms"),
            self.metric("wait", "  wait (init exits)", "ms"),
            self.metric("delete", "  delete", "ms"),
        ];
        let total_cpu = self.metric("lifecycle_cpu", "  CPU time (user+sys) of the four", "ms");
        let bundles: Vec<PathBuf> = (self.rts.iter())
            .map(|r| self.lab.bundle(&r.name, "lc", &["/bin/true"]))
            .collect::<Result<_>>()?;
        let lib_bundle = self.lab.bundle("library", "lc", &["/bin/true"])?;
        let lib = runtime_core::Runtime::new(self.lab.state_root("library")).map_err(|e| e.to_string())?;
        let capi_bundle = self.lab.bundle("capi", "lc", &["/bin/true"])?;
        let mut capi = capi::Capi::spawn(
            &self.o.capi,
            &self.lab.state_root("capi"),
            &capi_bundle,
            "lc",
            self.lab.dir.join("capi-stderr.log"),
        )?;
        self.reaper.forget(capi.pid());
        let k = self.rts.len() + 2;
        for i in 0..self.o.n {
            for s in order(k, i) {
                if s == self.rts.len() + 1 {
                    let x = capi.iterate()?;
                    self.metrics[total].push(CAPI, ms(x.wall));
                    self.metrics[total_cpu].push(CAPI, ms(x.cpu));
                    for (m, d) in phases.iter().zip(x.phases) {
                        self.metrics[*m].push(CAPI, ms(d));
                    }
                    continue;
                }
                if s == self.rts.len() {
                    let (t0, cpu0) = (Instant::now(), proc::self_cpu() + proc::children_cpu());
                    let c = lib
                        .create("lc", runtime_core::CreateOptions::new(&lib_bundle))
                        .map_err(|e| format!("library create: {e}"))?;
                    lib.start("lc").map_err(|e| format!("library start: {e}"))?;
                    lib.wait_child(c.pid).map_err(|e| format!("library wait: {e}"))?;
                    lib.delete("lc", false).map_err(|e| format!("library delete: {e}"))?;
                    self.metrics[total].push(LIBRARY, ms(t0.elapsed()));
                    let cpu = (proc::self_cpu() + proc::children_cpu()).saturating_sub(cpu0);
                    self.metrics[total_cpu].push(LIBRARY, ms(cpu));
                    continue;
                }
                let r = &self.rts[s];
                let pid_file = bundles[s].join("pid");
                let _ = std::fs::remove_file(&pid_file);
                let create = r.cmd(&["create", "--bundle", p(&bundles[s]), "--pid-file", p(&pid_file), "lc"]);
                let (dc, cc) = self.reaper.timed_cpu(create, &format!("{} create", r.name))?;
                let pid = proc::read_pid(&pid_file)?;
                self.reaper.forget(pid);
                let start = r.cmd(&["start", "lc"]);
                let (ds, cs) = self.reaper.timed_cpu(start, &format!("{} start", r.name))?;
                let t = Instant::now();
                self.reaper.wait(pid)?;
                let dw = t.elapsed();
                let delete = r.cmd(&["delete", "lc"]);
                let (dd, cd) = self.reaper.timed_cpu(delete, &format!("{} delete", r.name))?;
                self.metrics[total_cpu].push(&r.name, ms(cc + cs + cd));
                for (m, d) in phases.iter().zip([dc, ds, dw, dd]) {
                    self.metrics[*m].push(&r.name, ms(d));
                }
                self.metrics[total].push(&r.name, ms(dc + ds + dw + dd));
            }
        }
        capi.finish(&mut self.reaper)
    }

    /// exec of /bin/true into a running container, alternated.
    fn exec(&mut self) -> Result<()> {
        let m = self.metric("exec", "exec /bin/true into a running container", "ms");
        let mc = self.metric("exec_cpu", "  CPU time (user+sys) of exec", "ms");
        for r in &self.rts {
            let b = self.lab.bundle(&r.name, "ex", &["sleep", "1000000"])?;
            self.reaper.must(
                r.cmd(&["run", "-d", "--bundle", p(&b), "ex"]),
                &format!("{} run -d", r.name),
            )?;
        }
        let result = (|| {
            for i in 0..self.o.n {
                for s in order(self.rts.len(), i) {
                    let r = &self.rts[s];
                    let exec = r.cmd(&["exec", "ex", "/bin/true"]);
                    let (d, cpu) = self.reaper.timed_cpu(exec, &format!("{} exec", r.name))?;
                    self.metrics[m].push(&r.name, ms(d));
                    self.metrics[mc].push(&r.name, ms(cpu));
                }
            }
            Ok(())
        })();
        for r in &self.rts {
            self.reaper.status(r.cmd(&["delete", "--force", "ex"]))?;
        }
        result
    }

    /// Peak RSS of the runtime process during `create` and during `run`.
    fn rss(&mut self) -> Result<()> {
        let mc = self.metric("rss_create", "peak RSS of the runtime process, create", "KiB");
        let mr = self.metric("rss_run", "peak RSS of the runtime process, run", "KiB");
        let bundles: Vec<PathBuf> = (self.rts.iter())
            .map(|r| self.lab.bundle(&r.name, "rss", &["/bin/true"]))
            .collect::<Result<_>>()?;
        for i in 0..self.o.n.min(20) {
            for s in order(self.rts.len(), i) {
                let r = &self.rts[s];
                let b = p(&bundles[s]);
                let kib = self.reaper.peak_rss(
                    &r.bin,
                    &r.argv(&["create", "--bundle", b, "rss"]),
                    &format!("{} create", r.name),
                )?;
                self.metrics[mc].push(&r.name, kib as f64);
                self.reaper
                    .must(r.cmd(&["delete", "--force", "rss"]), &format!("{} delete", r.name))?;
                let kib = self.reaper.peak_rss(
                    &r.bin,
                    &r.argv(&["run", "--bundle", b, "rss"]),
                    &format!("{} run", r.name),
                )?;
                self.metrics[mr].push(&r.name, kib as f64);
            }
        }
        Ok(())
    }

    /// Start background containers (running `sleep`) until each runtime has `count`.
    fn grow(&mut self, count: usize) -> Result<()> {
        let t0 = Instant::now();
        let start = self.bg.iter().copied().min().unwrap_or(0);
        for j in start..count {
            for s in 0..self.rts.len() {
                if self.bg[s] > j {
                    continue;
                }
                let r = &self.rts[s];
                let id = format!("bg{j}");
                let b = self.lab.bundle(&r.name, &id, &["sleep", "1000000"])?;
                self.reaper.must(
                    r.cmd(&["run", "-d", "--bundle", p(&b), &id]),
                    &format!("{} run -d {id}", r.name),
                )?;
                self.bg[s] = j + 1;
            }
            if (j + 1) % 100 == 0 {
                eprintln!(
                    "  {} running containers per runtime ({:.0} s)",
                    j + 1,
                    t0.elapsed().as_secs_f64()
                );
            }
        }
        Ok(())
    }

    /// `create` time with `count` running containers per runtime, alternated.
    fn create_at(&mut self, count: usize) -> Result<String> {
        self.grow(count)?;
        let key = format!("create_at_{count}");
        let m = self.metric(&key, &format!("create with {count} running containers"), "ms");
        let bundles: Vec<PathBuf> = (self.rts.iter())
            .map(|r| self.lab.bundle(&r.name, "sc", &["/bin/true"]))
            .collect::<Result<_>>()?;
        for i in 0..self.o.n {
            for s in order(self.rts.len(), i) {
                let r = &self.rts[s];
                let d = self.reaper.timed(
                    r.cmd(&["create", "--bundle", p(&bundles[s]), "sc"]),
                    &format!("{} create", r.name),
                )?;
                self.metrics[m].push(&r.name, ms(d));
                self.reaper
                    .must(r.cmd(&["delete", "--force", "sc"]), &format!("{} delete", r.name))?;
            }
        }
        self.reaper.reap_ready();
        Ok(key)
    }

    /// `state` of one container and `list` of all, with `many` running containers each.
    fn state_and_list(&mut self) -> Result<()> {
        let n = self.o.many;
        let ms_ = self.metric("state", &format!("state, {n} containers in the root"), "ms");
        let ml = self.metric("list", &format!("list, {n} containers in the root"), "ms");
        let target = format!("bg{}", n / 2);
        for i in 0..self.o.n {
            for s in order(self.rts.len(), i) {
                let r = &self.rts[s];
                let d = self
                    .reaper
                    .timed(r.cmd(&["state", &target]), &format!("{} state", r.name))?;
                self.metrics[ms_].push(&r.name, ms(d));
                let d = self.reaper.timed(r.cmd(&["list"]), &format!("{} list", r.name))?;
                self.metrics[ml].push(&r.name, ms(d));
            }
        }
        Ok(())
    }

    /// Stripped size of each binary (a stripped copy is measured; the original is untouched).
    fn sizes(&mut self) -> Result<()> {
        let m = self.metric("size", "stripped binary size", "KiB");
        for r in &self.rts {
            let copy = self.lab.dir.join(format!("size-{}", r.name));
            std::fs::copy(&r.bin, &copy).map_err(|e| format!("copying {}: {e}", r.bin.display()))?;
            let mut c = Command::new("strip");
            c.arg(&copy);
            self.reaper.must(c, "strip")?;
            let len = std::fs::metadata(&copy).map_err(|e| e.to_string())?.len();
            let _ = std::fs::remove_file(&copy);
            self.metrics[m].push(&r.name, len as f64 / 1024.0);
        }
        Ok(())
    }

    /// Delete every container the bench made (runc's and crun's leftovers included), then
    /// the cgroups and the work directory. Returns the problems seen.
    fn cleanup(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        for s in 0..self.rts.len() {
            let ids: Vec<String> = std::fs::read_dir(&self.rts[s].root)
                .map(|rd| rd.flatten().filter_map(|e| e.file_name().into_string().ok()).collect())
                .unwrap_or_default();
            if ids.len() > 20 {
                eprintln!("  deleting {} {} containers", ids.len(), self.rts[s].name);
            }
            for id in ids.iter().filter(|i| !i.starts_with('.')) {
                let c = self.rts[s].cmd(&["delete", "--force", id]);
                match self.reaper.status(c) {
                    Ok(0) => {}
                    Ok(code) => problems.push(format!("{} delete --force {id}: exit {code}", self.rts[s].name)),
                    Err(e) => problems.push(e),
                }
            }
        }
        for subject in ["library", "capi"] {
            let root = self.lab.state_root(subject);
            if root.join("lc").exists() {
                if let Ok(rt) = runtime_core::Runtime::new(&root) {
                    let _ = rt.delete("lc", true);
                }
            }
        }
        self.reaper.reap_ready();
        // The inits of deleted containers may still be on their way out of their cgroups.
        let deadline = Instant::now() + Duration::from_secs(10);
        let left = loop {
            let left = lab::remove_cgroups(&self.lab.tag);
            if left.is_empty() || Instant::now() > deadline {
                break left;
            }
            std::thread::sleep(Duration::from_millis(100));
            self.reaper.reap_ready();
        };
        problems.extend(left.iter().map(|l| format!("cgroup left behind: {}", l.display())));
        if let Err(e) = lab::remove_work(&self.lab.dir) {
            problems.push(e);
        }
        problems
    }
}

fn first_line(bin: &Path) -> String {
    Command::new(bin)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(String::from))
        .unwrap_or_default()
}

fn read(p: &str) -> String {
    std::fs::read_to_string(p).unwrap_or_default().trim().to_string()
}

fn machine() -> serde_json::Value {
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("")
        .trim()
        .to_string();
    let hypervisor = cpuinfo
        .lines()
        .any(|l| l.starts_with("flags") && l.contains(" hypervisor"));
    let mem = read("/proc/meminfo")
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .unwrap_or("")
        .to_string();
    json!({
        "kernel": read("/proc/sys/kernel/osrelease"),
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu_model": model,
        "virtualized": hypervisor,
        "memory": mem.split_whitespace().skip(1).collect::<Vec<_>>().join(" "),
        "loadavg_at_start": read("/proc/loadavg"),
    })
}

/// crun 1.8.1 may change the owner of the host's /dev/null (see the testkit notes): put it
/// back if anything did.
fn check_dev_null(when: &str) {
    use std::os::unix::fs::MetadataExt;
    if let Ok(m) = std::fs::metadata("/dev/null") {
        if m.uid() != 0 || m.gid() != 0 {
            eprintln!(
                "warning: /dev/null was owned by {}:{} {when}; restoring 0:0",
                m.uid(),
                m.gid()
            );
            let _ = nix::unistd::chown("/dev/null", Some(0.into()), Some(0.into()));
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(proc::RSS_PROBE) {
        std::process::exit(proc::rss_probe_main(&args[2..]));
    }
    match real_main(&args[1..]) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("benches: {e}");
            std::process::exit(1);
        }
    }
}

fn real_main(args: &[String]) -> Result<()> {
    let o = parse_opts(args)?;
    if !nix::unistd::geteuid().is_root() {
        return Err("needs root".into());
    }
    lab::enter_guarded_namespace()?;
    nix::sys::prctl::set_child_subreaper(true).map_err(|e| format!("PR_SET_CHILD_SUBREAPER: {e}"))?;
    for stale in lab::stale_runs() {
        eprintln!("removing the leftovers of an interrupted run: {stale}");
        // Its containers first, each by its own runtime (a killed run leaves them behind).
        let state = Path::new(lab::WORK_BASE).join(&stale).join("state");
        // The library's and the C API's containers are runtime-core's, like runtime-cli's.
        let subjects = [
            (CLI, &o.cli),
            (CRUN, &o.crun),
            (RUNC, &o.runc),
            ("library", &o.cli),
            ("capi", &o.cli),
        ];
        for (name, bin) in subjects {
            let root = state.join(name);
            let ids = std::fs::read_dir(&root)
                .map(|rd| rd.flatten().filter_map(|e| e.file_name().into_string().ok()).collect())
                .unwrap_or_else(|_| Vec::new());
            for id in ids.iter().filter(|i| !i.starts_with('.') && !i.starts_with('~')) {
                let _ = Command::new(bin)
                    .arg("--root")
                    .arg(&root)
                    .args(["delete", "--force", id])
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .status();
            }
        }
        let left = lab::remove_cgroups(&stale);
        let _ = lab::remove_work(&Path::new(lab::WORK_BASE).join(&stale));
        for l in left {
            eprintln!("  cgroup still in use, left alone: {}", l.display());
        }
    }
    let lab = Lab::new(&o.runc)?;
    let rts: Vec<Rt> = [(CLI, &o.cli), (CRUN, &o.crun), (RUNC, &o.runc)]
        .into_iter()
        .chain(o.also.iter().map(|(n, p)| (n.as_str(), p)))
        .map(|(name, bin)| Rt {
            name: name.to_string(),
            bin: bin.clone(),
            root: lab.state_root(name),
        })
        .collect();
    let versions: serde_json::Map<String, serde_json::Value> = rts
        .iter()
        .map(|r| (r.name.to_string(), json!(first_line(&r.bin))))
        .collect();
    let b_capi = o.capi.display().to_string();
    let mut header = json!({
        "command": std::env::args().collect::<Vec<_>>(),
        "n": o.n,
        "many": o.many,
        "scale": o.scale,
        "versions": versions,
        "binaries": rts.iter().map(|r| (r.name.to_string(), json!(r.bin))).collect::<serde_json::Map<_, _>>(),
        "namespaces": lab.namespaces(),
        "cgroups": "cgroup v1 (hybrid host; /sys/fs/cgroup/unified unmounted in the bench's mount namespace)",
        "state_and_list_containers": "real containers, running busybox sleep, started with `run -d`",
        "library": "create+start+wait_child+delete through runtime_core::Runtime in the bench process",
        "capi": format!("create+start+waitpid+delete through libruntime's C API (runtime.h) in {}, a process that stays up and runs one iteration per request; CPU time is its own and its reaped inits'", b_capi),
        "machine": machine(),
    });
    let err_log = lab.dir.join("stderr.log");
    let n_rts = rts.len();
    let mut b = Bench {
        o,
        lab,
        rts,
        reaper: Reaper::new(err_log),
        metrics: Vec::new(),
        bg: vec![0; n_rts],
    };
    let t0 = Instant::now();
    let mut scale_keys = Vec::new();
    let result = (|| -> Result<()> {
        for subject in b.rts.iter().map(|r| r.name.as_str()).chain(["library", "capi"]) {
            lab::make_parent_cgroups(&b.lab.tag, subject)?;
        }
        check_dev_null("at the start");
        if b.o.wants("size") {
            b.sizes()?;
        }
        eprintln!("warm-up");
        b.warm_up()?;
        if b.o.wants("run") {
            eprintln!("run and floor (n={})", b.o.n);
            b.run_and_floor()?;
        }
        if b.o.wants("lifecycle") {
            eprintln!("create+start+wait+delete, C API, library (n={})", b.o.n);
            b.lifecycle()?;
        }
        if b.o.wants("exec") {
            eprintln!("exec (n={})", b.o.n);
            b.exec()?;
        }
        if b.o.wants("rss") {
            eprintln!("peak RSS (n={})", b.o.n.min(20));
            b.rss()?;
        }
        check_dev_null("after exec and rss");
        if !b.o.wants("scale") {
            return Ok(());
        }
        let mut levels = b.o.scale.clone();
        if !levels.contains(&b.o.many) {
            levels.push(b.o.many);
        }
        for l in levels {
            eprintln!("create with {l} running containers per runtime");
            scale_keys.push(b.create_at(l)?);
        }
        eprintln!("state and list with {} containers per runtime", b.o.many);
        b.state_and_list()
    })();
    eprintln!("cleaning up");
    let problems = b.cleanup();
    check_dev_null("after the cleanup");
    for pb in &problems {
        eprintln!("cleanup: {pb}");
    }
    result?;
    header["seconds"] = json!(t0.elapsed().as_secs());
    header["machine"]["loadavg_at_end"] = json!(read("/proc/loadavg"));
    let floor_keys = ["run", "lifecycle"];
    let extra: Vec<&str> = b.o.also.iter().map(|(n, _)| n.as_str()).collect();
    let table = report::table(&b.metrics, &floor_keys, &extra);
    let notes = report::notes(&b.metrics, &scale_keys);
    println!(
        "runtime-cli: {}\ncrun: {}\nrunc: {}\nkernel {}, {} cpus, n={} (alternating runtimes run by run)\n",
        header["versions"][CLI].as_str().unwrap_or(""),
        header["versions"][CRUN].as_str().unwrap_or(""),
        header["versions"][RUNC].as_str().unwrap_or(""),
        header["machine"]["kernel"].as_str().unwrap_or(""),
        header["machine"]["cpus"],
        b.o.n
    );
    println!("{table}\n{notes}");
    if let Some(path) = &b.o.json {
        let doc = report::json(&b.metrics, &floor_keys, header);
        std::fs::write(path, serde_json::to_vec_pretty(&doc).expect("a Value serializes"))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    if !problems.is_empty() {
        return Err(format!("{} cleanup problem(s), see above", problems.len()));
    }
    Ok(())
}
