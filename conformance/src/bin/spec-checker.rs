//! `spec-checker`: a small static program the spec-requirement suite copies into a container's
//! rootfs and runs as (or from) the container process. It prints one JSON object on stdout
//! describing what the process sees: identity, capabilities, limits, namespaces, mounts,
//! file descriptors, security attributes, and the results of the probes asked for on its
//! command line. It only reads `/proc` and the filesystem (no `unsafe`), so it builds as a
//! static binary with `-C target-feature=+crt-static` on the gnu target.
//!
//! Usage: `spec-checker [--stat PATH]... [--lstat PATH]... [--read PATH]... [--write PATH]...
//! [--mkdir PATH]... [--ls DIR]...`
//!
//! * `--stat`/`--lstat`: type, mode, owner, device numbers (and the link target for links).
//! * `--read`: the first 4 KiB of a file (or the error).
//! * `--write`: create/truncate the file and write a byte (ok or the error).
//! * `--mkdir`: `mkdir(PATH)` (ok or the error: for seccomp checks).
//! * `--ls`: the names in a directory (or the error).

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};

use serde_json::{json, Map, Value};

fn read(path: &str) -> Option<String> {
    fs::read_to_string(path).ok()
}

fn trimmed(path: &str) -> Value {
    read(path).map_or(Value::Null, |s| json!(s.trim_end_matches('\n')))
}

fn err_value(e: &std::io::Error) -> Value {
    json!({"ok": false, "errno": e.raw_os_error().unwrap_or(0), "error": e.to_string()})
}

/// `Key:\tvalue` lines of `/proc/self/status`.
fn status() -> BTreeMap<String, String> {
    read("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn ids(s: &BTreeMap<String, String>, key: &str) -> Vec<u64> {
    s.get(key)
        .map(|v| v.split_whitespace().filter_map(|w| w.parse().ok()).collect())
        .unwrap_or_default()
}

fn hex(s: &BTreeMap<String, String>, key: &str) -> Value {
    s.get(key)
        .and_then(|v| u64::from_str_radix(v, 16).ok())
        .map_or(Value::Null, |v| json!(v))
}

/// `/proc/self/limits` as `RLIMIT_*` -> `[soft, hard]` (unlimited = u64::MAX).
fn rlimits() -> Value {
    const NAMES: [(&str, &str); 16] = [
        ("Max cpu time", "RLIMIT_CPU"),
        ("Max file size", "RLIMIT_FSIZE"),
        ("Max data size", "RLIMIT_DATA"),
        ("Max stack size", "RLIMIT_STACK"),
        ("Max core file size", "RLIMIT_CORE"),
        ("Max resident set", "RLIMIT_RSS"),
        ("Max processes", "RLIMIT_NPROC"),
        ("Max open files", "RLIMIT_NOFILE"),
        ("Max locked memory", "RLIMIT_MEMLOCK"),
        ("Max address space", "RLIMIT_AS"),
        ("Max file locks", "RLIMIT_LOCKS"),
        ("Max pending signals", "RLIMIT_SIGPENDING"),
        ("Max msgqueue size", "RLIMIT_MSGQUEUE"),
        ("Max nice priority", "RLIMIT_NICE"),
        ("Max realtime priority", "RLIMIT_RTPRIO"),
        ("Max realtime timeout", "RLIMIT_RTTIME"),
    ];
    let text = read("/proc/self/limits").unwrap_or_default();
    let mut out = Map::new();
    for line in text.lines().skip(1) {
        let Some((_, name)) = NAMES.iter().find(|(p, _)| line.starts_with(p)) else {
            continue;
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        // "<description words> <soft> <hard> [units]": find the two values after the text.
        let desc_len = NAMES
            .iter()
            .find(|(_, n)| n == name)
            .map_or(0, |(p, _)| p.split_whitespace().count());
        let parse = |w: Option<&&str>| match w {
            Some(&"unlimited") => json!(u64::MAX),
            Some(w) => w.parse::<u64>().map_or(Value::Null, |v| json!(v)),
            None => Value::Null,
        };
        out.insert(
            name.to_string(),
            json!([parse(words.get(desc_len)), parse(words.get(desc_len + 1))]),
        );
    }
    Value::Object(out)
}

fn namespaces() -> Value {
    let mut out = Map::new();
    for ns in ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"] {
        let v = fs::read_link(format!("/proc/self/ns/{ns}")).map_or(Value::Null, |p| json!(p.to_string_lossy()));
        out.insert(ns.to_string(), v);
    }
    Value::Object(out)
}

/// Open file descriptors other than the one used to list them.
fn fds() -> Value {
    let mut out = Map::new();
    if let Ok(rd) = fs::read_dir("/proc/self/fd") {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let target = fs::read_link(e.path())
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            if target.starts_with("/proc/") && target.ends_with("/fd") {
                continue; // the directory handle of this very listing
            }
            out.insert(name, json!(target));
        }
    }
    Value::Object(out)
}

