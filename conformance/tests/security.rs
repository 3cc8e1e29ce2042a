//! Security regressions: one test per class of container escape known from runc, crun and
//! youki history (issue 7), plus the seccomp profiles users actually run and the LSM labels.
//! Each test names its class and the public CVE. They run against any runtime (RUNTIME=runc,
//! RUNTIME=crun): a failure there is a finding about that runtime, not a test bug (see the
//! README's Security section for what runc 1.1.5 and crun 1.8.1 do).
//!
//! Nothing here writes to a host object on purpose: an escape is detected by what the
//! container can see or open (a host directory staying empty, a file keeping its content,
//! a device keeping its owner), never by carrying it out against the host.

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use conformance::{
    announce, require_binary, require_root, wait_until, Bundle, RunOutput, Runtime, RuntimeKind, TestCtx,
};
use serde_json::{json, Value};

const T10: Duration = Duration::from_secs(10);
const T30: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// helpers

fn run_ct(ctx: &TestCtx, b: &Bundle, id: &str) -> RunOutput {
    b.save();
    ctx.cmd(&["run", "--bundle", b.dir_str(), id]).timeout(T30).run()
}

#[track_caller]
fn run_ok(ctx: &TestCtx, b: &Bundle, id: &str) -> String {
    let out = run_ct(ctx, b, id);
    out.assert_ok();
    out.stdout
}

fn sh_bundle(ctx: &TestCtx, script: &str) -> Bundle {
    ctx.bundle(&["sh", "-c", script])
}

#[track_caller]
fn field(out: &str, key: &str) -> String {
    let prefix = format!("{key}=");
    out.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no `{key}=` line in the container's output:\n{out}"))
        .trim()
        .to_string()
}

fn add_mount(b: &mut Bundle, m: Value) {
    b.config_mut()["mounts"].as_array_mut().expect("mounts").push(m);
}

/// Drop the config's `/dev` tmpfs (devpts, shm and mqueue stay, mounted into the image's
/// `/dev`), so that the image's own `/dev` is used: the setting of the masked-path and
/// console attacks.
fn use_image_dev(b: &mut Bundle) {
    b.config_mut()["mounts"]
        .as_array_mut()
        .expect("mounts")
        .retain(|m| m["destination"] != "/dev");
}

/// A directory on the host, outside every rootfs, that must stay empty.
fn host_dir(ctx: &TestCtx, name: &str) -> PathBuf {
    let d = ctx.scratch(name);
    fs::create_dir_all(&d).unwrap();
    d
}

#[track_caller]
fn assert_empty_dir(d: &Path, what: &str) {
    let entries: Vec<_> = fs::read_dir(d)
        .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        entries.is_empty(),
        "{what}: the host directory {} was written through the container's rootfs: {entries:?}",
        d.display()
    );
}

fn sha(p: &Path) -> Vec<u8> {
    // Not a cryptographic need: the bytes themselves are compared.
    fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

/// A copy of the runtime under test, run instead of the original, so that a successful
/// attack on `/proc/<pid>/exe` can only damage the copy.
fn runtime_copy(ctx: &TestCtx) -> (Runtime, PathBuf) {
    let dir = ctx.scratch("bin");
    fs::create_dir_all(&dir).unwrap();
    let name = ctx.rt.binary.file_name().expect("binary name").to_owned();
    let copy = dir.join(name);
    fs::copy(&ctx.rt.binary, &copy).unwrap();
    fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).unwrap();
    let mut rt = ctx.rt.clone();
    match rt.kind {
        RuntimeKind::Crun => {
            rt.env.retain(|(k, _)| k != "CRUN");
            rt.env.push(("CRUN".into(), copy.display().to_string()));
        }
        _ => rt.program = copy.clone(),
    }
    rt.binary = copy.clone();
    (rt, copy)
}

// ---------------------------------------------------------------------------------------------
// 1. CVE-2019-5736 class: overwriting the runtime binary through /proc/<pid>/exe of a runtime
//    process that has not exec'd yet (the waiting init during create, an exec'd process).

// Checked to fail: without PR_SET_DUMPABLE 0 in the children (init.rs) the attacker opened
// /proc/1/exe, wrote after `start`, and the copy of the binary changed.
#[test]
fn c1_runtime_binary_not_writable_through_proc_exe() {
    if !require_root() {
        return;
    }
    let Some(base) = TestCtx::new("sec1-base") else { return };
    let (rt, copy) = runtime_copy(&base);
    let before = sha(&copy);
    let ctx = TestCtx::with_runtime("sec1-exe", rt);

    // During create: the init waits for `start` with the runtime as its executable. A
    // process exec'd into the created container tries to hold /proc/1/exe open and write
    // through it once nothing executes the binary any more.
    let b = ctx.bundle(&["sleep", "1000"]);
    ctx.create_ok(&b, "sec1-create");
    let script = "if ( exec 3</proc/1/exe ) 2>/dev/null; then \
                    exec 3</proc/1/exe; echo opened > /tmp/r1; \
                    while [ ! -e /tmp/go ]; do sleep 0.1; done; \
                    if echo PWNED >> /proc/self/fd/3; then echo wrote > /tmp/r2; else echo write-failed > /tmp/r2; fi; \
                  else echo denied > /tmp/r1; echo none > /tmp/r2; fi";
    ctx.run(&["exec", "-d", "sec1-create", "sh", "-c", script]).assert_ok();
    let r1 = b.rootfs_path("tmp/r1");
    assert!(
        wait_until(T10, || fs::read_to_string(&r1).is_ok_and(|s| s.ends_with('\n'))),
        "the exec'd attacker never reported"
    );
    ctx.start_ok("sec1-create");
    fs::write(b.rootfs_path("tmp/go"), "").unwrap();
    let r2 = b.rootfs_path("tmp/r2");
    assert!(
        wait_until(T10, || fs::read_to_string(&r2).is_ok_and(|s| s.ends_with('\n'))),
        "the attacker never finished"
    );
    let r1 = fs::read_to_string(&r1).unwrap();
    let r2 = fs::read_to_string(&r2).unwrap();
    assert_eq!(
        sha(&copy),
        before,
        "the runtime binary was modified (r1={r1:?}, r2={r2:?})"
    );
    // Either the open is refused (a non-dumpable init) or what it opens cannot be written
    // (runc 1.1.5 runs from a sealed memfd copy of itself).
    assert!(
        r1.trim() == "denied" || r2.trim() == "write-failed",
        "a container process wrote through the waiting init's /proc/1/exe: r1={r1:?} r2={r2:?}"
    );
    ctx.run(&["kill", "sec1-create", "KILL"]).assert_ok();
    ctx.wait_status("sec1-create", "stopped", T10);

    // During exec: a watcher in the container looks at every process; one whose exe is not
    // busybox is a runtime process that has not exec'd yet. It must not be openable.
    let b = ctx.bundle(&["sleep", "1000"]);
    ctx.running(&b, "sec1-exec");
    let watcher = "while [ ! -e /tmp/stop ]; do for p in /proc/[0-9]*; do \
                     [ \"$p\" = /proc/$$ ] && continue; \
                     l=$(ls -l $p/exe 2>&1); \
                     case \"$l\" in *busybox*|*'No such file'*|'') ;; \
                       *'Permission denied'*) echo protected >> /tmp/seen ;; \
                       *) t=$( ( exec 3<$p/exe && readlink /proc/self/fd/3 ) 2>/dev/null ); \
                          case \"$t\" in ''|*busybox*) ;; *) echo \"opened $t\" >> /tmp/seen ;; esac ;; \
                     esac; done; done";
    ctx.run(&["exec", "-d", "sec1-exec", "sh", "-c", watcher]).assert_ok();
    let seen = b.rootfs_path("tmp/seen");
    let mut attempts = 0;
    while attempts < 300 && fs::read_to_string(&seen).unwrap_or_default().is_empty() {
        ctx.run(&["exec", "sec1-exec", "true"]).assert_ok();
        attempts += 1;
    }
    fs::write(b.rootfs_path("tmp/stop"), "").unwrap();
    let seen = fs::read_to_string(&seen).unwrap_or_default();
    assert_eq!(sha(&copy), before, "the runtime binary was modified");
    // Opening is harmless only when the exe is not the binary on the host (runc's memfd).
    let host_path = format!("opened {}", copy.display());
    assert!(
        !seen.lines().any(|l| l.starts_with(&host_path)),
        "a container process opened the runtime binary through a process being exec'd:\n{seen}"
    );
    assert!(
        seen.contains("protected") || seen.contains("opened"),
        "the watcher never saw an exec'd process before its exec in {attempts} execs: inconclusive"
    );
    announce(&format!(
        "NOTE: sec1: the watcher saw a protected pre-exec process after {attempts} exec(s)"
    ));
    ctx.run(&["kill", "sec1-exec", "KILL"]).assert_ok();
    ctx.wait_status("sec1-exec", "stopped", T10);
}

