//! `features`, `spec` and the rest of the runtime specification (issue 8): the features
//! document is valid and every namespace, mount option and seccomp action it claims works in
//! `create`; `spec` and `features` carry at least runc's keys; annotations reach `state`;
//! `process.ioPriority`, `process.scheduler`, `linux.personality`, `linux.memoryPolicy` and
//! `linux.netDevices` take effect; `linux.intelRdt` fails clearly without resctrl.

use std::collections::BTreeSet;
use std::fs;
use std::process::Command;
use std::time::Duration;

use conformance::{require_binary, Bundle, RunOutput, RuntimeKind, TestCtx};
use serde_json::{json, Value};

const T10: Duration = Duration::from_secs(10);

fn run_ct(ctx: &TestCtx, b: &Bundle, id: &str) -> RunOutput {
    b.save();
    ctx.cmd(&["run", "--bundle", b.dir_str(), id]).timeout(T10).run()
}

fn features(ctx: &TestCtx) -> Value {
    let out = ctx.cmd(&["features"]).no_root().run();
    out.assert_ok();
    out.json()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}

/// Every key path of a JSON document (objects only; arrays are leaves).
fn key_paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    if let Value::Object(m) = v {
        for (k, v) in m {
            let p = format!("{prefix}.{k}");
            out.insert(p.clone());
            key_paths(v, &p, out);
        }
    }
}

/// Checklist item 45: `features` is JSON with the spec's keys and the six hook names.
#[test]
fn f01_features_document() {
    let Some(ctx) = TestCtx::new("f01") else { return };
    let f = features(&ctx);
    assert!(f["ociVersionMin"].is_string() && f["ociVersionMax"].is_string(), "{f}");
    assert_eq!(
        strings(&f["hooks"]),
        [
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart",
            "poststop"
        ]
    );
    for k in ["namespaces", "capabilities", "cgroup", "seccomp", "apparmor", "selinux"] {
        assert!(!f["linux"][k].is_null(), "linux.{k} missing: {f}");
    }
    assert!(strings(&f["linux"]["capabilities"]).contains(&"CAP_SYS_ADMIN".to_string()));
}

/// Every namespace `features` lists can be created by `create`.
#[test]
fn f02_every_claimed_namespace_works() {
    let Some(ctx) = TestCtx::new("f02") else { return };
    let f = features(&ctx);
    for ns in strings(&f["linux"]["namespaces"]) {
        let mut b = ctx.bundle(&["sh", "-c", &format!("readlink /proc/self/ns/{}", ns_file(&ns))]);
        let list = b.config_mut()["linux"]["namespaces"]
            .as_array_mut()
            .expect("namespaces");
        if !list.iter().any(|n| n["type"] == ns.as_str()) {
            list.push(json!({"type": ns}));
        }
        if ns == "user" {
            let map = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
            b.config_mut()["linux"]["uidMappings"] = map.clone();
            b.config_mut()["linux"]["gidMappings"] = map;
            // The busybox rootfs belongs to host root, which is unmapped: read-only is fine.
        }
        let out = run_ct(&ctx, &b, &format!("f02-{ns}"));
        out.assert_ok();
        let host = fs::read_link(format!("/proc/self/ns/{}", ns_file(&ns))).expect("own ns");
        assert_ne!(out.stdout.trim(), host.to_string_lossy(), "{ns}: not a new namespace");
    }
}

fn ns_file(ns: &str) -> &str {
    match ns {
        "mount" => "mnt",
        "network" => "net",
        other => other,
    }
}

