//! `runtime-cli`: runc's command line over `runtime-core`. This file maps argv to library
//! calls and errors to log lines and exit codes; it holds no container logic.
#![deny(unsafe_code)]

mod args;
mod log;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::ArgMatches;
use runtime_core::{CreateOptions, Error, Pid, Runtime};

const DEFAULT_ROOT: &str = "/run/runtime-cli";

static DEBUG_LOGGER: std::sync::OnceLock<std::sync::Mutex<log::Logger>> = std::sync::OnceLock::new();

/// What a command ends with: success, a process exit code (`run`, `exec`), or an error.
enum Outcome {
    Ok,
    Code(i32),
}

fn main() -> ExitCode {
    let argv = args::normalize(std::env::args().collect());
    let is_exec = argv
        .iter()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .is_some_and(|a| a == "exec");
    let fail_code = if is_exec { 255 } else { 1 };
    let m = match args::command().try_get_matches_from(&argv) {
        Ok(m) => m,
        Err(e) => {
            use clap::error::ErrorKind as K;
            let _ = e.print();
            return match e.kind() {
                K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand
                    if !argv.iter().any(|a| a == "checkpoint" || a == "restore") =>
                {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(fail_code),
            };
        }
    };
    if m.get_flag("version") {
        println!(
            "runtime-cli version {}\ncommit: {}\nspec: {}",
            runtime_core::VERSION,
            option_env!("RUNTIME_CLI_COMMIT").unwrap_or("unknown"),
            runtime_core::OCI_VERSION
        );
        return ExitCode::SUCCESS;
    }
    let format = match m.get_one::<String>("log-format").map(String::as_str) {
        Some("text") | None => log::Format::Text,
        Some("json") => log::Format::Json,
        Some(other) => {
            log::Logger::stderr().error(&format!("invalid log-format: {other}"));
            eprintln!("invalid log-format: {other}");
            return ExitCode::from(1);
        }
    };
    let log_path = m.get_one::<String>("log").map(PathBuf::from);
    let mut logger = match log::Logger::new(log_path.as_deref(), format, m.get_flag("debug")) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("opening log file {}: {e}", log_path.unwrap_or_default().display());
            return ExitCode::from(fail_code);
        }
    };
    if logger.debug {
        // The library's debug messages (e.g. seccomp rules skipped for unknown syscalls) go
        // to the same destination, as `level=debug` entries, only under --debug.
        if let Ok(l) = log::Logger::new(log_path.as_deref(), format, true) {
            let _ = DEBUG_LOGGER.set(std::sync::Mutex::new(l));
            runtime_core::set_debug_sink(|msg| {
                if let Some(Ok(mut l)) = DEBUG_LOGGER.get().map(|l| l.lock()) {
                    l.log("debug", msg);
                }
            });
        }
    }
    if m.get_one::<String>("criu").is_some() {
        logger.log("debug", "--criu is ignored");
    }
    let Some((sub, sm)) = m.subcommand() else {
        let _ = args::command().print_help();
        return ExitCode::from(1);
    };
    match dispatch(&m, sub, sm, &mut logger) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Code(c)) => ExitCode::from(c.clamp(0, 255) as u8),
        Err(msg) => {
            logger.error(&msg);
            ExitCode::from(if sub == "exec" { 255 } else { 1 })
        }
    }
}

/// The state root: `--root`, or the default (runc's rule: `$XDG_RUNTIME_DIR` only when not
/// running as real root, or as root of a user namespace when `$USER` is unset or not root,
/// as inside rootless podman's namespace, where conmon passes no `$USER`).
fn runtime(m: &ArgMatches) -> Result<(Runtime, bool), String> {
    let explicit = m.value_source("root") == Some(ValueSource::CommandLine);
    let root = if explicit {
        PathBuf::from(m.get_one::<String>("root").expect("has default"))
    } else if !nix_is_root() || userns_of_a_user() {
        match std::env::var_os("XDG_RUNTIME_DIR") {
            Some(x) => PathBuf::from(x).join("runtime-cli"),
            None => PathBuf::from(DEFAULT_ROOT),
        }
    } else {
        PathBuf::from(DEFAULT_ROOT)
    };
    let mut rt = Runtime::new(root).map_err(|e| e.to_string())?;
    match m.get_one::<String>("rootless").map(String::as_str) {
        Some("true") => rt.set_rootless(true),
        Some("false") => rt.set_rootless(false),
        _ => {}
    }
    Ok((rt, explicit))
}

fn userns_of_a_user() -> bool {
    runtime_core::in_user_namespace() && std::env::var_os("USER").is_none_or(|u| u != "root")
}

fn nix_is_root() -> bool {
    runtime_core::sys_is_root()
}

fn id(sm: &ArgMatches) -> String {
    sm.get_one::<String>("id").cloned().unwrap_or_default()
}