// ---------------------------------------------------------------------------------------------
// 2. CVE-2024-21626 class: a host fd (or cwd) leaked into the container gives access to the
//    host filesystem, e.g. through `process.cwd = /proc/self/fd/N`.

/// Whether the shell's cwd is inside the container's root: climbing `..` from a cwd outside
/// the root reaches the host's root, not the container's.
const CWD_SCRIPT: &str = "cd ../../../../../../../../../../..; \
     if [ \"$(stat -c %d:%i .)\" = \"$(stat -c %d:%i /)\" ]; then echo where=inside; else echo where=ESCAPED; fi";

/// The open fds of the container's processes running `sleep` (listed from another process,
/// so the lister's own fds do not count), one `pid: fds` line each.
const SLEEP_FDS: &str = "for p in $(pidof sleep); do echo \"$p: $(ls /proc/$p/fd | sort -n | tr '\\n' ' ')\"; done";

// Checked to fail: with a host directory fd (/sys/fs/cgroup, runc's leak) opened without
// O_CLOEXEC in the init and close_range(CLOEXEC) removed, pid 1 held `0 1 2 8`.
#[test]
fn c2_no_leaked_fds_and_cwd_stays_inside() {
    let Some(ctx) = TestCtx::new("sec2-fds") else { return };
    // The init (pid 1) and a detached exec'd process: only stdio each.
    let b = ctx.bundle(&["sleep", "1000"]);
    ctx.running(&b, "sec2-exec");
    ctx.run(&["exec", "-d", "sec2-exec", "sleep", "999"]).assert_ok();
    let out = ctx
        .cmd(&["exec", "sec2-exec", "sh", "-c", SLEEP_FDS])
        .timeout(T30)
        .run();
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "two sleeps expected:\n{}", out.describe());
    for l in lines {
        let (_, fds) = l.split_once(": ").unwrap();
        assert_eq!(
            fds.trim(),
            "0 1 2",
            "a container process holds more than stdio:\n{}",
            out.describe()
        );
    }
    let out = ctx
        .cmd(&["exec", "sec2-exec", "sh", "-c", CWD_SCRIPT])
        .timeout(T30)
        .run();
    out.assert_ok();
    assert_eq!(field(&out.stdout, "where"), "inside", "{}", out.describe());

    // A cwd through a (possibly leaked) fd: refused, or inside the root.
    for n in 3..=12 {
        let cwd = format!("/proc/self/fd/{n}");
        let out = ctx
            .cmd(&["exec", "--cwd", &cwd, "sec2-exec", "sh", "-c", CWD_SCRIPT])
            .timeout(T30)
            .run();
        assert!(
            !out.stdout.contains("ESCAPED"),
            "exec --cwd {cwd} reached the host:\n{}",
            out.describe()
        );
        let mut b = sh_bundle(&ctx, CWD_SCRIPT);
        b.config_mut()["process"]["cwd"] = json!(cwd);
        let out = run_ct(&ctx, &b, &format!("sec2-cwd{n}"));
        assert!(
            !out.stdout.contains("ESCAPED"),
            "process.cwd {cwd} reached the host:\n{}",
            out.describe()
        );
    }
    ctx.run(&["kill", "sec2-exec", "KILL"]).assert_ok();
    ctx.wait_status("sec2-exec", "stopped", T10);
}

// ---------------------------------------------------------------------------------------------
// 3. CVE-2021-30465 class: a mount destination through a symlink in the image must be
//    resolved inside the root: nothing is created or mounted outside it.

