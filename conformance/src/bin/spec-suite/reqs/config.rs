//! config.md: root, mounts, process, hostname, extensibility, valid values.

use std::fs;

use conformance::Bundle;
use serde_json::{json, Value};

use super::{req, Req};
use crate::t::{add_mount, cap_mask, ensure, fail, mount_at, mounts_at, parse_facts, skip, CHECKER, R, T};

pub fn reqs() -> Vec<Req> {
    vec![
        req!(
            "config.md/root-path-relative",
            "MUST",
            "a relative root.path is resolved against the bundle",
            root_relative
        ),
        req!(
            "config.md/root-path-absolute",
            "MUST",
            "an absolute root.path is used as is",
            root_absolute
        ),
        req!(
            "config.md/root-readonly",
            "MUST",
            "root.readonly=true makes the root filesystem read-only",
            root_readonly
        ),
        req!(
            "config.md/mounts-listed-order",
            "MUST",
            "mounts are mounted in the listed order",
            mounts_order
        ),
        req!(
            "config.md/mounts-relative-destination",
            "MUST",
            "a relative mount destination is interpreted relative to /",
            mounts_relative_dest
        ),
        req!(
            "config.md/mounts-bind-source-relative-to-bundle",
            "MUST",
            "a relative bind source is relative to the bundle",
            mounts_relative_source
        ),
        req!(
            "config.md/mount-option-ro",
            "MUST",
            "option `ro` makes the mount read-only",
            mount_ro
        ),
        req!(
            "config.md/mount-option-nosuid-nodev-noexec",
            "MUST",
            "options nosuid, nodev, noexec are applied",
            mount_nosuid
        ),
        req!(
            "config.md/mount-option-atime",
            "MUST",
            "options noatime / nodiratime / strictatime are applied",
            mount_atime
        ),
        req!(
            "config.md/mount-option-sync-dirsync",
            "MUST",
            "options sync and dirsync are applied",
            mount_sync
        ),
        req!(
            "config.md/mount-option-bind-rbind",
            "MUST",
            "bind does not, rbind does carry sub-mounts",
            mount_rbind
        ),
        req!(
            "config.md/mount-option-propagation",
            "MUST",
            "shared, slave, private, unbindable apply to bind mounts",
            mount_propagation
        ),
        req!(
            "config.md/mount-option-recursive-ro",
            "SHOULD",
            "option `rro` makes sub-mounts read-only too",
            mount_rro
        ),
        req!(
            "config.md/mount-option-nosymfollow",
            "SHOULD",
            "option nosymfollow is applied",
            mount_nosymfollow
        ),
        req!(
            "config.md/mount-option-filesystem-specific",
            "SHOULD",
            "unknown options are passed as filesystem data (tmpfs mode=, size=)",
            mount_fs_specific
        ),
        req!(
            "config.md/process-args",
            "MUST",
            "process.args is the argv of the program",
            process_args
        ),
        req!(
            "config.md/process-args-path-lookup",
            "MUST",
            "args[0] is looked up like execvp's file (PATH from process.env)",
            process_args_path
        ),
        req!(
            "config.md/process-cwd",
            "MUST",
            "the program runs in process.cwd",
            process_cwd
        ),
        req!(
            "config.md/process-env",
            "MUST",
            "the program gets process.env as its environment",
            process_env
        ),
        req!(
            "config.md/process-terminal",
            "MUST",
            "terminal=true gives the process a pseudoterminal on its standard streams",
            process_terminal
        ),
        req!(
            "config.md/process-console-size-ignored",
            "MUST",
            "consoleSize is ignored when terminal is false",
            console_size_ignored
        ),
        req!(
            "config.md/rlimits-applied",
            "MUST",
            "each rlimit's soft and hard values match getrlimit in the container",
            rlimits
        ),
        req!(
            "config.md/rlimits-invalid-type-fails",
            "MUST",
            "an rlimit type that maps to no kernel limit is an error",
            rlimits_invalid
        ),
        req!(
            "config.md/rlimits-duplicate-fails",
            "MUST",
            "duplicate rlimit types are an error",
            rlimits_duplicate
        ),
        req!(
            "config.md/capabilities-bounding",
            "MUST",
            "the bounding set is exactly capabilities.bounding",
            |t| caps(t, "bounding")
        ),
        req!(
            "config.md/capabilities-effective",
            "MUST",
            "the effective set is exactly capabilities.effective",
            |t| caps(t, "effective")
        ),
        req!(
            "config.md/capabilities-permitted",
            "MUST",
            "the permitted set is exactly capabilities.permitted",
            |t| caps(t, "permitted")
        ),
        req!(
            "config.md/capabilities-inheritable",
            "MUST",
            "the inheritable set is exactly capabilities.inheritable",
            |t| caps(t, "inheritable")
        ),
        req!(
            "config.md/capabilities-ambient",
            "MUST",
            "the ambient set is exactly capabilities.ambient",
            |t| caps(t, "ambient")
        ),
        req!(
            "config.md/capabilities-unknown-not-fatal",
            "SHOULD",
            "an unknown capability is a warning, not a failure",
            caps_unknown
        ),
        req!(
            "config.md/capabilities-ungrantable-not-fatal",
            "SHOULD",
            "a capability that cannot be granted (CAP_SYS_RESOURCE here) is a warning, not a failure",
            caps_ungrantable
        ),
        req!(
            "config.md/no-new-privileges",
            "MUST",
            "noNewPrivileges=true sets no_new_privs",
            |t| nnp(t, true)
        ),
        req!(
            "config.md/no-new-privileges-unset",
            "MUST",
            "without noNewPrivileges no_new_privs stays off",
            |t| nnp(t, false)
        ),
        req!(
            "config.md/oom-score-adj",
            "MUST",
            "oomScoreAdj sets oom_score_adj",
            oom_set
        ),
        req!(
            "config.md/oom-score-adj-unset",
            "MUST",
            "without oomScoreAdj oom_score_adj is not changed",
            oom_unset
        ),
        req!(
            "config.md/scheduler",
            "MUST",
            "process.scheduler sets policy and nice",
            scheduler
        ),
        req!(
            "config.md/io-priority",
            "MUST",
            "process.ioPriority sets the I/O class and level",
            io_priority
        ),
        req!(
            "config.md/user-uid-gid",
            "MUST",
            "the process runs as user.uid / user.gid",
            user_ids
        ),
        req!(
            "config.md/user-additional-gids",
            "MUST",
            "user.additionalGids are the supplementary groups",
            additional_gids
        ),
        req!(
            "config.md/user-umask",
            "MUST",
            "user.umask is the process's umask",
            umask
        ),
        req!(
            "config.md/hostname",
            "MUST",
            "hostname is the hostname seen in the container",
            hostname
        ),
        req!(
            "config.md/domainname",
            "MUST",
            "domainname is the NIS domain name seen in the container",
            domainname
        ),
        req!(
            "config.md/apparmor-profile",
            "MUST",
            "apparmorProfile is applied to the process",
            apparmor
        ),
        req!(
            "config.md/selinux-label",
            "MUST",
            "selinuxLabel is applied to the process",
            selinux
        ),
        req!(
            "config.md/unknown-properties-ignored",
            "MUST",
            "unknown properties (top level, process, linux) are ignored",
            unknown_props
        ),
        req!(
            "config.md/unknown-annotations-ignored",
            "MUST",
            "unknown annotation keys are handled like unknown properties",
            unknown_annotations
        ),
        req!(
            "config.md/invalid-values-fail",
            "MUST",
            "invalid values (an unknown namespace type) are an error",
            invalid_values
        ),
    ]
}