/// systemd socket activation (sd_listen_fds): `LISTEN_FDS` counts, when `LISTEN_PID` is us.
fn listen_fds() -> u32 {
    let ours = std::env::var("LISTEN_PID").is_ok_and(|p| p.parse() == Ok(std::process::id()));
    match std::env::var("LISTEN_FDS") {
        Ok(n) if ours => n.parse().unwrap_or(0),
        _ => 0,
    }
}

fn create_options(sm: &ArgMatches) -> Result<CreateOptions, String> {
    let bundle = sm.get_one::<String>("bundle").map(String::as_str).unwrap_or("");
    let bundle = if bundle.is_empty() {
        std::env::current_dir().map_err(|e| format!("getting current directory: {e}"))?
    } else {
        PathBuf::from(bundle)
    };
    Ok(CreateOptions {
        bundle,
        pid_file: sm.get_one::<String>("pid-file").map(PathBuf::from),
        console_socket: sm.get_one::<String>("console-socket").map(PathBuf::from),
        no_pivot: sm.get_flag("no-pivot"),
        no_new_keyring: sm.get_flag("no-new-keyring"),
        preserve_fds: sm.get_one::<u32>("preserve-fds").copied().unwrap_or(0),
        listen_fds: listen_fds(),
        systemd_cgroup: false,
        stdio: None,
    })
}

fn check_cgroup_driver(m: &ArgMatches) -> Result<(), String> {
    match m.get_one::<String>("rootless").map(String::as_str) {
        Some("true" | "false" | "auto") | None => Ok(()),
        Some(v) => Err(format!("invalid --rootless value {v:?}: want true, false or auto")),
    }
}

fn err(e: Error) -> String {
    e.to_string()
}

fn dispatch(m: &ArgMatches, sub: &str, sm: &ArgMatches, logger: &mut log::Logger) -> Result<Outcome, String> {
    match sub {
        "spec" => {
            let dir = sm
                .get_one::<String>("bundle")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."));
            let path = dir.join("config.json");
            if path.exists() {
                return Err("File config.json exists. Remove it first".into());
            }
            let v = runtime_core::spec::example(sm.get_flag("rootless"));
            let text = serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?;
            std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
            return Ok(Outcome::Ok);
        }
        "checkpoint" | "restore" => return Err(format!("{sub} is not supported by this runtime (no CRIU support)")),
        "features" => {
            let doc = runtime_core::features::document();
            let text = serde_json::to_string_pretty(&doc).map_err(|e| format!("features: {e}"))?;
            println!("{text}");
            return Ok(Outcome::Ok);
        }
        _ => {}
    }
    let (rt, explicit_root) = runtime(m)?;
    logger.log("debug", &format!("{sub} with root {}", rt.root().display()));
    match sub {
        "create" => {
            check_cgroup_driver(m).map_err(|e| format!("runtime-cli create failed: {e}"))?;
            let mut opts = create_options(sm)?;
            opts.systemd_cgroup = m.get_flag("systemd-cgroup");
            rt.create(&id(sm), opts)
                .map_err(|e| format!("runtime-cli create failed: {}", err(e)))?;
            Ok(Outcome::Ok)
        }
        "run" => {
            check_cgroup_driver(m).map_err(|e| format!("runtime-cli run failed: {e}"))?;
            let mut opts = create_options(sm)?;
            opts.systemd_cgroup = m.get_flag("systemd-cgroup");
            let run = runtime_core::container::RunOptions {
                detach: sm.get_flag("detach"),
                keep: sm.get_flag("keep"),
                no_subreaper: sm.get_flag("no-subreaper"),
            };
            let code = rt
                .run(&id(sm), opts, run)
                .map_err(|e| format!("runtime-cli run failed: {}", err(e)))?;
            Ok(Outcome::Code(code))
        }
        "start" => rt.start(&id(sm)).map(|_| Outcome::Ok).map_err(err),
        "pause" => rt.pause(&id(sm)).map(|_| Outcome::Ok).map_err(err),
        "resume" => rt.resume(&id(sm)).map(|_| Outcome::Ok).map_err(err),
        "update" => update(&rt, sm, logger),
        "events" => events(&rt, sm),
        "ps" => {
            let pids = rt.pids(&id(sm)).map_err(err)?;
            let out = match sm.get_one::<String>("format").map(String::as_str) {
                Some("json") => {
                    serde_json::to_string(&pids.iter().map(|p| p.as_raw()).collect::<Vec<_>>())
                        .map_err(|e| e.to_string())?
                        + "\n"
                }
                Some("table") | None => {
                    let args: Vec<String> = sm
                        .get_many::<String>("ps-args")
                        .map(|v| v.cloned().collect())
                        .unwrap_or_default();
                    ps_table(&pids, &args)?
                }
                Some(_) => return Err("invalid format option".into()),
            };
            let _ = std::io::stdout().write_all(out.as_bytes());
            Ok(Outcome::Ok)
        }
        "exec" => exec(&rt, sm).map_err(|e| format!("exec failed: {}", err(e))),
        "state" => {
            let st = rt.state(&id(sm)).map_err(err)?;
            let text = serde_json::to_string_pretty(&st).map_err(|e| e.to_string())?;
            let _ = std::io::stdout().write_all(text.as_bytes());
            Ok(Outcome::Ok)
        }
        "kill" => {
            let sig = runtime_core::signal::parse(sm.get_one::<String>("signal").expect("has default")).map_err(err)?;
            rt.kill(&id(sm), sig, sm.get_flag("all"))
                .map(|_| Outcome::Ok)
                .map_err(err)
        }
        "delete" => {
            for w in rt.delete_reporting(&id(sm), sm.get_flag("force")).map_err(err)? {
                logger.log("warning", &w.to_string());
            }
            Ok(Outcome::Ok)
        }
        "list" => {
            if explicit_root && !rt.root().exists() {
                return Err(format!("state root {}: no such file or directory", rt.root().display()));
            }
            let format = match (sm.get_flag("quiet"), sm.get_one::<String>("format").map(String::as_str)) {
                (true, _) => ListFormat::Quiet,
                (false, Some("json")) => ListFormat::Json,
                (false, Some("table") | None) => ListFormat::Table,
                (false, Some(_)) => return Err("invalid format option".into()),
            };
            list(&rt, format).map_err(err)?;
            Ok(Outcome::Ok)
        }
        other => Err(format!("unknown command {other:?}")),
    }
}