/// Every mount option `features` lists is accepted by `create` on a mount that makes sense
/// for it (a bind mount for bind options, a tmpfs for the rest).
#[test]
fn f03_every_claimed_mount_option_works() {
    let Some(ctx) = TestCtx::new("f03") else { return };
    let f = features(&ctx);
    let src = ctx.scratch("bind-src");
    fs::create_dir_all(&src).expect("mkdir");
    let opts = strings(&f["mountOptions"]);
    assert!(opts.len() > 20, "{opts:?}");
    let mut b = ctx.bundle(&["true"]);
    let mounts = b.config_mut()["mounts"].as_array_mut().expect("mounts");
    for (i, o) in opts.iter().enumerate() {
        let dest = format!("/mnt/o{i}");
        let m = match o.as_str() {
            "bind" | "rbind" => json!({"destination": dest, "type": "bind", "source": src, "options": [o]}),
            "idmap" | "ridmap" => json!({"destination": dest, "type": "bind", "source": src, "options": ["rbind", o],
                                         "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
                                         "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}),
            // A remount needs something mounted first: remount the bind mount of the line before.
            "remount" => json!({"destination": format!("/mnt/o{}", i - 1), "type": "bind", "source": src,
                                "options": ["bind", "remount", "ro"]}),
            _ => json!({"destination": dest, "type": "tmpfs", "source": "tmpfs", "options": [o]}),
        };
        if o == "remount" {
            mounts.push(
                json!({"destination": format!("/mnt/o{}", i - 1), "type": "bind", "source": src, "options": ["bind"]}),
            );
        }
        mounts.push(m);
    }
    b.config_mut()["root"]["readonly"] = json!(false);
    let out = run_ct(&ctx, &b, "f03");
    assert!(out.ok(), "options {opts:?}:\n{}", out.describe());
}

/// Every seccomp action `features` lists does what it says on `mkdir` (SCMP_ACT_NOTIFY needs
/// a listener and is exercised by the security suite).
#[test]
fn f04_every_claimed_seccomp_action_works() {
    let Some(ctx) = TestCtx::new("f04") else { return };
    let f = features(&ctx);
    for action in strings(&f["linux"]["seccomp"]["actions"]) {
        if action == "SCMP_ACT_NOTIFY" {
            continue;
        }
        let mut b = ctx.bundle(&["sh", "-c", "mkdir /tmp/x && echo made"]);
        b.config_mut()["linux"]["seccomp"] = json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": action, "errnoRet": 1}],
        });
        let out = run_ct(&ctx, &b, &format!("f04-{}", action.to_lowercase().replace('_', "-")));
        let made = out.stdout.contains("made");
        match action.as_str() {
            "SCMP_ACT_ALLOW" | "SCMP_ACT_LOG" => assert!(made && out.ok(), "{action}:\n{}", out.describe()),
            "SCMP_ACT_ERRNO" => assert!(
                !made && out.stderr.contains("Operation not permitted"),
                "{action}:\n{}",
                out.describe()
            ),
            // No tracer: the syscall fails with ENOSYS.
            "SCMP_ACT_TRACE" => assert!(
                !made && out.stderr.contains("Function not implemented"),
                "{action}:\n{}",
                out.describe()
            ),
            // SIGSYS: the shell dies, the runtime exits 128 + 31.
            _ => assert_eq!(out.code, Some(159), "{action}:\n{}", out.describe()),
        }
    }
}

/// `spec` and `features`: every key runc writes, this runtime writes too.
#[test]
fn f05_spec_and_features_keys_cover_runcs() {
    let Some(ctx) = TestCtx::new("f05") else { return };
    if ctx.rt.kind != RuntimeKind::RuntimeCli {
        return;
    }
    let Some(runc) = require_binary("runc") else { return };
    let dir_ours = ctx.scratch("spec-ours");
    let dir_runc = ctx.scratch("spec-runc");
    for d in [&dir_ours, &dir_runc] {
        fs::create_dir_all(d).expect("mkdir");
    }
    ctx.cmd(&["spec", "--bundle", dir_ours.to_str().unwrap()])
        .no_root()
        .run()
        .assert_ok();
    let st = Command::new(&runc)
        .args(["spec", "--bundle", dir_runc.to_str().unwrap()])
        .status()
        .expect("runc spec");
    assert!(st.success());
    let load = |d: &std::path::Path| -> Value {
        serde_json::from_str(&fs::read_to_string(d.join("config.json")).expect("config.json")).expect("JSON")
    };
    let (mut ours, mut theirs) = (BTreeSet::new(), BTreeSet::new());
    key_paths(&load(&dir_ours), "", &mut ours);
    key_paths(&load(&dir_runc), "", &mut theirs);
    let missing: Vec<_> = theirs.difference(&ours).collect();
    assert!(missing.is_empty(), "spec: keys runc writes and we do not: {missing:?}");

    let out = Command::new(&runc).arg("features").output().expect("runc features");
    assert!(out.status.success());
    let runc_f: Value = serde_json::from_slice(&out.stdout).expect("runc features JSON");
    let (mut ours, mut theirs) = (BTreeSet::new(), BTreeSet::new());
    key_paths(&features(&ctx), "", &mut ours);
    key_paths(&runc_f, "", &mut theirs);
    // runc 1.1 puts its own facts under annotations (`io.github.seccomp.libseccomp.version`,
    // `org.opencontainers.runc.*`); annotation keys are free-form.
    theirs.retain(|k| !k.starts_with(".annotations."));
    let missing: Vec<_> = theirs.difference(&ours).collect();
    assert!(missing.is_empty(), "features: keys runc has and we do not: {missing:?}");
}