fn root_relative(t: &T) -> R {
    let mut b = t.bundle();
    fs::rename(b.rootfs(), b.path().join("other-root")).unwrap();
    b.config_mut()["root"]["path"] = json!("other-root");
    let f = t.facts(&mut b, &[])?;
    ensure!(f["cwd"] == "/", "cwd {}", f["cwd"]);
    Ok(())
}

fn root_absolute(t: &T) -> R {
    let mut b = t.bundle();
    let abs = b.rootfs();
    b.config_mut()["root"]["path"] = json!(abs);
    t.facts(&mut b, &[]).map(|_| ())
}

fn root_readonly(t: &T) -> R {
    let mut b = t.bundle();
    b.config_mut()["root"]["readonly"] = json!(true);
    let f = t.facts(&mut b, &["--write", "/ro-probe"])?;
    let w = &f["write"]["/ro-probe"];
    ensure!(w["errno"] == libc::EROFS, "writing / gave {w}, want EROFS");
    Ok(())
}

fn tmpfs(dest: &str, opts: &[&str]) -> Value {
    json!({"destination": dest, "type": "tmpfs", "source": "tmpfs", "options": opts})
}

fn mounts_order(t: &T) -> R {
    let mut b = t.bundle();
    add_mount(&mut b, tmpfs("/m", &["size=1m"]));
    add_mount(&mut b, tmpfs("/m/inner", &["size=2m"]));
    add_mount(&mut b, tmpfs("/m", &["size=3m"]));
    let f = t.facts(&mut b, &["--stat", "/m/inner"])?;
    let m = mounts_at(&f, "/m");
    ensure!(m.len() == 2, "mounts at /m: {m:?}");
    ensure!(
        m[0].contains("size=1024k") && m[1].contains("size=3072k"),
        "mounts at /m in wrong order: {m:?}"
    );
    ensure!(mounts_at(&f, "/m/inner").len() == 1, "no /m/inner mount");
    // The last mount hides /m/inner: listed order, not sorted by path.
    ensure!(
        f["stat"]["/m/inner"]["ok"] == false,
        "/m/inner is visible: mounted after the second /m?"
    );
    Ok(())
}