/// `update`: `--resources FILE|-` (JSON `linux.resources`; the individual flags are then
/// ignored, as in runc) or runc's individual flags.
fn update(rt: &Runtime, sm: &ArgMatches, logger: &mut log::Logger) -> Result<Outcome, String> {
    let id = id(sm);
    let r = match sm.get_one::<String>("resources") {
        Some(src) => {
            let text = if src == "-" {
                let mut t = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut t)
                    .map_err(|e| format!("reading resources from stdin: {e}"))?;
                t
            } else {
                std::fs::read_to_string(src).map_err(|e| format!("reading resources file {src}: {e}"))?
            };
            serde_json::from_str(&text).map_err(|e| format!("decoding resources JSON from {src}: {e}"))?
        }
        None => {
            let mut flags = Vec::new();
            for name in args::UPDATE_FLAGS.iter().copied() {
                if let Some(v) = sm.get_one::<String>(name) {
                    if name.starts_with("kernel-memory") {
                        logger.log("warning", &format!("--{name} is deprecated and ignored"));
                    }
                    flags.push((name, v.as_str()));
                }
            }
            runtime_core::cgroups::resources::from_update_flags(&flags).map_err(err)?
        }
    };
    rt.update(&id, &r).map(|_| Outcome::Ok).map_err(err)
}

/// `events [--stats] [--interval D]`: JSON lines on stdout.
fn events(rt: &Runtime, sm: &ArgMatches) -> Result<Outcome, String> {
    let text = sm.get_one::<String>("interval").map(String::as_str).unwrap_or("5s");
    let interval = args::parse_duration(text).ok_or_else(|| format!("invalid duration {text:?}"))?;
    let mut out = std::io::stdout();
    rt.events(&id(sm), interval, sm.get_flag("stats"), &mut |e| {
        let line = serde_json::to_string(e).unwrap_or_default() + "\n";
        out.write_all(line.as_bytes()).and_then(|_| out.flush()).is_ok()
    })
    .map(|_| Outcome::Ok)
    .map_err(err)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ListFormat {
    Quiet,
    Json,
    Table,
}

/// Print `list`. JSON and `-q` stream one entry at a time; the table keeps its rows (a few
/// hundred bytes each) to size the columns, which is cheaper than reading every state file
/// twice. Entries that fail to load are reported on stderr beside the list.
fn list(rt: &Runtime, format: ListFormat) -> Result<(), Error> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut n = 0usize;
    let mut rows: Vec<[String; 6]> = Vec::new();
    if format == ListFormat::Json {
        let _ = out.write_all(b"[");
    }
    let each = |r: Result<runtime_core::ContainerState, Error>| {
        let s = match r {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                return;
            }
        };
        let _ = match format {
            ListFormat::Quiet => writeln!(out, "{}", s.id),
            ListFormat::Json => {
                let sep: &[u8] = if n == 0 { b"" } else { b"," };
                out.write_all(sep)
                    .and_then(|()| serde_json::to_writer(&mut out, &s).map_err(std::io::Error::other))
            }
            ListFormat::Table => {
                rows.push(row(&s));
                Ok(())
            }
        };
        n += 1;
    };
    // `-q` prints ids only: the pass that checks nothing live is enough (same entries and
    // errors).
    if format == ListFormat::Quiet {
        rt.list_each_brief(each)?;
    } else {
        rt.list_each(each)?;
    }
    match format {
        ListFormat::Json => {
            let _ = out.write_all(b"]\n");
        }
        ListFormat::Table => {
            // runc's table is a tabwriter: minimum width 12, padding 3.
            let mut widths = [0, 1, 2, 3, 4].map(|c| (HEADER[c].len() + 3).max(12));
            for r in &rows {
                for (w, cell) in widths.iter_mut().zip(r.iter()) {
                    *w = (*w).max(cell.len() + 3);
                }
            }
            let _ = write_row(&mut out, &HEADER.map(String::from), &widths);
            for r in &rows {
                let _ = write_row(&mut out, r, &widths);
            }
        }
        ListFormat::Quiet => {}
    }
    let _ = out.flush();
    Ok(())
}