// Checked to fail: with RESOLVE_IN_ROOT dropped from the in-root opens (rootfs.rs),
// m1, m2 and b1 were created in the host directory.
#[test]
fn c3_mount_destination_symlinks_stay_inside() {
    let Some(ctx) = TestCtx::new("sec3-mnt") else { return };
    let host = host_dir(&ctx, "host-target");
    let src = host_dir(&ctx, "bind-source");
    fs::write(src.join("from-source"), "x").unwrap();
    let hs = host.display().to_string();
    let mut b = sh_bundle(
        &ctx,
        "awk '{print $5}' /proc/self/mountinfo | grep -E '/(m1|m2|b1)$' | sort | tr '\\n' ' '; echo; \
         ls /abs/b1/from-source",
    );
    let depth = "../".repeat(host.components().count() + 3);
    symlink(&host, b.rootfs_path("abs")).unwrap();
    symlink(format!("{depth}{}", hs.trim_start_matches('/')), b.rootfs_path("rel")).unwrap();
    add_mount(
        &mut b,
        json!({"destination": "/abs/m1", "type": "tmpfs", "source": "tmpfs"}),
    );
    add_mount(
        &mut b,
        json!({"destination": "/rel/m2", "type": "tmpfs", "source": "tmpfs"}),
    );
    add_mount(
        &mut b,
        json!({"destination": "/abs/b1", "type": "bind", "source": src, "options": ["rbind"]}),
    );
    let out = run_ct(&ctx, &b, "sec3");
    assert_empty_dir(&host, "mounts through /abs and /rel");
    if out.ok() {
        // Kept inside: the three mounts are at the in-root resolution of the symlinks.
        let want = format!("{hs}/b1 {hs}/m1 {hs}/m2");
        assert_eq!(
            out.stdout.lines().next().unwrap_or("").trim(),
            want,
            "{}",
            out.describe()
        );
        assert!(out.stdout.contains("/abs/b1/from-source"), "{}", out.describe());
        assert!(b.rootfs_path(hs.trim_start_matches('/')).is_dir());
    }
    assert_eq!(fs::read_dir(&src).unwrap().count(), 1, "the bind source changed");
}

// The same class with the race of CVE-2021-30465 itself: while containers are created, a
// thread keeps swapping the mount destination's parent between a real directory and a
// symlink to a host directory. Whatever the timing, nothing may land in the host directory.
// Checked to fail: with RESOLVE_IN_ROOT dropped from the in-root opens (rootfs.rs), the
// tmpfs mount point was created in the host directory within the first rounds.
#[test]
fn c3_mount_destination_swapped_during_setup_stays_inside() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let Some(ctx) = TestCtx::new("sec3-race") else { return };
    let host = host_dir(&ctx, "race-target");
    let mut b = sh_bundle(&ctx, "true");
    add_mount(
        &mut b,
        json!({"destination": "/swap/m", "type": "tmpfs", "source": "tmpfs"}),
    );
    b.save();
    let swap = b.rootfs_path("swap");
    let (dir, link) = (b.rootfs_path("swap.dir"), b.rootfs_path("swap.link"));
    fs::create_dir_all(dir.join("m")).unwrap();
    symlink(&host, &link).unwrap();
    fs::create_dir_all(&swap).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, swap, dir, link) = (stop.clone(), swap.clone(), dir.clone(), link.clone());
        std::thread::spawn(move || {
            // Exchange `swap` with the directory or the symlink, atomically, over and over.
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let other = if n % 2 == 0 { &link } else { &dir };
                let _ = nix::fcntl::renameat2(
                    nix::fcntl::AT_FDCWD,
                    swap.as_path(),
                    nix::fcntl::AT_FDCWD,
                    other.as_path(),
                    nix::fcntl::RenameFlags::RENAME_EXCHANGE,
                );
                n += 1;
            }
        })
    };
    for round in 0..40 {
        let out = ctx
            .cmd(&["run", "--bundle", b.dir_str(), &format!("sec3-race-{round}")])
            .run();
        let _ = out;
        assert_empty_dir(&host, &format!("round {round}: a mount through the swapped symlink"));
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    assert_empty_dir(&host, "after the races");
}

// ---------------------------------------------------------------------------------------------
// 4. CVE-2019-16884 class (/proc mount target replaced by a symlink) and CVE-2025-31133
//    class (masked paths bound from a /dev/null the image replaced): refused or kept inside.