fn mounts_relative_dest(t: &T) -> R {
    let mut b = t.bundle();
    add_mount(&mut b, tmpfs("rel-dest", &["size=1m"]));
    let f = t.facts(&mut b, &[])?;
    ensure!(mounts_at(&f, "/rel-dest").len() == 1, "no mount at /rel-dest");
    Ok(())
}

fn mounts_relative_source(t: &T) -> R {
    let mut b = t.bundle();
    fs::create_dir(b.path().join("data")).unwrap();
    fs::write(b.path().join("data/marker"), "m").unwrap();
    add_mount(
        &mut b,
        json!({"destination": "/data", "type": "bind", "source": "data", "options": ["rbind"]}),
    );
    let f = t.facts(&mut b, &["--stat", "/data/marker"])?;
    ensure!(
        f["stat"]["/data/marker"]["ok"] == true,
        "the bundle's data/marker is not at /data/marker"
    );
    Ok(())
}

fn mount_ro(t: &T) -> R {
    let mut b = t.bundle();
    add_mount(&mut b, tmpfs("/m", &["ro"]));
    let f = t.facts(&mut b, &["--write", "/m/x"])?;
    ensure!(
        f["write"]["/m/x"]["errno"] == libc::EROFS,
        "write gave {}",
        f["write"]["/m/x"]
    );
    Ok(())
}

fn opts_of(f: &Value, point: &str) -> Result<Vec<String>, crate::t::Why> {
    match mount_at(f, point) {
        Some((o, _, _, s)) => Ok(o.into_iter().chain(s).collect()),
        None => fail(format!("no mount at {point}")),
    }
}

fn mount_nosuid(t: &T) -> R {
    let mut b = t.bundle();
    add_mount(&mut b, tmpfs("/m", &["nosuid", "nodev", "noexec"]));
    let f = t.facts(&mut b, &[])?;
    let o = opts_of(&f, "/m")?;
    for w in ["nosuid", "nodev", "noexec"] {
        ensure!(o.iter().any(|x| x == w), "{w} missing: {o:?}");
    }
    Ok(())
}