/// `annotations` of the config appear in `state` (runtime.md "State").
#[test]
fn f06_annotations_in_state() {
    let Some(ctx) = TestCtx::new("f06") else { return };
    let mut b = ctx.bundle(&["sleep", "30"]);
    b.annotations(&[("org.example.key", "value"), ("com.example/other", "x y")]);
    ctx.create_ok(&b, "f06");
    let s = ctx.state("f06");
    assert_eq!(s["annotations"]["org.example.key"], "value", "{s}");
    assert_eq!(s["annotations"]["com.example/other"], "x y", "{s}");
    ctx.run(&["delete", "--force", "f06"]).assert_ok();
}

/// `process.ioPriority`, `process.scheduler`, `linux.personality` and `linux.memoryPolicy`
/// as seen by the container's process.
#[test]
fn f07_process_attributes() {
    let Some(ctx) = TestCtx::new("f07") else { return };
    let mut b = ctx.bundle(&[
        "sh",
        "-c",
        "uname -m; ionice -p $$; grep ^policy /proc/self/sched; grep -m1 -o 'bind:[0-9,-]*' /proc/self/numa_maps",
    ]);
    let c = b.config_mut();
    c["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_IDLE", "priority": 7});
    c["process"]["scheduler"] = json!({"policy": "SCHED_BATCH", "nice": 5});
    c["linux"]["personality"] = json!({"domain": "LINUX32"});
    c["linux"]["memoryPolicy"] = json!({"mode": "MPOL_BIND", "nodes": "0"});
    let out = run_ct(&ctx, &b, "f07");
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().map(str::trim).collect();
    assert_eq!(
        lines.first().copied(),
        Some("i686"),
        "personality LINUX32:\n{}",
        out.describe()
    );
    assert_eq!(lines.get(1).copied(), Some("idle"), "ioPriority:\n{}", out.describe());
    assert!(
        lines.get(2).is_some_and(|l| l.ends_with(" 3")),
        "scheduler SCHED_BATCH is policy 3:\n{}",
        out.describe()
    );
    assert_eq!(
        lines.get(3).copied(),
        Some("bind:0"),
        "memoryPolicy:\n{}",
        out.describe()
    );

    // Bad values are refused before anything is created, naming the field.
    let mut b = ctx.bundle(&["true"]);
    b.config_mut()["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_BE", "priority": 9});
    let out = run_ct(&ctx, &b, "f07-bad");
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(out.stderr.contains("process.ioPriority"), "{}", out.describe());
    ctx.assert_no_leftovers("f07-bad", &b.cgroups_path(), None);
}

/// A veth pair made for the test; both ends are removed on drop.
struct Veth(String);
impl Drop for Veth {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.0]).status();
    }
}

/// `linux.netDevices`: a host interface moves into the container under its new name, and a
/// missing one is a clear error that leaves nothing behind.
#[test]
fn f08_net_devices() {
    let Some(ctx) = TestCtx::new("f08") else { return };
    if require_binary("ip").is_none() {
        return;
    }
    let tag = format!("rtc{}", std::process::id() % 100000);
    let (a, peer) = (format!("{tag}a"), format!("{tag}b"));
    let ok = Command::new("ip")
        .args(["link", "add", &a, "type", "veth", "peer", "name", &peer])
        .status()
        .expect("ip link add");
    assert!(ok.success(), "creating a veth pair");
    let _guard = Veth(peer.clone());
    let mut b = ctx.bundle(&["sh", "-c", "ip -o link show dev ctr0"]);
    b.config_mut()["linux"]["netDevices"] = json!({ a.clone(): {"name": "ctr0"} });
    let out = run_ct(&ctx, &b, "f08");
    out.assert_ok();
    assert!(out.stdout.contains("ctr0"), "{}", out.describe());
    let host = fs::read_to_string("/proc/net/dev").unwrap_or_default();
    assert!(
        !host.lines().any(|l| l.trim_start().starts_with(&format!("{a}:"))),
        "{a} is still in the host namespace"
    );

    let mut b = ctx.bundle(&["true"]);
    b.config_mut()["linux"]["netDevices"] = json!({ "rtcnosuchdev": {} });
    let out = run_ct(&ctx, &b, "f08-missing");
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(out.stderr.contains("rtcnosuchdev"), "{}", out.describe());
    ctx.assert_no_leftovers("f08-missing", &b.cgroups_path(), None);
}

