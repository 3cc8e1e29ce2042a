//! runc's command-line grammar on top of clap: single-dash long flags (`-no-subreaper`) are
//! rewritten to the double-dash form before clap sees them, but only where flags can appear
//! (never inside the command given to `exec`, the `ps` arguments or `kill`'s signal).

use clap::{Arg, ArgAction, Command};

fn flag(name: &'static str) -> Arg {
    Arg::new(name).long(name).action(ArgAction::SetTrue)
}

fn opt(name: &'static str) -> Arg {
    Arg::new(name).long(name).num_args(1)
}

fn id() -> Arg {
    Arg::new("id").required(true).value_name("container-id")
}

/// runc's individual `update` flags (runc's update.go).
pub const UPDATE_FLAGS: [&str; 18] = [
    "blkio-weight",
    "cpu-period",
    "cpu-quota",
    "cpu-burst",
    "cpu-share",
    "cpu-rt-period",
    "cpu-rt-runtime",
    "cpuset-cpus",
    "cpuset-mems",
    "cpu-idle",
    "memory",
    "memory-reservation",
    "memory-swap",
    "pids-limit",
    "l3-cache-schema",
    "mem-bw-schema",
    "kernel-memory",
    "kernel-memory-tcp",
];

/// A Go duration (`5s`, `500ms`, `1m30s`, `0`): a sequence of number+unit pairs.
pub fn parse_duration(s: &str) -> Option<std::time::Duration> {
    if s == "0" {
        return Some(std::time::Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let n_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let n: f64 = rest[..n_end].parse().ok()?;
        rest = &rest[n_end..];
        let u_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..u_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += n * mult;
        rest = &rest[u_end..];
    }
    Some(std::time::Duration::from_secs_f64(total))
}

/// The whole command tree.
pub fn command() -> Command {
    let create_flags = || {
        [
            opt("bundle").short('b').default_value(""),
            opt("console-socket"),
            opt("pidfd-socket"),
            opt("pid-file"),
            flag("no-pivot"),
            flag("no-new-keyring"),
            opt("preserve-fds")
                .default_value("0")
                .value_parser(clap::value_parser!(u32)),
        ]
    };
    Command::new("runtime-cli")
        .about("An OCI container runtime, command-line compatible with runc")
        .disable_version_flag(true)
        .arg(
            Arg::new("version")
                .short('v')
                .long("version")
                .action(ArgAction::SetTrue)
                .help("print the version"),
        )
        .arg(
            opt("root")
                .help("root directory for storage of container state")
                .default_value("/run/runtime-cli"),
        )
        .arg(opt("log").help("log file (default: stderr)"))
        .arg(opt("log-format").default_value("text").help("log format: text or json"))
        .arg(flag("debug"))
        .arg(flag("systemd-cgroup"))
        .arg(opt("rootless").default_value("auto"))
        .arg(opt("criu").help("accepted and ignored, as runc clients pass it"))
        .subcommand(
            Command::new("create")
                .about("create a container")
                .args(create_flags())
                .arg(id())
                .arg(flag("detach").short('d').hide(true)),
        )
        .subcommand(
            Command::new("run")
                .about("create and start a container")
                .args(create_flags())
                .arg(flag("detach").short('d'))
                .arg(flag("keep"))
                .arg(flag("no-subreaper"))
                .arg(id()),
        )
        .subcommand(Command::new("start").about("start a created container").arg(id()))
        .subcommand(Command::new("state").about("print the state of a container").arg(id()))
        .subcommand(
            Command::new("list")
                .about("list containers")
                .arg(opt("format").short('f').default_value("table"))
                .arg(flag("quiet").short('q')),
        )
        .subcommand(
            Command::new("kill")
                .about("send a signal to a container")
                .arg(flag("all").short('a'))
                .arg(id())
                .arg(Arg::new("signal").default_value("SIGTERM").allow_hyphen_values(true)),
        )
        .subcommand(
            Command::new("delete")
                .about("delete a container")
                .arg(flag("force").short('f'))
                .arg(id()),
        )
        .subcommand(
            Command::new("spec")
                .about("create a new specification file")
                .arg(opt("bundle").short('b'))
                .arg(flag("rootless")),
        )
        .subcommand(
            Command::new("exec")
                .about("run a process in a container")
                .arg(opt("process").short('p'))
                .arg(opt("console-socket"))
                .arg(opt("pidfd-socket"))
                .arg(opt("pid-file"))
                .arg(flag("detach").short('d'))
                .arg(flag("tty").short('t'))
                .arg(opt("cwd"))
                .arg(opt("env").short('e').action(ArgAction::Append))
                .arg(opt("user").short('u'))
                .arg(opt("additional-gids").short('g').action(ArgAction::Append))
                .arg(opt("cap").short('c').action(ArgAction::Append))
                .arg(flag("no-new-privs"))
                .arg(opt("apparmor"))
                .arg(opt("process-label"))
                .arg(opt("cgroup").action(ArgAction::Append))
                .arg(flag("ignore-paused"))
                .arg(opt("preserve-fds"))
                .arg(id())
                .arg(
                    Arg::new("command")
                        .num_args(0..)
                        .trailing_var_arg(true)
                        .allow_hyphen_values(true),
                ),
        )
        .subcommand(Command::new("pause").about("pause a container").arg(id()))
        .subcommand(Command::new("resume").about("resume a container").arg(id()))
        .subcommand(
            Command::new("ps")
                .about("list the processes of a container")
                .arg(opt("format").short('f').default_value("table"))
                .arg(id())
                .arg(
                    Arg::new("ps-args")
                        .num_args(0..)
                        .trailing_var_arg(true)
                        .allow_hyphen_values(true),
                ),
        )
        .subcommand(
            Command::new("update")
                .about("update resources of a container")
                .arg(opt("resources").short('r'))
                .args(UPDATE_FLAGS.map(|n| opt(n).allow_hyphen_values(true)))
                .arg(id()),
        )
        .subcommand(
            Command::new("events")
                .about("container events and statistics")
                .arg(opt("interval").default_value("5s"))
                .arg(flag("stats"))
                .arg(id()),
        )
        .subcommand(Command::new("features").about("show the enabled features"))
        .subcommand(
            Command::new("checkpoint")
                .about("checkpoint a container (not supported)")
                .disable_help_flag(true)
                .arg(
                    Arg::new("args")
                        .num_args(0..)
                        .trailing_var_arg(true)
                        .allow_hyphen_values(true),
                ),
        )
        .subcommand(
            Command::new("restore")
                .about("restore a container (not supported)")
                .disable_help_flag(true)
                .arg(
                    Arg::new("args")
                        .num_args(0..)
                        .trailing_var_arg(true)
                        .allow_hyphen_values(true),
                ),
        )
}

/// Flags that take a value, by subcommand ("" = global), for the single-dash rewrite.
fn takes_value(cmd: &str, name: &str) -> bool {
    const GLOBAL: &[&str] = &["root", "log", "log-format", "rootless", "criu"];
    const CREATE: &[&str] = &["bundle", "console-socket", "pidfd-socket", "pid-file", "preserve-fds"];
    const EXEC: &[&str] = &[
        "process",
        "console-socket",
        "pidfd-socket",
        "pid-file",
        "cwd",
        "env",
        "user",
        "additional-gids",
        "cap",
        "apparmor",
        "process-label",
        "cgroup",
        "preserve-fds",
    ];
    let list: &[&str] = match cmd {
        "" => GLOBAL,
        "create" | "run" => CREATE,
        "exec" => EXEC,
        "list" | "ps" => &["format"],
        "spec" => &["bundle"],
        "events" => &["interval"],
        "update" => return name != "help",
        _ => &[],
    };
    list.contains(&name)
}

fn known_long(cmd: &str, name: &str) -> bool {
    const BOOLS: &[&str] = &[
        "debug",
        "systemd-cgroup",
        "version",
        "help",
        "no-pivot",
        "no-new-keyring",
        "detach",
        "keep",
        "no-subreaper",
        "quiet",
        "all",
        "force",
        "rootless",
        "tty",
        "no-new-privs",
        "ignore-paused",
        "stats",
    ];
    takes_value(cmd, name) || BOOLS.contains(&name)
}

/// Rewrite `-long-flag` to `--long-flag` where runc's parser would accept it.
pub fn normalize(argv: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut it = argv.into_iter();
    if let Some(a0) = it.next() {
        out.push(a0);
    }
    let mut cmd = String::new();
    let mut positionals = 0usize;
    let mut expect_value = false;
    for a in it {
        if expect_value {
            expect_value = false;
            out.push(a);
            continue;
        }
        let stop = matches!(cmd.as_str(), "exec" | "ps" | "kill" | "checkpoint" | "restore") && positionals > 0;
        if stop || a == "--" {
            out.push(a);
            continue;
        }
        if let Some(rest) = a.strip_prefix('-') {
            let long = rest.strip_prefix('-');
            let body = long.unwrap_or(rest);
            let name = body.split('=').next().unwrap_or("");
            if long.is_none() && name.len() > 1 && known_long(&cmd, name) {
                out.push(format!("-{a}"));
            } else {
                out.push(a.clone());
            }
            if (long.is_some() || name.len() > 1) && !body.contains('=') && takes_value(&cmd, name) {
                expect_value = true;
            } else if long.is_none() && name.len() == 1 {
                // short options with values: -b DIR, -p FILE, -f FMT, -e K=V, -u U, -g G, -c CAP, -r FILE
                expect_value = matches!(
                    (cmd.as_str(), name),
                    ("create" | "run" | "spec", "b")
                        | ("exec", "p" | "e" | "u" | "g" | "c")
                        | ("list" | "ps", "f")
                        | ("update", "r")
                );
            }
            continue;
        }
        if cmd.is_empty() {
            cmd = a.clone();
        } else {
            positionals += 1;
        }
        out.push(a);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: &[&str]) -> Vec<String> {
        normalize(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn single_dash_long_flags() {
        assert_eq!(
            n(&["rt", "-root", "/r", "-log-format=json", "restore", "-no-subreaper", "x"]),
            [
                "rt",
                "--root",
                "/r",
                "--log-format=json",
                "restore",
                "--no-subreaper",
                "x"
            ]
        );
        assert_eq!(
            n(&["rt", "run", "-no-subreaper", "-d", "x"]),
            ["rt", "run", "--no-subreaper", "-d", "x"]
        );
        assert_eq!(
            n(&["rt", "--root", "-weird", "list"]),
            ["rt", "--root", "-weird", "list"]
        );
    }

    #[test]
    fn exec_command_untouched() {
        assert_eq!(
            n(&["rt", "exec", "-detach", "-p", "/f", "id", "ls", "-all", "-debug"]),
            ["rt", "exec", "--detach", "-p", "/f", "id", "ls", "-all", "-debug"]
        );
        assert_eq!(n(&["rt", "kill", "id", "-all"]), ["rt", "kill", "id", "-all"]);
    }

    #[test]
    fn parses_contract_forms() {
        let m = command()
            .try_get_matches_from(n(&[
                "rt",
                "--root=/x",
                "--log-format=json",
                "--criu",
                "/c",
                "list",
                "--format=json",
            ]))
            .unwrap();
        assert_eq!(m.get_one::<String>("root").unwrap(), "/x");
        let (sub, sm) = m.subcommand().unwrap();
        assert_eq!(sub, "list");
        assert_eq!(sm.get_one::<String>("format").unwrap(), "json");
        let m = command()
            .try_get_matches_from(n(&["rt", "exec", "--tty", "--process", "/p", "id"]))
            .unwrap();
        assert!(m.subcommand().unwrap().1.get_flag("tty"));
        let m = command()
            .try_get_matches_from(n(&["rt", "update", "--cpu-quota", "-1", "id"]))
            .unwrap();
        assert_eq!(m.subcommand().unwrap().1.get_one::<String>("cpu-quota").unwrap(), "-1");
    }

    #[test]
    fn durations() {
        use std::time::Duration;
        assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("0s"), Some(Duration::ZERO));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("x"), None);
    }
}