fn mount_atime(t: &T) -> R {
    let mut b = t.bundle();
    add_mount(&mut b, tmpfs("/a", &["noatime", "nodiratime"]));
    add_mount(&mut b, tmpfs("/s", &["strictatime"]));
    let f = t.facts(&mut b, &[])?;
    let a = opts_of(&f, "/a")?;
    ensure!(
        a.iter().any(|x| x == "noatime") && a.iter().any(|x| x == "nodiratime"),
        "/a: {a:?}"
    );
    let s = opts_of(&f, "/s")?;
    ensure!(
        !s.iter().any(|x| x == "relatime" || x == "noatime"),
        "/s (strictatime): {s:?}"
    );
    Ok(())
}

fn mount_sync(t: &T) -> R {
    let mut b = t.bundle();
    add_mount(&mut b, tmpfs("/m", &["sync", "dirsync"]));
    let f = t.facts(&mut b, &[])?;
    let o = opts_of(&f, "/m")?;
    ensure!(
        o.iter().any(|x| x == "sync") && o.iter().any(|x| x == "dirsync"),
        "{o:?}"
    );
    Ok(())
}

/// A host directory with a tmpfs mounted on `sub` (in the suite's mount namespace).
struct Nested {
    dir: std::path::PathBuf,
}
impl Nested {
    fn new(t: &T) -> Nested {
        let dir = t.dir("nested");
        fs::create_dir(dir.join("sub")).unwrap();
        nix::mount::mount(
            Some("tmpfs"),
            &dir.join("sub"),
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            Some("size=1m"),
        )
        .expect("mount tmpfs on sub");
        fs::write(dir.join("sub/inner"), "x").unwrap();
        Nested { dir }
    }
}
impl Drop for Nested {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.dir.join("sub"), nix::mount::MntFlags::MNT_DETACH);
    }
}

fn mount_rbind(t: &T) -> R {
    let n = Nested::new(t);
    let mut b = t.bundle();
    add_mount(
        &mut b,
        json!({"destination": "/b", "type": "bind", "source": n.dir, "options": ["bind"]}),
    );
    add_mount(
        &mut b,
        json!({"destination": "/r", "type": "bind", "source": n.dir, "options": ["rbind"]}),
    );
    let f = t.facts(&mut b, &["--stat", "/b/sub/inner", "--stat", "/r/sub/inner"])?;
    ensure!(f["stat"]["/b/sub/inner"]["ok"] == false, "bind carried the sub-mount");
    ensure!(
        f["stat"]["/r/sub/inner"]["ok"] == true,
        "rbind did not carry the sub-mount"
    );
    Ok(())
}

fn mount_propagation(t: &T) -> R {
    let mut b = t.bundle();
    // The source is a shared mount (bound on itself in the suite's mount namespace), so that
    // a slave copy has a master to follow.
    let src = t.dir("prop");
    let _shared = SharedDir::new(&src);
    for (d, o) in [
        ("/p-shared", "shared"),
        ("/p-slave", "slave"),
        ("/p-private", "private"),
        ("/p-unbind", "unbindable"),
    ] {
        add_mount(
            &mut b,
            json!({"destination": d, "type": "bind", "source": src, "options": ["rbind", o]}),
        );
    }
    let f = t.facts(&mut b, &[])?;
    let opt = |p: &str| mount_at(&f, p).map(|(_, o, _, _)| o).unwrap_or_default();
    let has = |p: &str, pre: &str| opt(p).iter().any(|o| o.starts_with(pre));
    ensure!(
        has("/p-shared", "shared:"),
        "/p-shared optional fields {:?}",
        opt("/p-shared")
    );
    ensure!(
        has("/p-slave", "master:") && !has("/p-slave", "shared:"),
        "/p-slave optional fields {:?}",
        opt("/p-slave")
    );
    ensure!(
        opt("/p-private").is_empty(),
        "/p-private optional fields {:?}",
        opt("/p-private")
    );
    ensure!(
        has("/p-unbind", "unbindable"),
        "/p-unbind optional fields {:?}",
        opt("/p-unbind")
    );
    Ok(())
}