const HEADER: [&str; 6] = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"];

fn row(s: &runtime_core::ContainerState) -> [String; 6] {
    [
        s.id.clone(),
        s.pid.to_string(),
        s.status.to_string(),
        s.bundle.display().to_string(),
        s.created.clone(),
        s.owner.clone(),
    ]
}

fn write_row(out: &mut impl Write, cells: &[String; 6], widths: &[usize; 5]) -> std::io::Result<()> {
    for (cell, w) in cells.iter().zip(widths) {
        write!(out, "{cell:<w$}")?;
    }
    writeln!(out, "{}", cells[5])
}

fn exec(rt: &Runtime, sm: &ArgMatches) -> Result<Outcome, Error> {
    use runtime_core::exec::{ExecOptions, ExecOutcome, ExecOverrides};
    let id = id(sm);
    let strings = |name: &str| -> Vec<String> {
        sm.get_many::<String>(name)
            .map(|v| v.cloned().collect())
            .unwrap_or_default()
    };
    // --process is the whole truth; the other process flags (and --tty) are ignored with it.
    let (process, source) = match sm.get_one::<String>("process") {
        Some(f) => {
            let path = PathBuf::from(f);
            (runtime_core::exec::process_from_file(&path)?, path)
        }
        None => {
            let st = rt.state(&id)?;
            let o = ExecOverrides {
                args: strings("command"),
                cwd: sm.get_one::<String>("cwd").cloned(),
                env: strings("env"),
                tty: sm.get_flag("tty"),
                user: sm.get_one::<String>("user").cloned(),
                additional_gids: strings("additional-gids"),
                caps: strings("cap"),
                no_new_privs: sm.get_flag("no-new-privs"),
                apparmor: sm.get_one::<String>("apparmor").cloned(),
                process_label: sm.get_one::<String>("process-label").cloned(),
            };
            (
                runtime_core::exec::process_from_flags(&st.bundle, &o)?,
                st.bundle.join("config.json"),
            )
        }
    };
    let preserve_fds = match sm.get_one::<String>("preserve-fds") {
        Some(n) => n
            .parse()
            .map_err(|_| Error::InvalidArgument(format!("invalid --preserve-fds {n:?}")))?,
        None => 0,
    };
    let opts = ExecOptions {
        process,
        detach: sm.get_flag("detach"),
        pid_file: sm.get_one::<String>("pid-file").map(PathBuf::from),
        console_socket: sm.get_one::<String>("console-socket").map(PathBuf::from),
        preserve_fds,
        ignore_paused: sm.get_flag("ignore-paused"),
        stdio: None,
        source,
    };
    Ok(match rt.exec(&id, opts)? {
        ExecOutcome::Detached(_) => Outcome::Ok,
        ExecOutcome::Exited(code) => Outcome::Code(code),
    })
}

/// runc's `ps` table: the host's ps(1) output, header plus the lines of the container's pids.
fn ps_table(pids: &[Pid], args: &[String]) -> Result<String, String> {
    let args: Vec<String> = if args.is_empty() {
        vec!["-ef".into()]
    } else {
        args.to_vec()
    };
    let ps = ["/bin/ps", "/usr/bin/ps"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("ps");
    let out = std::process::Command::new(ps)
        .args(&args)
        .output()
        .map_err(|e| format!("running ps: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ps {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or_else(|| "couldn't find PID field in ps output".to_string())?;
    let mut res = format!("{header}\n");
    for l in lines {
        if let Some(p) = l.split_whitespace().nth(col).and_then(|p| p.parse::<i32>().ok()) {
            if pids.iter().any(|x| x.as_raw() == p) {
                res.push_str(l);
                res.push('\n');
            }
        }
    }
    Ok(res)
}