/// Fields of `/proc/self/stat` after the command name (field 3 is index 0).
fn stat_fields() -> Vec<String> {
    let text = read("/proc/self/stat").unwrap_or_default();
    text.rfind(')')
        .map(|i| text[i + 1..].split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

fn file_type(ft: fs::FileType) -> &'static str {
    if ft.is_symlink() {
        "symlink"
    } else if ft.is_dir() {
        "dir"
    } else if ft.is_file() {
        "file"
    } else if ft.is_char_device() {
        "char"
    } else if ft.is_block_device() {
        "block"
    } else if ft.is_fifo() {
        "fifo"
    } else if ft.is_socket() {
        "socket"
    } else {
        "unknown"
    }
}

fn stat_path(path: &str, follow: bool) -> Value {
    let m = if follow {
        fs::metadata(path)
    } else {
        fs::symlink_metadata(path)
    };
    match m {
        Ok(m) => {
            let rdev = m.rdev();
            // glibc's gnu_dev_major/minor encoding.
            let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
            let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
            let mut v = json!({
                "ok": true,
                "type": file_type(m.file_type()),
                "mode": m.mode() & 0o7777,
                "uid": m.uid(),
                "gid": m.gid(),
                "major": major,
                "minor": minor,
                "size": m.len(),
                "dev": m.dev(),
                "ino": m.ino(),
            });
            if m.file_type().is_symlink() {
                v["target"] = fs::read_link(path).map_or(Value::Null, |t| json!(t.to_string_lossy()));
            }
            v
        }
        Err(e) => err_value(&e),
    }
}

fn read_probe(path: &str) -> Value {
    match fs::File::open(path) {
        Ok(f) => {
            let mut buf = Vec::new();
            match f.take(4096).read_to_end(&mut buf) {
                Ok(_) => json!({"ok": true, "data": String::from_utf8_lossy(&buf)}),
                Err(e) => err_value(&e),
            }
        }
        Err(e) => err_value(&e),
    }
}

fn write_probe(path: &str) -> Value {
    match fs::File::create(path).and_then(|mut f| f.write_all(b"x")) {
        Ok(()) => json!({"ok": true}),
        Err(e) => err_value(&e),
    }
}

fn mkdir_probe(path: &str) -> Value {
    match fs::create_dir(path) {
        Ok(()) => json!({"ok": true}),
        Err(e) => err_value(&e),
    }
}

fn ls(path: &str) -> Value {
    match fs::read_dir(path) {
        Ok(rd) => {
            let mut names: Vec<String> = rd
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            json!({"ok": true, "names": names})
        }
        Err(e) => err_value(&e),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut probes: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    let mut i = 1;
    while i < args.len() {
        let (kind, path) = (args[i].as_str(), args.get(i + 1));
        let Some(path) = path else { break };
        let v = match kind {
            "--stat" => stat_path(path, true),
            "--lstat" => stat_path(path, false),
            "--read" => read_probe(path),
            "--write" => write_probe(path),
            "--mkdir" => mkdir_probe(path),
            "--ls" => ls(path),
            _ => {
                i += 1;
                continue;
            }
        };
        probes
            .entry(kind.trim_start_matches('-'))
            .or_default()
            .insert(path.clone(), v);
        i += 2;
    }
    let s = status();
    let uids = ids(&s, "Uid");
    let gids = ids(&s, "Gid");
    let st = stat_fields();
    let field = |n: usize| st.get(n - 3).and_then(|v| v.parse::<i64>().ok());
    let env: Vec<String> = std::env::vars_os()
        .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
        .collect();
    let mut facts = json!({
        "pid": std::process::id(),
        "ppid": field(4),
        "args": args,
        "env": env,
        "cwd": std::env::current_dir().map_or(Value::Null, |p| json!(p.to_string_lossy())),
        "uid": uids.first(), "euid": uids.get(1),
        "gid": gids.first(), "egid": gids.get(1),
        "groups": ids(&s, "Groups"),
        "umask": s.get("Umask").and_then(|u| u64::from_str_radix(u, 8).ok()),
        "caps": {
            "inheritable": hex(&s, "CapInh"), "permitted": hex(&s, "CapPrm"),
            "effective": hex(&s, "CapEff"), "bounding": hex(&s, "CapBnd"),
            "ambient": hex(&s, "CapAmb"),
        },
        "no_new_privs": s.get("NoNewPrivs").and_then(|v| v.parse::<u64>().ok()),
        "seccomp": s.get("Seccomp").and_then(|v| v.parse::<u64>().ok()),
        "seccomp_filters": s.get("Seccomp_filters").and_then(|v| v.parse::<u64>().ok()),
        "hostname": trimmed("/proc/sys/kernel/hostname"),
        "domainname": trimmed("/proc/sys/kernel/domainname"),
        "oom_score_adj": read("/proc/self/oom_score_adj").and_then(|v| v.trim().parse::<i64>().ok()),
        "rlimits": rlimits(),
        "namespaces": namespaces(),
        "uid_map": trimmed("/proc/self/uid_map"),
        "gid_map": trimmed("/proc/self/gid_map"),
        "timens_offsets": trimmed("/proc/self/timens_offsets"),
        "cgroup": trimmed("/proc/self/cgroup"),
        "mountinfo": read("/proc/self/mountinfo").unwrap_or_default().lines().collect::<Vec<_>>(),
        "fds": fds(),
        "personality": read("/proc/self/personality").and_then(|v| u64::from_str_radix(v.trim(), 16).ok()),
        "nice": field(19),
        "rt_priority": field(40),
        "policy": field(41),
        "numa_policy": read("/proc/self/numa_maps")
            .and_then(|t| t.lines().next().and_then(|l| l.split_whitespace().nth(1)).map(str::to_string)),
        "apparmor": trimmed("/proc/self/attr/apparmor/current"),
        "attr_current": trimmed("/proc/self/attr/current"),
    });
    for (k, v) in probes {
        facts[k] = Value::Object(v);
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{facts}");
}