/// `dir` bind-mounted on itself and made shared; undone on drop.
struct SharedDir(std::path::PathBuf);
impl SharedDir {
    fn new(dir: &std::path::Path) -> SharedDir {
        use nix::mount::{mount, MsFlags};
        mount(Some(dir), dir, None::<&str>, MsFlags::MS_BIND, None::<&str>).expect("bind dir");
        mount(None::<&str>, dir, None::<&str>, MsFlags::MS_SHARED, None::<&str>).expect("make dir shared");
        SharedDir(dir.to_path_buf())
    }
}
impl Drop for SharedDir {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
    }
}

fn mount_rro(t: &T) -> R {
    let n = Nested::new(t);
    let mut b = t.bundle();
    add_mount(
        &mut b,
        json!({"destination": "/r", "type": "bind", "source": n.dir, "options": ["rbind", "rro"]}),
    );
    let f = t.facts(&mut b, &["--write", "/r/sub/new"])?;
    ensure!(
        f["write"]["/r/sub/new"]["errno"] == libc::EROFS,
        "sub-mount write gave {}",
        f["write"]["/r/sub/new"]
    );
    Ok(())
}

fn mount_nosymfollow(t: &T) -> R {
    let mut b = t.bundle();
    add_mount(&mut b, tmpfs("/m", &["nosymfollow"]));
    let f = t.facts(&mut b, &[])?;
    let o = opts_of(&f, "/m")?;
    ensure!(o.iter().any(|x| x == "nosymfollow"), "{o:?}");
    Ok(())
}

fn mount_fs_specific(t: &T) -> R {
    let mut b = t.bundle();
    add_mount(&mut b, tmpfs("/m", &["mode=700", "size=2m"]));
    let f = t.facts(&mut b, &["--stat", "/m"])?;
    ensure!(f["stat"]["/m"]["mode"] == 0o700, "mode {}", f["stat"]["/m"]["mode"]);
    let o = opts_of(&f, "/m")?;
    ensure!(o.iter().any(|x| x == "size=2048k"), "{o:?}");
    Ok(())
}

fn process_args(t: &T) -> R {
    let mut b = t.bundle();
    let f = t.facts(&mut b, &["--ls", "/", "two words", ""])?;
    ensure!(
        f["args"] == json!([CHECKER, "--ls", "/", "two words", ""]),
        "argv {}",
        f["args"]
    );
    Ok(())
}

fn process_args_path(t: &T) -> R {
    let mut b = t.bundle();
    b.args(&["spec-checker"]);
    b.config_mut()["process"]["env"] = json!(["PATH=/nonexistent:/bin"]);
    let out = t.run(&b, "facts");
    let f = parse_facts(&out)?;
    ensure!(f["args"][0] == "spec-checker", "argv {}", f["args"]);
    Ok(())
}

fn process_cwd(t: &T) -> R {
    let mut b = t.bundle();
    fs::create_dir_all(b.rootfs_path("work/dir")).unwrap();
    b.config_mut()["process"]["cwd"] = json!("/work/dir");
    let f = t.facts(&mut b, &[])?;
    ensure!(f["cwd"] == "/work/dir", "cwd {}", f["cwd"]);
    Ok(())
}