// Checked to fail: without the no-symlink check for proc/sysfs the run succeeded; with
// masks bound from the image's /dev/null, /proc/keys was a regular file.
#[test]
fn c4_proc_symlink_refused_and_masks_use_a_real_dev_null() {
    let Some(ctx) = TestCtx::new("sec4-proc") else { return };
    // /proc is a symlink in the image: proc must not be mounted through it.
    let b = sh_bundle(&ctx, "echo ran");
    fs::create_dir_all(b.rootfs_path("tmp/fakeproc")).unwrap();
    fs::remove_dir(b.rootfs_path("proc")).unwrap();
    symlink("/tmp/fakeproc", b.rootfs_path("proc")).unwrap();
    let out = run_ct(&ctx, &b, "sec4-proc");
    assert!(
        !out.ok(),
        "a /proc that is a symlink must be refused (runc: \"must be mounted on ordinary directory\"):\n{}",
        out.describe()
    );
    assert_empty_dir(&b.rootfs_path("tmp/fakeproc"), "proc mounted through the /proc symlink");

    // The image's /dev/null is a symlink, and a masked path is itself a symlink: every mask
    // must be the real null device (1:3). In the real attack the symlink points at a
    // host-global procfs file (core_pattern); here it points at a plain file inside the
    // rootfs, so that a vulnerable runtime shows itself (the mask is a regular file) without
    // writing anything on the host (runc 1.1.5 opens the image's /dev/null for stdio and
    // would write the container's output into core_pattern).
    // Masked paths this kernel has (kcore, sched_debug... depend on the config).
    let masks: Vec<&str> = ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"]
        .into_iter()
        .filter(|p| Path::new(p).exists())
        .chain(["/etc/evilmask"])
        .collect();
    let mut b = sh_bundle(
        &ctx,
        &format!(
            "for p in {}; do echo \"$p=$(stat -L -c '%F %t:%T' $p)\"; done",
            masks.join(" ")
        ),
    );
    use_image_dev(&mut b);
    fs::write(b.rootfs_path("tmp/not-null"), "").unwrap();
    symlink("/tmp/not-null", b.rootfs_path("dev/null")).unwrap();
    symlink("/proc/sys/kernel/hostname", b.rootfs_path("etc/evilmask")).unwrap();
    b.config_mut()["linux"]["maskedPaths"]
        .as_array_mut()
        .unwrap()
        .push(json!("/etc/evilmask"));
    let out = run_ct(&ctx, &b, "sec4-mask");
    if out.ok() {
        assert!(
            !out.stdout.is_empty(),
            "no output: the runtime gave the container the image's /dev/null (a plain file here) \
             as stdio; it holds {:?}\n{}",
            fs::read_to_string(b.rootfs_path("tmp/not-null")).unwrap_or_default(),
            out.describe()
        );
        for p in &masks {
            assert_eq!(
                field(&out.stdout, p),
                "character special file 1:3",
                "masked path {p} is not the null device:\n{}",
                out.describe()
            );
        }
    }
    assert_eq!(
        fs::read(b.rootfs_path("tmp/not-null")).unwrap(),
        b"",
        "the fake /dev/null was written"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Capabilities (the class behind most "privileged by accident" escapes, e.g.
//    CVE-2022-29162 for inheritable caps): an empty bounding set cannot mount, load modules
//    or change uid; `ambient` gives a non-root process exactly the asked capabilities.

// Checked to fail: without PR_SET_KEEPCAPS before the uid change, capset failed (EPERM).
#[test]
fn c5_capabilities_bounding_and_ambient() {
    let Some(ctx) = TestCtx::new("sec5-caps") else { return };
    let mut b = sh_bundle(
        &ctx,
        "mkdir -p /tmp/m; mount -t tmpfs t /tmp/m 2>&1; echo mount_rc=$?; \
         insmod /etc/passwd 2>&1; echo insmod_rc=$?; \
         start-stop-daemon -S -c 65534:65534 -x /bin/true 2>&1; echo setuid_rc=$?; \
         grep CapBnd /proc/self/status",
    );
    b.config_mut()["process"]["capabilities"] =
        json!({"bounding": [], "effective": [], "permitted": [], "inheritable": [], "ambient": []});
    b.config_mut()["process"]["noNewPrivileges"] = json!(false);
    let out = run_ok(&ctx, &b, "sec5-empty");
    assert_ne!(
        field(&out, "mount_rc"),
        "0",
        "mount worked without CAP_SYS_ADMIN:\n{out}"
    );
    assert_ne!(field(&out, "insmod_rc"), "0", "{out}");
    assert!(
        out.contains("Operation not permitted"),
        "init_module must fail with EPERM:\n{out}"
    );
    assert_ne!(
        field(&out, "setuid_rc"),
        "0",
        "setuid worked without CAP_SETUID:\n{out}"
    );
    assert!(out.contains("CapBnd:\t0000000000000000"), "{out}");

    // Non-root with ambient: the process and the programs it runs keep exactly KILL and
    // NET_BIND_SERVICE (bits 5 and 10 = 0x420) in all five sets.
    let mut b = sh_bundle(&ctx, "id -u; grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status");
    let caps = json!(["CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    b.config_mut()["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    b.config_mut()["process"]["capabilities"] = json!({
        "bounding": caps, "effective": caps, "permitted": caps, "inheritable": caps, "ambient": caps
    });
    let out = run_ok(&ctx, &b, "sec5-ambient");
    assert!(out.starts_with("1000\n"), "{out}");
    for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert!(
            out.contains(&format!("{set}:\t0000000000000420")),
            "{set} must be exactly KILL+NET_BIND_SERVICE for uid 1000:\n{out}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 6. seccomp (the filter is the container's syscall boundary; e.g. CVE-2022-1708-era
//    profile bugs, runc's unknown-syscall ENOSYS handling): errno, kill, argument
//    conditions, and user notification reaching the listener.

fn seccomp(syscalls: Value) -> Value {
    json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": syscalls
    })
}

// Checked to fail: without loading the filter, mkdir, kill -0 and sync all succeeded.
#[test]
fn c6_seccomp_errno_kill_args() {
    let Some(ctx) = TestCtx::new("sec6-seccomp") else {
        return;
    };
    let mut b = sh_bundle(
        &ctx,
        "mkdir /tmp/d 2>&1; echo mkdir_rc=$?; kill -0 $$ 2>&1; echo sig0_rc=$?; \
         kill -CONT $$; echo cont_rc=$?; sync; echo sync_rc=$?",
    );
    b.config_mut()["linux"]["seccomp"] = seccomp(json!([
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
        {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
         "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]},
        {"names": ["sync"], "action": "SCMP_ACT_KILL_PROCESS"}
    ]));
    let out = run_ok(&ctx, &b, "sec6");
    assert_ne!(field(&out, "mkdir_rc"), "0", "{out}");
    assert!(out.contains("Function not implemented"), "errnoRet 38:\n{out}");
    assert!(out.contains("Permission denied"), "kill(pid, 0) -> EACCES:\n{out}");
    assert_eq!(
        field(&out, "cont_rc"),
        "0",
        "kill with another signal is allowed:\n{out}"
    );
    assert_eq!(field(&out, "sync_rc"), "159", "sync is killed by SIGSYS:\n{out}");
    assert!(!b.rootfs_path("tmp/d").exists());
}

/// What the test's seccomp agent saw.
#[derive(Debug, Default)]
struct AgentReport {
    state: Option<Value>,
    fds_received: usize,
    mkdir_notifications: usize,
    error: Option<String>,
}

/// A seccomp agent on `sock`: takes the first connection, reads the container process state
/// and the notify fd (SCM_RIGHTS), then answers `want_mkdirs` mkdir notifications: the first with
/// EDQUOT, the second with success (without creating anything). The report comes back on a
/// channel (a notify fd cannot be polled for "no more users" without unsafe code here, so a
/// stuck agent is abandoned by the test rather than joined).
fn seccomp_agent(
    sock: std::sync::Arc<conformance::console::ConsoleSocket>,
    want_mkdirs: usize,
) -> std::sync::mpsc::Receiver<AgentReport> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use libseccomp::{ScmpNotifReq, ScmpNotifResp, ScmpNotifRespFlags, ScmpSyscall};
        let mut report = AgentReport::default();
        let stream = loop {
            match sock.accept_pending() {
                Ok(Some(s)) => break s,
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => {
                    report.error = Some(format!("accept: {e}"));
                    let _ = tx.send(report);
                    return;
                }
            }
        };
        let msg = match conformance::console::receive_console_message(&stream, T10) {
            Ok(m) => m,
            Err(e) => {
                report.error = Some(format!("recvmsg: {e}"));
                let _ = tx.send(report);
                return;
            }
        };
        report.state = serde_json::from_slice(&msg.data).ok();
        report.fds_received = msg.fds.len();
        if let Some(fd) = msg.fds.first() {
            let fd = fd.raw();
            let mkdirs = [
                ScmpSyscall::from_name("mkdir").ok(),
                ScmpSyscall::from_name("mkdirat").ok(),
            ];
            while report.mkdir_notifications < want_mkdirs {
                let req = match ScmpNotifReq::receive(fd) {
                    Ok(r) => r,
                    Err(e) => {
                        report.error = Some(format!("receive: {e}"));
                        break;
                    }
                };
                let resp = if mkdirs.contains(&Some(req.data.syscall)) {
                    report.mkdir_notifications += 1;
                    if report.mkdir_notifications == 1 {
                        ScmpNotifResp::new_error(req.id, -libc::EDQUOT, ScmpNotifRespFlags::empty())
                    } else {
                        ScmpNotifResp::new_val(req.id, 0, ScmpNotifRespFlags::empty())
                    }
                } else {
                    ScmpNotifResp::new_continue(req.id, ScmpNotifRespFlags::empty())
                };
                let _ = resp.respond(fd);
            }
        }
        drop(msg);
        let _ = tx.send(report);
    });
    rx
}

// Checked to fail: when the runtime does not pass the fd on, the agent gets nothing and
// the notified mkdir fails with ENOSYS.
#[test]
fn c6_seccomp_notify_reaches_the_listener() {
    let Some(ctx) = TestCtx::new("sec6-notify") else { return };
    let sock_path = ctx.scratch("agent.sock");
    let sock = std::sync::Arc::new(conformance::console::ConsoleSocket::bind(&sock_path).expect("bind agent socket"));
    let agent = seccomp_agent(sock.clone(), 2);
    let mut b = sh_bundle(
        &ctx,
        "mkdir /tmp/first 2>&1; echo first_rc=$?; mkdir /tmp/second 2>&1; echo second_rc=$?",
    );
    let mut sc = seccomp(json!([{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]));
    sc["listenerPath"] = json!(sock_path);
    sc["listenerMetadata"] = json!("test-metadata");
    b.config_mut()["linux"]["seccomp"] = sc;
    b.annotations(&[("org.test.sec6", "yes")]);
    let out = run_ct(&ctx, &b, "sec6-notify");
    let report = agent
        .recv_timeout(T30)
        .unwrap_or_else(|_| panic!("the seccomp agent got no answerable notification:\n{}", out.describe()));
    out.assert_ok();
    assert_eq!(report.error, None);
    assert_eq!(report.fds_received, 1, "{report:?}");
    let state = report
        .state
        .clone()
        .unwrap_or_else(|| panic!("no JSON state: {report:?}"));
    assert_eq!(state["fds"], json!(["seccompFd"]), "{state}");
    assert_eq!(state["metadata"], "test-metadata", "{state}");
    assert!(state["pid"].as_i64().is_some_and(|p| p > 0), "{state}");
    assert_eq!(state["state"]["id"], "sec6-notify", "{state}");
    assert_eq!(state["state"]["annotations"]["org.test.sec6"], "yes", "{state}");
    assert!(
        out.stdout.contains("Disk quota exceeded"),
        "the agent's EDQUOT:\n{}",
        out.describe()
    );
    assert_ne!(field(&out.stdout, "first_rc"), "0");
    assert_eq!(
        field(&out.stdout, "second_rc"),
        "0",
        "the agent's success:\n{}",
        out.describe()
    );
    assert_eq!(report.mkdir_notifications, 2, "{report:?}");
    assert!(!b.rootfs_path("tmp/first").exists() && !b.rootfs_path("tmp/second").exists());

    // An exec'd process gets its own filter and listener, sent the same way.
    let mut b = ctx.bundle(&["sleep", "1000"]);
    let mut sc = seccomp(json!([{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]));
    sc["listenerPath"] = json!(sock_path);
    b.config_mut()["linux"]["seccomp"] = sc;
    let agent = seccomp_agent(sock.clone(), 0);
    ctx.running(&b, "sec6-notify-exec");
    let report = agent.recv_timeout(T30).expect("the init's listener");
    assert_eq!(report.fds_received, 1, "{report:?}");
    let agent = seccomp_agent(sock, 2);
    let out = ctx
        .cmd(&[
            "exec",
            "sec6-notify-exec",
            "sh",
            "-c",
            "mkdir /tmp/a 2>&1; echo a_rc=$?; mkdir /tmp/b; echo b_rc=$?",
        ])
        .timeout(T30)
        .run();
    let report = agent
        .recv_timeout(T30)
        .unwrap_or_else(|_| panic!("no notification from the exec'd process:\n{}", out.describe()));
    out.assert_ok();
    assert_eq!(report.fds_received, 1, "{report:?}");
    let state = report.state.clone().unwrap_or_default();
    assert_eq!(state["state"]["id"], "sec6-notify-exec", "{state}");
    assert!(out.stdout.contains("Disk quota exceeded"), "{}", out.describe());
    assert_eq!(field(&out.stdout, "b_rc"), "0", "{}", out.describe());
    ctx.run(&["kill", "sec6-notify-exec", "KILL"]).assert_ok();
    ctx.wait_status("sec6-notify-exec", "stopped", T10);
}

#[test]
fn c6_seccomp_unknown_syscalls_are_debug_only() {
    let Some(ctx) = TestCtx::new("sec6-unknown") else {
        return;
    };
    if ctx.rt.kind != RuntimeKind::RuntimeCli {
        announce("SKIP: this test checks runtime-cli's log entries and error messages only");
        return;
    }
    let mut b = sh_bundle(&ctx, "echo ran");
    b.config_mut()["linux"]["seccomp"] =
        seccomp(json!([{"names": ["no_such_syscall_xyz", "mkdir"], "action": "SCMP_ACT_ERRNO"}]));
    b.save();
    let log = ctx.scratch("quiet.log");
    let out = ctx
        .cmd(&["run", "--bundle", b.dir_str(), "sec6-u1"])
        .global(&["--log", log.to_str().unwrap(), "--log-format", "json"])
        .run();
    out.assert_ok();
    assert_eq!(out.stderr, "", "no warning on a successful run");
    assert_eq!(
        fs::read_to_string(&log).unwrap_or_default(),
        "",
        "nothing logged without --debug"
    );
    let log = ctx.scratch("debug.log");
    let out = ctx
        .cmd(&["run", "--bundle", b.dir_str(), "sec6-u2"])
        .global(&["--debug", "--log", log.to_str().unwrap(), "--log-format", "json"])
        .run();
    out.assert_ok();
    let text = fs::read_to_string(&log).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("no_such_syscall_xyz"))
        .unwrap_or_else(|| panic!("no debug entry for the unknown syscall:\n{text}"));
    let v: Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["level"], "debug", "{line}");

    // An unknown action or architecture is one clear error, and nothing is left.
    for (what, sc) in [
        ("defaultAction", json!({"defaultAction": "SCMP_ACT_FOO"})),
        (
            "architectures[0]",
            json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_FOO"]}),
        ),
        (
            "syscalls[0].action",
            seccomp(json!([{"names": ["mkdir"], "action": "SCMP_ACT_BAR"}])),
        ),
    ] {
        b.config_mut()["linux"]["seccomp"] = sc;
        let out = ctx.create_with(&b, "sec6-bad", &[]);
        out.assert_fails_with(1, &format!("linux.seccomp.{what}"));
        assert!(!ctx.state_dir("sec6-bad").exists(), "{what}: state left behind");
    }
}

// ---------------------------------------------------------------------------------------------
// 7. no_new_privs (the setuid class, e.g. CVE-2016-9962-era escapes through privileged
//    exec inside the container): a setuid-root binary does not raise the caller's uid.

// Checked to fail: without PR_SET_NO_NEW_PRIVS the nnp case read an unreadable auxv.
#[test]
fn c7_no_new_privs_blocks_setuid() {
    let Some(ctx) = TestCtx::new("sec7-nnp") else { return };
    // AT_SECURE (auxv type 23) is 1 when the kernel honoured a setuid bit at exec; busybox
    // drops the gained euid at once, so that flag (or an unreadable auxv: the exec made the
    // process non-dumpable) is the trace of a privileged exec.
    // Named busybox (in its own directory) so that argv[1] picks the applet.
    let script = "/suid/busybox od -A n -t u8 -v -w16 /proc/self/auxv 2>&1 | \
                  awk '$1==23{print \"secure=\"$2} /denied/{print \"secure=unreadable\"}'";
    let setup = |b: &Bundle| {
        fs::create_dir_all(b.rootfs_path("suid")).unwrap();
        let p = b.rootfs_path("suid/busybox");
        fs::copy(b.rootfs_path("bin/busybox"), &p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o4755)).unwrap();
    };
    let mut b = sh_bundle(&ctx, script);
    setup(&b);
    b.config_mut()["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    b.config_mut()["process"]["noNewPrivileges"] = json!(true);
    let out = run_ok(&ctx, &b, "sec7-nnp");
    assert_eq!(
        field(&out, "secure"),
        "0",
        "the setuid bit was honoured under noNewPrivileges:\n{out}"
    );

    // Control: without no_new_privs the same exec is privileged, so the check can fail.
    let mut b = sh_bundle(&ctx, script);
    setup(&b);
    b.config_mut()["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    b.config_mut()["process"]["noNewPrivileges"] = json!(false);
    let out = run_ok(&ctx, &b, "sec7-control");
    assert_ne!(
        field(&out, "secure"),
        "0",
        "control: setuid must work without nnp:\n{out}"
    );
}

// ---------------------------------------------------------------------------------------------
// 8. Host objects changed through the container's stdio or console: crun 1.8.1 chowns the
//    host's /dev/null on `exec --user` with stdin on /dev/null; CVE-2025-52565 class: the
//    /dev/console bind-mount target swapped for a symlink.

// Checked to fail: giving stdio character devices to the user chowned the host's /dev/null
// to 1000 (the test puts it back); opening dev/console with O_CREAT through the image's
// symlink created the file in the host directory. crun 1.8.1 fails the first part.
#[test]
fn c8_host_dev_null_and_console_untouched() {
    let Some(ctx) = TestCtx::new("sec8-stdio") else { return };
    let st = fs::metadata("/dev/null").unwrap();
    let b = ctx.bundle(&["sleep", "1000"]);
    ctx.running(&b, "sec8-null");
    // The harness gives every runtime call /dev/null as stdin.
    ctx.run(&["exec", "--user", "1000:1000", "sec8-null", "true"])
        .assert_ok();
    ctx.run(&["delete", "--force", "sec8-null"]).assert_ok();
    let after = fs::metadata("/dev/null").unwrap();
    if (after.uid(), after.gid(), after.mode()) != (st.uid(), st.gid(), st.mode()) {
        // Put the host back before failing (crun 1.8.1 does this).
        let _ = nix::unistd::chown("/dev/null", Some(st.uid().into()), Some(st.gid().into()));
        let _ = fs::set_permissions("/dev/null", fs::Permissions::from_mode(st.mode() & 0o7777));
    }
    assert_eq!(
        (after.uid(), after.gid(), after.mode()),
        (st.uid(), st.gid(), st.mode()),
        "the host's /dev/null changed owner or mode"
    );

    // The image's /dev/console is a symlink to a host path: the console must not be bound
    // there (create may refuse, or bind inside the root).
    let host = host_dir(&ctx, "console-target");
    let mut b = sh_bundle(&ctx, "sleep 1000");
    use_image_dev(&mut b);
    b.terminal(true);
    symlink(host.join("console"), b.rootfs_path("dev/console")).unwrap();
    let sock = conformance::console::ConsoleSocket::bind(&ctx.scratch("console.sock")).unwrap();
    let out = ctx.create_with(&b, "sec8-console", &["--console-socket", sock.path_str()]);
    if let Ok(Some(s)) = sock.accept_pending() {
        let _ = conformance::console::receive_console_message(&s, Duration::from_secs(2));
    }
    assert_empty_dir(&host, "the /dev/console bind mount");
    if out.ok() {
        let ex = ctx
            .cmd(&["exec", "sec8-console", "sh", "-c", "stat -L -c %t /dev/console"])
            .run();
        ex.assert_ok();
        assert_eq!(
            ex.stdout.trim(),
            "88",
            "/dev/console must be the pty (major 136):\n{}",
            ex.describe()
        );
        ctx.run(&["delete", "--force", "sec8-console"]).assert_ok();
    }
    assert_empty_dir(&host, "the /dev/console bind mount");
}

// ---------------------------------------------------------------------------------------------
// 9. CVE-2025-52881 class: writes to /proc/sys/* (and /proc/self/attr/*) during setup go to
//    the container's own procfs, never to a file a mount in the config redirected.

// Checked to fail: writing sysctls after the root change through the container's /proc
// wrote "1" into the decoy.
#[test]
fn c9_sysctl_writes_are_not_redirected() {
    let Some(ctx) = TestCtx::new("sec9-proc") else { return };
    let decoy = ctx.scratch("decoy");
    fs::write(&decoy, "HOST FILE\n").unwrap();
    let mut b = sh_bundle(&ctx, "echo forwarding=$(cat /proc/sys/net/ipv4/conf/all/forwarding)");
    // The decoy covers the sysctl's file inside the container.
    add_mount(
        &mut b,
        json!({"destination": "/proc/sys/net/ipv4/ip_forward", "type": "bind", "source": decoy,
               "options": ["bind"]}),
    );
    b.config_mut()["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1"});
    let out = run_ct(&ctx, &b, "sec9");
    assert_eq!(
        fs::read_to_string(&decoy).unwrap(),
        "HOST FILE\n",
        "the sysctl write went through the bind mount into a host file:\n{}",
        out.describe()
    );
    if out.ok() {
        assert_eq!(
            field(&out.stdout, "forwarding"),
            "1",
            "the sysctl must apply:\n{}",
            out.describe()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The default seccomp profiles users run, and the LSM labels.

/// containers-common's (moby-format) profile in OCI form for this host and the given caps:
/// the native architecture with its sub-architectures, the rules whose `includes` (arches,
/// caps, minKernel) match and whose `excludes` do not, as docker and podman convert it.
fn moby_to_oci(p: &Value, caps: &[&str]) -> Value {
    let kernel = {
        let r = nix::sys::utsname::uname().unwrap();
        let v: Vec<u64> = r
            .release()
            .to_string_lossy()
            .split(|c: char| !c.is_ascii_digit())
            .take(2)
            .map(|s| s.parse().unwrap_or(0))
            .collect();
        (v[0], v.get(1).copied().unwrap_or(0))
    };
    let arches: Vec<Value> = p["archMap"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["architecture"] == "SCMP_ARCH_X86_64")
        .flat_map(|a| {
            let mut v = vec![a["architecture"].clone()];
            v.extend(a["subArchitectures"].as_array().cloned().unwrap_or_default());
            v
        })
        .collect();
    let has = |list: &Value, want: &dyn Fn(&str) -> bool| {
        list.as_array()
            .is_some_and(|l| l.iter().any(|x| x.as_str().is_some_and(want)))
    };
    let mut syscalls = vec![];
    for s in p["syscalls"].as_array().unwrap() {
        let inc = &s["includes"];
        let exc = &s["excludes"];
        if inc["arches"].as_array().is_some_and(|a| !a.is_empty()) && !has(&inc["arches"], &|a| a == "amd64") {
            continue;
        }
        if let Some(need) = inc["caps"].as_array().filter(|a| !a.is_empty()) {
            if !need.iter().all(|c| caps.contains(&c.as_str().unwrap_or(""))) {
                continue;
            }
        }
        if let Some(mk) = inc["minKernel"].as_str() {
            let v: Vec<u64> = mk.split('.').map(|x| x.parse().unwrap_or(0)).collect();
            if (v[0], v.get(1).copied().unwrap_or(0)) > kernel {
                continue;
            }
        }
        if has(&exc["arches"], &|a| a == "amd64") || has(&exc["caps"], &|c| caps.contains(&c)) {
            continue;
        }
        let mut rule = json!({"names": s["names"], "action": s["action"]});
        if let Some(e) = s.get("errnoRet") {
            rule["errnoRet"] = e.clone();
        }
        if s["args"].as_array().is_some_and(|a| !a.is_empty()) {
            rule["args"] = s["args"].clone();
        }
        syscalls.push(rule);
    }
    let mut out = json!({"defaultAction": p["defaultAction"], "architectures": arches, "syscalls": syscalls});
    if let Some(e) = p.get("defaultErrnoRet") {
        out["defaultErrnoRet"] = e.clone();
    }
    out
}

const NORMAL_SHELL: &str = "set -e; ls / >/dev/null; mkdir -p /tmp/x; echo hi > /tmp/x/f; cat /tmp/x/f; \
     ps >/dev/null; sleep 0.1; id >/dev/null; wc -l /etc/passwd >/dev/null; \
     (echo sub) | cat; kill -0 $$; rm -r /tmp/x; date >/dev/null; uname -a >/dev/null; \
     grep '^Seccomp:' /proc/self/status; echo ALL-OK";

#[test]
fn default_profile_containers_common_runs_a_shell() {
    let Some(ctx) = TestCtx::new("sec-default-profile") else {
        return;
    };
    let path = Path::new("/usr/share/containers/seccomp.json");
    if !path.exists() {
        conformance::skip_missing(
            "/usr/share/containers/seccomp.json (apt-get install golang-github-containers-common)",
        );
        return;
    }
    let moby: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    let mut b = sh_bundle(&ctx, NORMAL_SHELL);
    b.config_mut()["linux"]["seccomp"] = moby_to_oci(&moby, &["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    let out = run_ok(&ctx, &b, "sec-cc-profile");
    assert!(out.contains("hi\nsub\n"), "{out}");
    assert!(out.contains("ALL-OK"), "{out}");
    // The profile is in force (mode 2: filter).
    assert!(out.contains("Seccomp:\t2"), "{out}");
}

/// A private dockerd (own data root, exec root and socket; no iptables, no bridge), killed
/// by pid on drop.
struct PrivateDockerd {
    child: std::process::Child,
    sock: PathBuf,
}

impl Drop for PrivateDockerd {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

/// Docker's own default profile, as dockerd writes it into a container's `config.json`:
/// a private dockerd runs one container through a wrapper runtime that copies the bundle's
/// config and then runs runc.
fn docker_default_profile(ctx: &TestCtx) -> Option<Value> {
    let dockerd = require_binary("dockerd")?;
    let runc = require_binary("runc")?;
    // /usr/local/bin/docker may be a newer client than the daemon; Debian's matches it.
    let docker = if Path::new("/usr/bin/docker").exists() {
        PathBuf::from("/usr/bin/docker")
    } else {
        require_binary("docker")?
    };
    let dir = ctx.scratch("docker");
    fs::create_dir_all(dir.join("rootfs/bin")).unwrap();
    let captured = dir.join("captured.json");
    let wrapper = dir.join("capture-runtime");
    fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nprev=\nfor a in \"$@\"; do\n  if [ \"$prev\" = --bundle ]; then cp \"$a/config.json\" {}; fi\n  prev=\"$a\"\ndone\nexec {} \"$@\"\n",
            captured.display(),
            runc.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).unwrap();
    let sock = dir.join("docker.sock");
    let log = fs::File::create(dir.join("dockerd.log")).unwrap();
    let child = std::process::Command::new(&dockerd)
        .arg("--data-root")
        .arg(dir.join("data"))
        .arg("--exec-root")
        .arg(dir.join("exec"))
        .arg("--pidfile")
        .arg(dir.join("dockerd.pid"))
        .arg("-H")
        .arg(format!("unix://{}", sock.display()))
        .args([
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            "--storage-driver=vfs",
        ])
        .arg("--add-runtime")
        .arg(format!("capture={}", wrapper.display()))
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start dockerd");
    let d = PrivateDockerd { child, sock };
    let host = format!("unix://{}", d.sock.display());
    let docker_cmd = |args: &[&str]| {
        let mut c = std::process::Command::new(&docker);
        c.arg("-H").arg(&host).args(args);
        c
    };
    let up = wait_until(Duration::from_secs(60), || {
        docker_cmd(&["info"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    assert!(
        up,
        "the private dockerd did not come up: {}",
        conformance::read_or_empty(&dir.join("dockerd.log"))
    );
    fs::copy("/bin/busybox", dir.join("rootfs/bin/busybox")).unwrap();
    symlink("busybox", dir.join("rootfs/bin/true")).unwrap();
    let mut tar = std::process::Command::new("tar")
        .arg("-C")
        .arg(dir.join("rootfs"))
        .args(["-cf", "-", "."])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("tar");
    let st = docker_cmd(&["import", "-", "runtime-cli-test-bb:latest"])
        .stdin(tar.stdout.take().unwrap())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(tar.wait().is_ok_and(|s| s.success()), "tar failed");
    assert!(st.success(), "docker import failed");
    let parent = format!(
        "{}/{}-docker",
        conformance::CGROUP_PREFIX,
        ctx.root().parent().unwrap().file_name().unwrap().to_string_lossy()
    );
    ctx.track_cgroup(&parent);
    let out = docker_cmd(&[
        "run",
        "--rm",
        "--runtime",
        "capture",
        "--network",
        "none",
        "--cgroup-parent",
        &parent,
        "runtime-cli-test-bb:latest",
        "/bin/true",
    ])
    .output()
    .unwrap();
    assert!(out.status.success(), "docker run failed: {out:?}");
    drop(d);
    let cfg: Value = serde_json::from_slice(&fs::read(&captured).expect("captured config.json")).unwrap();
    Some(cfg["linux"]["seccomp"].clone())
}

#[test]
fn default_profile_docker_runs_a_shell() {
    let Some(ctx) = TestCtx::new("sec-docker-profile") else {
        return;
    };
    let Some(profile) = docker_default_profile(&ctx) else {
        return;
    };
    assert!(
        profile["syscalls"].as_array().is_some_and(|a| !a.is_empty()),
        "{profile}"
    );
    let mut b = sh_bundle(&ctx, NORMAL_SHELL);
    b.config_mut()["linux"]["seccomp"] = profile;
    let out = run_ok(&ctx, &b, "sec-docker-profile");
    assert!(out.contains("hi\nsub\n"), "{out}");
    assert!(out.contains("ALL-OK"), "{out}");
    assert!(out.contains("Seccomp:\t2"), "{out}");
}

#[test]
fn apparmor_profile_applied_or_refused() {
    let Some(ctx) = TestCtx::new("sec-apparmor") else {
        return;
    };
    let module_on = fs::read("/sys/module/apparmor/parameters/enabled").is_ok_and(|b| b.first() == Some(&b'Y'));
    if module_on && !Path::new("/sys/kernel/security/apparmor").exists() {
        // A kernel with AppArmor but no securityfs mounted (the test VM): mount it, as an
        // init system would, so that apparmor_parser and the runtime can see AppArmor.
        let _ = nix::mount::mount(
            Some("securityfs"),
            "/sys/kernel/security",
            Some("securityfs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        );
    }
    let enabled = module_on && Path::new("/sys/kernel/security/apparmor").exists();
    if !enabled {
        // As runc 1.1.5 and crun 1.8.1: a requested profile without AppArmor is an error.
        let mut b = sh_bundle(&ctx, "echo ran");
        b.config_mut()["process"]["apparmorProfile"] = json!("runtime-cli-test");
        let out = run_ct(&ctx, &b, "sec-aa-off");
        assert!(!out.ok(), "a profile without AppArmor must fail:\n{}", out.describe());
        assert!(!out.stdout.contains("ran"));
        announce("SKIP: AppArmor is not enabled on this kernel: profile application not tested (the refusal was)");
        return;
    }
    let Some(parser) = require_binary("apparmor_parser") else {
        return;
    };
    let profile = "runtime-cli-test-profile";
    let text = format!(
        "profile {profile} flags=(attach_disconnected,mediate_deleted) {{\n  file,\n  capability,\n  \
         network,\n  mount,\n  umount,\n  pivot_root,\n  signal,\n  ptrace,\n  unix,\n  deny /etc/hostname r,\n}}\n"
    );
    let pf = ctx.scratch("aa-profile");
    fs::write(&pf, text).unwrap();
    let st = std::process::Command::new(&parser).arg("-r").arg(&pf).status().unwrap();
    assert!(st.success(), "apparmor_parser -r failed");
    let mut b = sh_bundle(&ctx, "cat /proc/self/attr/current; cat /etc/hostname 2>&1; echo rc=$?");
    b.config_mut()["process"]["apparmorProfile"] = json!(profile);
    let out = run_ok(&ctx, &b, "sec-aa-on");
    assert!(out.starts_with(&format!("{profile} (enforce)")), "{out}");
    assert_ne!(field(&out, "rc"), "0", "the profile's deny rule must apply:\n{out}");
    // exec --apparmor.
    let b = ctx.bundle(&["sleep", "1000"]);
    ctx.running(&b, "sec-aa-exec");
    let ex = ctx
        .cmd(&[
            "exec",
            "--apparmor",
            profile,
            "sec-aa-exec",
            "cat",
            "/proc/self/attr/current",
        ])
        .run();
    ex.assert_ok();
    assert!(ex.stdout.starts_with(profile), "{}", ex.describe());
    ctx.run(&["delete", "--force", "sec-aa-exec"]).assert_ok();
    let _ = std::process::Command::new(&parser).arg("-R").arg(&pf).status();
    announce("NOTE: AppArmor is enabled: the profile was applied (create and exec --apparmor) and enforced");
}

#[test]
fn selinux_label_refused_without_selinux() {
    let Some(ctx) = TestCtx::new("sec-selinux") else { return };
    if Path::new("/sys/fs/selinux/enforce").exists() {
        announce("SKIP: SELinux is enabled here; label application is not tested by this suite");
        return;
    }
    for (key, ptr) in [
        ("selinuxLabel", "/process/selinuxLabel"),
        ("mountLabel", "/linux/mountLabel"),
    ] {
        let mut b = sh_bundle(&ctx, "echo ran");
        *b.config_mut().pointer_mut(ptr.rsplit_once('/').unwrap().0).unwrap() = {
            let mut o = b.config().pointer(ptr.rsplit_once('/').unwrap().0).unwrap().clone();
            o[key] = json!("system_u:system_r:container_t:s0:c1,c2");
            o
        };
        let out = run_ct(&ctx, &b, &format!("sec-se-{}", key.to_lowercase()));
        if ctx.rt.kind == RuntimeKind::Crun && key == "mountLabel" {
            // crun 1.8.1 ignores mountLabel without SELinux.
            continue;
        }
        assert!(
            !out.ok(),
            "{key} without SELinux must fail (as runc):\n{}",
            out.describe()
        );
        if ctx.rt.kind == RuntimeKind::RuntimeCli {
            assert!(out.stderr.contains(key), "the error names {key}:\n{}", out.describe());
        }
    }
}