/// `linux.intelRdt` on a host without resctrl: a clear error naming the field, nothing left.
#[test]
fn f09_intel_rdt_without_resctrl() {
    let Some(ctx) = TestCtx::new("f09") else { return };
    let mounted = fs::read_to_string("/proc/self/mountinfo").is_ok_and(|m| m.contains(" - resctrl "));
    if mounted {
        conformance::announce("NOTE: f09: this host has resctrl; the no-resctrl error path is not reachable");
        return;
    }
    let mut b = ctx.bundle(&["true"]);
    b.config_mut()["linux"]["intelRdt"] = json!({"closID": "x", "l3CacheSchema": "L3:0=f"});
    let out = run_ct(&ctx, &b, "f09");
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(out.stderr.contains("intelRdt"), "{}", out.describe());
    ctx.assert_no_leftovers("f09", &b.cgroups_path(), None);
}

/// `linux.timeOffsets` (issue 13): a new time namespace whose boottime and monotonic clocks
/// are shifted; without a new time namespace the config is refused, naming the field.
#[test]
fn f10_time_offsets() {
    let Some(ctx) = TestCtx::new("f10") else { return };
    let mut b = ctx.bundle(&["sh", "-c", "cat /proc/uptime; cat /proc/self/timens_offsets"]);
    b.config_mut()["linux"]["namespaces"]
        .as_array_mut()
        .expect("namespaces")
        .push(json!({"type": "time"}));
    b.config_mut()["linux"]["timeOffsets"] = json!({
        "boottime": {"secs": 1_000_000, "nanosecs": 7},
        "monotonic": {"secs": 86400}
    });
    let host_uptime: f64 = fs::read_to_string("/proc/uptime")
        .expect("uptime")
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .expect("uptime value");
    let out = run_ct(&ctx, &b, "f10");
    out.assert_ok();
    let uptime: f64 = out
        .stdout
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("uptime inside:\n{}", out.describe()));
    assert!(
        uptime > host_uptime + 999_000.0 && uptime < host_uptime + 1_001_000.0,
        "boottime offset: host {host_uptime}, inside {uptime}"
    );
    assert!(out.stdout.contains("monotonic"), "{}", out.describe());

    let mut b = ctx.bundle(&["true"]);
    b.config_mut()["linux"]["timeOffsets"] = json!({"boottime": {"secs": 5}});
    let out = run_ct(&ctx, &b, "f10-bad");
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(out.stderr.contains("timeOffsets"), "{}", out.describe());
    ctx.assert_no_leftovers("f10-bad", &b.cgroups_path(), None);
}

/// Id-mapped bind mounts (issue 13): a file owned by uid/gid 0 on disk appears as the
/// mapping's host ids through a mount with its own mappings, and through `idmap` alone it
/// takes the container's user namespace mappings, so root's files look like root's inside a
/// user namespace (where an ordinary bind mount shows them as nobody).
#[test]
fn f11_idmapped_mounts() {
    let Some(ctx) = TestCtx::new("f11") else { return };
    let src = ctx.scratch("idmap-src");
    fs::create_dir_all(&src).expect("mkdir");
    fs::write(src.join("file"), "x").expect("write");
    std::os::unix::fs::chown(src.join("file"), Some(0), Some(0)).expect("chown");
    let mut b = ctx.bundle(&["sh", "-c", "stat -c '%u:%g' /mnt/a/file"]);
    b.config_mut()["mounts"].as_array_mut().expect("mounts").push(json!({
        "destination": "/mnt/a", "type": "bind", "source": src, "options": ["bind", "ro"],
        "uidMappings": [{"containerID": 0, "hostID": 1234, "size": 1}],
        "gidMappings": [{"containerID": 0, "hostID": 4321, "size": 1}],
    }));
    let out = run_ct(&ctx, &b, "f11-own");
    out.assert_ok();
    assert_eq!(out.stdout.trim(), "1234:4321", "{}", out.describe());

    let mut b = ctx.bundle(&["sh", "-c", "stat -c '%u:%g' /mnt/a/file /mnt/b/file"]);
    let map = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    let c = b.config_mut();
    c["linux"]["namespaces"]
        .as_array_mut()
        .expect("ns")
        .push(json!({"type": "user"}));
    c["linux"]["uidMappings"] = map.clone();
    c["linux"]["gidMappings"] = map;
    let m = c["mounts"].as_array_mut().expect("mounts");
    m.retain(|m| m["type"] != "cgroup");
    m.push(json!({"destination": "/mnt/a", "type": "bind", "source": src, "options": ["bind", "idmap"]}));
    m.push(json!({"destination": "/mnt/b", "type": "bind", "source": src, "options": ["bind"]}));
    // The rootfs belongs to host root, unmapped in the container: make the mount points here.
    for d in ["mnt/a", "mnt/b"] {
        fs::create_dir_all(b.rootfs_path(d)).expect("mkdir mount point");
    }
    let out = run_ct(&ctx, &b, "f11-userns");
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines, ["0:0", "65534:65534"], "{}", out.describe());
}