fn process_env(t: &T) -> R {
    let mut b = t.bundle();
    let env = ["PATH=/bin", "A=1", "B=with space", "EMPTY="];
    b.config_mut()["process"]["env"] = json!(env);
    let f = t.facts(&mut b, &[])?;
    let got: Vec<&str> = f["env"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for e in env {
        ensure!(got.contains(&e), "{e:?} missing from {got:?}");
    }
    let extra: Vec<&&str> = got
        .iter()
        .filter(|e| !env.contains(e) && !e.starts_with("HOME="))
        .collect();
    ensure!(extra.is_empty(), "extra variables {extra:?}");
    Ok(())
}

fn process_terminal(t: &T) -> R {
    use conformance::console::{receive_console_message, ConsoleSocket};
    let mut b = t.sh_bundle("test -t 0 && test -t 1 && test -t 2 && touch /tty-ok");
    b.terminal(true);
    let sock_path = t.ctx.scratch("console.sock");
    let sock = ConsoleSocket::bind(&sock_path).expect("bind console socket");
    let out = t.ctx.create_with(&b, "c1", &["--console-socket", sock.path_str()]);
    ensure!(
        out.ok(),
        "create with a terminal failed: {}",
        crate::t::runtime_error(&out)
    );
    let mut stream = None;
    conformance::wait_until(std::time::Duration::from_secs(5), || {
        stream = sock.accept_pending().ok().flatten();
        stream.is_some()
    });
    let Some(stream) = stream else {
        return fail("no connection on the console socket");
    };
    let msg = receive_console_message(&stream, std::time::Duration::from_secs(5))
        .map_err(|e| crate::t::Why::Fail(format!("console message: {e}")))?;
    t.ctx.start_ok("c1");
    t.wait_stopped("c1")?;
    drop(msg);
    ensure!(
        b.rootfs_path("tty-ok").exists(),
        "stdin/stdout/stderr are not a terminal"
    );
    Ok(())
}

fn console_size_ignored(t: &T) -> R {
    let mut b = t.bundle();
    b.config_mut()["process"]["consoleSize"] = json!({"height": 10, "width": 20});
    t.facts(&mut b, &[]).map(|_| ())
}

fn rlimits(t: &T) -> R {
    let mut b = t.bundle();
    b.config_mut()["process"]["rlimits"] = json!([
        {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1000},
        {"type": "RLIMIT_CORE", "soft": 4096, "hard": 8192},
        {"type": "RLIMIT_NPROC", "soft": 300, "hard": 400},
        {"type": "RLIMIT_MSGQUEUE", "soft": 8192, "hard": 16384},
    ]);
    let f = t.facts(&mut b, &[])?;
    for (k, s, h) in [
        ("RLIMIT_NOFILE", 512, 1000),
        ("RLIMIT_CORE", 4096, 8192),
        ("RLIMIT_NPROC", 300, 400),
        ("RLIMIT_MSGQUEUE", 8192, 16384),
    ] {
        ensure!(
            f["rlimits"][k] == json!([s, h]),
            "{k}: {} want [{s},{h}]",
            f["rlimits"][k]
        );
    }
    Ok(())
}

fn rlimits_invalid(t: &T) -> R {
    let mut b = t.bundle();
    b.config_mut()["process"]["rlimits"] = json!([{"type": "RLIMIT_NOSUCH", "soft": 1, "hard": 1}]);
    t.refused(&b, "rlimit type RLIMIT_NOSUCH does not exist")
}

fn rlimits_duplicate(t: &T) -> R {
    let mut b = t.bundle();
    b.config_mut()["process"]["rlimits"] = json!([
        {"type": "RLIMIT_NOFILE", "soft": 100, "hard": 100},
        {"type": "RLIMIT_NOFILE", "soft": 200, "hard": 200},
    ]);
    t.refused(&b, "RLIMIT_NOFILE is given twice")
}

fn caps(t: &T, set: &str) -> R {
    // After execve the kernel recomputes the sets: for root, permitted = effective =
    // inheritable | bounding; for other users only the ambient set survives. So every set
    // gets the same list (as runtime-tools does), and ambient is checked as a non-root user.
    let mut b = t.bundle();
    let caps = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
    b.config_mut()["process"]["capabilities"] = json!({
        "bounding": caps, "effective": caps, "permitted": caps, "inheritable": caps, "ambient": caps,
    });
    if set == "ambient" {
        b.config_mut()["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    }
    let f = t.facts(&mut b, &[])?;
    let want = cap_mask(&caps);
    let got = f["caps"][set].as_u64().unwrap_or(u64::MAX);
    ensure!(got == want, "{set} = {got:#x}, want {want:#x}");
    if set == "ambient" {
        let eff = f["caps"]["effective"].as_u64().unwrap_or(0);
        ensure!(
            eff == want,
            "effective of a non-root user with ambient caps = {eff:#x}, want {want:#x}"
        );
    }
    Ok(())
}

fn caps_unknown(t: &T) -> R {
    let mut b = t.bundle();
    let caps = json!(["CAP_KILL", "CAP_NO_SUCH_CAPABILITY"]);
    b.config_mut()["process"]["capabilities"] = json!({"bounding": caps, "effective": caps, "permitted": caps});
    let f = t.facts(&mut b, &[])?;
    ensure!(
        f["caps"]["effective"] == cap_mask(&["CAP_KILL"]),
        "effective {}",
        f["caps"]["effective"]
    );
    Ok(())
}

fn caps_ungrantable(t: &T) -> R {
    let host = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let bnd = host
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    if bnd & cap_mask(&["CAP_SYS_RESOURCE"]) != 0 {
        return skip("CAP_SYS_RESOURCE is in this machine's bounding set: nothing ungrantable to ask for");
    }
    let mut b = t.bundle();
    let caps = json!(["CAP_KILL", "CAP_SYS_RESOURCE"]);
    b.config_mut()["process"]["capabilities"] = json!({"bounding": caps, "effective": caps, "permitted": caps});
    let f = t.facts(&mut b, &[])?;
    ensure!(
        f["caps"]["effective"].as_u64().unwrap_or(0) & cap_mask(&["CAP_KILL"]) != 0,
        "CAP_KILL missing"
    );
    Ok(())
}

fn nnp(t: &T, on: bool) -> R {
    let mut b = t.bundle();
    if on {
        b.config_mut()["process"]["noNewPrivileges"] = json!(true);
    } else {
        b.config_mut()["process"]
            .as_object_mut()
            .unwrap()
            .remove("noNewPrivileges");
    }
    let f = t.facts(&mut b, &[])?;
    ensure!(f["no_new_privs"] == u64::from(on), "NoNewPrivs {}", f["no_new_privs"]);
    Ok(())
}

fn oom_set(t: &T) -> R {
    let mut b = t.bundle();
    b.config_mut()["process"]["oomScoreAdj"] = json!(123);
    let f = t.facts(&mut b, &[])?;
    ensure!(f["oom_score_adj"] == 123, "oom_score_adj {}", f["oom_score_adj"]);
    Ok(())
}

fn oom_unset(t: &T) -> R {
    let ours: i64 = fs::read_to_string("/proc/self/oom_score_adj")
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or(0);
    let mut b = t.bundle();
    let f = t.facts(&mut b, &[])?;
    ensure!(
        f["oom_score_adj"] == ours,
        "oom_score_adj {} (the caller's is {ours})",
        f["oom_score_adj"]
    );
    Ok(())
}

fn scheduler(t: &T) -> R {
    let mut b = t.bundle();
    b.config_mut()["process"]["scheduler"] = json!({"policy": "SCHED_BATCH", "nice": 7});
    let f = t.facts(&mut b, &[])?;
    ensure!(
        f["policy"] == 3 && f["nice"] == 7,
        "policy {} nice {} (want SCHED_BATCH=3, 7)",
        f["policy"],
        f["nice"]
    );
    Ok(())
}

fn io_priority(t: &T) -> R {
    let mut b = t.sh_bundle("ionice > /ionice");
    b.config_mut()["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_BE", "priority": 6});
    let out = t.run(&b, "c1");
    ensure!(out.ok(), "run failed: {}", crate::t::runtime_error(&out));
    let got = fs::read_to_string(b.rootfs_path("ionice")).unwrap_or_default();
    ensure!(
        got.contains("best-effort") && got.contains('6'),
        "ionice says {got:?}, want best-effort 6"
    );
    Ok(())
}

fn user_bundle(t: &T) -> Bundle {
    let mut b = t.bundle();
    b.config_mut()["process"]["user"] =
        json!({"uid": 1234, "gid": 2345, "additionalGids": [3456, 4567], "umask": 0o027});
    b
}

fn user_ids(t: &T) -> R {
    let mut b = user_bundle(t);
    let f = t.facts(&mut b, &[])?;
    ensure!(
        f["uid"] == 1234 && f["euid"] == 1234,
        "uid {} euid {}",
        f["uid"],
        f["euid"]
    );
    ensure!(
        f["gid"] == 2345 && f["egid"] == 2345,
        "gid {} egid {}",
        f["gid"],
        f["egid"]
    );
    Ok(())
}

fn additional_gids(t: &T) -> R {
    let mut b = user_bundle(t);
    let f = t.facts(&mut b, &[])?;
    let mut g: Vec<u64> = f["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    g.sort();
    g.retain(|x| *x != 2345);
    ensure!(g == [3456, 4567], "groups {}", f["groups"]);
    Ok(())
}

fn umask(t: &T) -> R {
    let mut b = user_bundle(t);
    let f = t.facts(&mut b, &[])?;
    ensure!(
        f["umask"] == 0o027,
        "umask {:?}",
        f["umask"].as_u64().map(|u| format!("{u:o}"))
    );
    Ok(())
}

fn hostname(t: &T) -> R {
    let mut b = t.bundle();
    b.config_mut()["hostname"] = json!("spec-host");
    let f = t.facts(&mut b, &[])?;
    ensure!(f["hostname"] == "spec-host", "hostname {}", f["hostname"]);
    Ok(())
}

fn domainname(t: &T) -> R {
    let mut b = t.bundle();
    b.config_mut()["domainname"] = json!("spec.example");
    let f = t.facts(&mut b, &[])?;
    ensure!(f["domainname"] == "spec.example", "domainname {}", f["domainname"]);
    Ok(())
}

fn lsm_active(name: &str) -> bool {
    fs::read_to_string("/sys/kernel/security/lsm").is_ok_and(|l| l.split(',').any(|x| x == name))
}

fn apparmor(t: &T) -> R {
    if !lsm_active("apparmor") {
        return skip("AppArmor is not active on this machine (/sys/kernel/security/lsm)");
    }
    let mut b = t.bundle();
    b.config_mut()["process"]["apparmorProfile"] = json!("unconfined");
    let f = t.facts(&mut b, &[])?;
    ensure!(
        f["apparmor"].as_str().is_some_and(|s| s.starts_with("unconfined")),
        "apparmor attr {}",
        f["apparmor"]
    );
    Ok(())
}

fn selinux(t: &T) -> R {
    if !lsm_active("selinux") {
        return skip("SELinux is not active on this machine (/sys/kernel/security/lsm)");
    }
    let mut b = t.bundle();
    b.config_mut()["process"]["selinuxLabel"] = json!("system_u:system_r:container_t:s0");
    let f = t.facts(&mut b, &[])?;
    ensure!(
        f["attr_current"] == "system_u:system_r:container_t:s0",
        "label {}",
        f["attr_current"]
    );
    Ok(())
}

fn unknown_props(t: &T) -> R {
    let mut b = t.bundle();
    let c = b.config_mut();
    c["org.example.unknownTop"] = json!({"x": 1});
    c["process"]["org.example.unknownProcess"] = json!([1, 2]);
    c["linux"]["org.example.unknownLinux"] = json!("v");
    c["root"]["org.example.unknownRoot"] = json!(true);
    t.facts(&mut b, &[]).map(|_| ())
}

fn unknown_annotations(t: &T) -> R {
    let mut b = t.bundle();
    b.annotations(&[("org.example.some-key", "v"), ("com.example.other", "")]);
    t.facts(&mut b, &[]).map(|_| ())
}

fn invalid_values(t: &T) -> R {
    let mut b = t.bundle();
    b.config_mut()["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "no-such-namespace"}));
    t.refused(&b, "a namespace type is invalid")
}
