//! config-linux.md: namespaces, id mappings, time offsets, devices, cgroups, sysctl, seccomp,
//! rootfs propagation, masked and read-only paths, personality, Intel RDT, network devices,
//! memory policy.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use conformance::{cgroup, Bundle};
use serde_json::{json, Value};

use super::{req, Req};
use crate::t::{add_mount, ensure, fail, mount_at, mounts_at, own_ns, runtime_error, skip, Why, R, T};

pub fn reqs() -> Vec<Req> {
    let mut v = vec![req!(
        "config-linux.md/filesystems-available",
        "SHOULD",
        "/proc (proc), /sys (sysfs), /dev/pts (devpts), /dev/shm (tmpfs) are available",
        filesystems
    )];
    for ns in ["pid", "network", "mount", "ipc", "uts", "cgroup", "user", "time"] {
        v.push(Req {
            id: ns_id(ns),
            level: "MUST",
            what: "a listed namespace without path is a new namespace of that type",
            f: ns_fn(ns),
        });
    }
    v.extend([
        req!(
            "config-linux.md/ns-absent-inherits",
            "MUST",
            "a namespace type not listed is inherited from the runtime (network, ipc, uts)",
            ns_absent
        ),
        req!(
            "config-linux.md/ns-path-join",
            "MUST",
            "a namespace with a path is joined",
            ns_path_join
        ),
        req!(
            "config-linux.md/ns-path-wrong-type-fails",
            "MUST",
            "a path that is not a namespace of the given type is an error",
            ns_path_wrong
        ),
        req!(
            "config-linux.md/ns-duplicate-fails",
            "MUST",
            "a namespace type listed twice is an error",
            ns_duplicate
        ),
        req!(
            "config-linux.md/cgroup-ns-root",
            "MUST",
            "in a new cgroup namespace the container's cgroups appear as /",
            cgroup_ns_root
        ),
        req!(
            "config-linux.md/user-ns-mappings",
            "MUST",
            "uidMappings/gidMappings are the user namespace's maps",
            userns_maps
        ),
        req!(
            "config-linux.md/time-ns-offsets",
            "MUST",
            "timeOffsets set the time namespace's monotonic and boottime offsets",
            time_offsets
        ),
        req!(
            "config-linux.md/devices-created",
            "MUST",
            "linux.devices are available with type, major/minor, fileMode, uid, gid",
            devices
        ),
        req!(
            "config-linux.md/devices-existing-mismatch-fails",
            "MUST",
            "a file at a device's path that does not match is an error",
            devices_mismatch
        ),
        req!(
            "config-linux.md/default-devices",
            "MUST",
            "/dev/null, zero, full, random, urandom, tty are supplied",
            default_devices
        ),
        req!(
            "config-linux.md/default-devices-ptmx",
            "MUST",
            "/dev/ptmx is a bind mount or symlink of /dev/pts/ptmx",
            ptmx
        ),
        req!(
            "config-linux.md/cgroups-path",
            "MUST",
            "an absolute cgroupsPath is used below every controller's mount point",
            cgroups_path
        ),
        req!(
            "config-linux.md/cgroups-devices-deny",
            "MUST",
            "resources.devices denies access to a device not allowed",
            |t| devices_cgroup(t, false)
        ),
        req!(
            "config-linux.md/cgroups-devices-allow",
            "MUST",
            "resources.devices allows access to a device allowed",
            |t| devices_cgroup(t, true)
        ),
        req!(
            "config-linux.md/cgroups-memory",
            "MUST",
            "memory limit, reservation and swap are applied",
            cg_memory
        ),
        req!(
            "config-linux.md/cgroups-cpu",
            "MUST",
            "cpu shares, quota and period are applied",
            cg_cpu
        ),
        req!(
            "config-linux.md/cgroups-cpuset",
            "MUST",
            "cpuset cpus and mems are applied",
            cg_cpuset
        ),
        req!("config-linux.md/cgroups-pids", "MUST", "pids limit is applied", cg_pids),
        req!(
            "config-linux.md/cgroups-blkio-weight",
            "MUST",
            "blkio weight is applied",
            cg_blkio
        ),
        req!(
            "config-linux.md/cgroups-hugepage-limits",
            "MUST",
            "hugepage limits are applied",
            cg_hugetlb
        ),
        req!(
            "config-linux.md/cgroups-network",
            "MUST",
            "network classID and priorities are applied",
            cg_network
        ),
        req!(
            "config-linux.md/cgroups-unified-missing-controller-fails",
            "MUST",
            "unified keys of a controller not present in cgroup v2 are an error",
            cg_unified
        ),
        req!(
            "config-linux.md/sysctl",
            "MUST",
            "linux.sysctl values are set in the container",
            sysctl
        ),
        req!(
            "config-linux.md/seccomp-mode",
            "MUST",
            "a seccomp config puts the process in filter mode",
            seccomp_mode
        ),
        req!(
            "config-linux.md/seccomp-errno-default",
            "MUST",
            "SCMP_ACT_ERRNO without errnoRet returns EPERM",
            |t| seccomp_errno(t, None)
        ),
        req!(
            "config-linux.md/seccomp-errno-ret",
            "MUST",
            "errnoRet is the errno SCMP_ACT_ERRNO returns",
            |t| seccomp_errno(t, Some(38))
        ),
        req!(
            "config-linux.md/seccomp-args",
            "MUST",
            "argument conditions select which calls the rule matches",
            seccomp_args
        ),
        req!(
            "config-linux.md/seccomp-kill-process",
            "MUST",
            "SCMP_ACT_KILL_PROCESS kills the process at the call",
            seccomp_kill
        ),
        req!(
            "config-linux.md/seccomp-errno-unsupported-action-fails",
            "MUST",
            "errnoRet on an action without errno is an error",
            seccomp_errno_unsupported
        ),
        req!(
            "config-linux.md/seccomp-invalid-action-fails",
            "MUST",
            "an unknown seccomp action is an error",
            seccomp_invalid_action
        ),
        req!(
            "config-linux.md/rootfs-propagation-private",
            "MUST",
            "rootfsPropagation private: / has no propagation peers",
            |t| rootfs_prop(t, "private")
        ),
        req!(
            "config-linux.md/rootfs-propagation-slave",
            "MUST",
            "rootfsPropagation slave: / is a slave mount",
            |t| rootfs_prop(t, "slave")
        ),
        req!(
            "config-linux.md/rootfs-propagation-shared",
            "MUST",
            "rootfsPropagation shared: / is a shared mount",
            |t| rootfs_prop(t, "shared")
        ),
        req!(
            "config-linux.md/rootfs-propagation-unbindable",
            "MUST",
            "rootfsPropagation unbindable: / is unbindable",
            |t| rootfs_prop(t, "unbindable")
        ),
        req!(
            "config-linux.md/masked-paths",
            "MUST",
            "maskedPaths cannot be read (files empty, directories empty)",
            masked
        ),
        req!(
            "config-linux.md/readonly-paths",
            "MUST",
            "readonlyPaths are read-only",
            readonly
        ),
        req!(
            "config-linux.md/personality",
            "MUST",
            "linux.personality LINUX32 sets the execution domain",
            personality
        ),
        req!(
            "config-linux.md/intel-rdt-without-resctrl-fails",
            "MUST",
            "intelRdt without a mounted resctrl is an error",
            intel_rdt
        ),
        req!(
            "config-linux.md/net-devices",
            "MUST",
            "netDevices are moved into the container under their new name and set up",
            net_devices
        ),
        req!(
            "config-linux.md/memory-policy",
            "MUST",
            "linux.memoryPolicy sets the NUMA policy",
            memory_policy
        ),
        req!(
            "config-linux.md/mount-label",
            "MUST",
            "mountLabel labels the container's mounts",
            mount_label
        ),
    ]);
    v
}

fn ns_id(ns: &str) -> &'static str {
    match ns {
        "pid" => "config-linux.md/ns-pid-new",
        "network" => "config-linux.md/ns-network-new",
        "mount" => "config-linux.md/ns-mount-new",
        "ipc" => "config-linux.md/ns-ipc-new",
        "uts" => "config-linux.md/ns-uts-new",
        "cgroup" => "config-linux.md/ns-cgroup-new",
        "user" => "config-linux.md/ns-user-new",
        _ => "config-linux.md/ns-time-new",
    }
}

fn ns_fn(ns: &str) -> fn(&T) -> R {
    match ns {
        "pid" => |t| ns_new(t, "pid"),
        "network" => |t| ns_new(t, "network"),
        "mount" => |t| ns_new(t, "mount"),
        "ipc" => |t| ns_new(t, "ipc"),
        "uts" => |t| ns_new(t, "uts"),
        "cgroup" => |t| ns_new(t, "cgroup"),
        "user" => |t| ns_new(t, "user"),
        _ => |t| ns_new(t, "time"),
    }
}

fn proc_name(ns: &str) -> &str {
    match ns {
        "network" => "net",
        "mount" => "mnt",
        other => other,
    }
}

fn push_ns(b: &mut Bundle, ns: Value) {
    b.config_mut()["linux"]["namespaces"].as_array_mut().unwrap().push(ns);
}

fn with_userns(b: &mut Bundle) {
    push_ns(b, json!({"type": "user"}));
    b.config_mut()["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    b.config_mut()["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
}

fn ns_new(t: &T, ns: &str) -> R {
    let mut b = t.bundle();
    match ns {
        "cgroup" | "time" => push_ns(&mut b, json!({"type": ns})),
        "user" => with_userns(&mut b),
        _ => {}
    }
    let f = t.facts(&mut b, &[])?;
    let p = proc_name(ns);
    let inside = f["namespaces"][p].as_str().unwrap_or("");
    ensure!(!inside.is_empty(), "no /proc/self/ns/{p} in the container");
    ensure!(inside != own_ns(p), "{p} namespace {inside} is the runtime's");
    Ok(())
}

fn ns_absent(t: &T) -> R {
    let mut b = t.bundle();
    b.config_mut()["linux"]["namespaces"] = json!([{"type": "pid"}, {"type": "mount"}]);
    b.config_mut().as_object_mut().unwrap().remove("hostname");
    let f = t.facts(&mut b, &[])?;
    for p in ["net", "ipc", "uts"] {
        ensure!(
            f["namespaces"][p] == own_ns(p),
            "{p}: {} in the container, the runtime's is {}",
            f["namespaces"][p],
            own_ns(p)
        );
    }
    Ok(())
}

/// A network namespace bound to a file (`unshare --net=FILE`), unmounted on drop.
struct NetNsFile(PathBuf);
impl NetNsFile {
    fn new(t: &T) -> Result<NetNsFile, Why> {
        let f = t.ctx.scratch("netns");
        fs::write(&f, "").unwrap();
        let st = Command::new("unshare")
            .arg(format!("--net={}", f.display()))
            .arg("true")
            .status();
        if !st.is_ok_and(|s| s.success()) {
            return fail("unshare --net=FILE failed");
        }
        Ok(NetNsFile(f))
    }
}
impl Drop for NetNsFile {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
    }
}

fn ns_path_join(t: &T) -> R {
    let n = NetNsFile::new(t)?;
    let ino = fs::metadata(&n.0).map(|m| m.ino()).unwrap_or(0);
    let mut b = t.bundle();
    b.config_mut()["linux"]["namespaces"] =
        json!([{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "network", "path": n.0}]);
    let f = t.facts(&mut b, &[])?;
    ensure!(
        f["namespaces"]["net"] == format!("net:[{ino}]"),
        "net ns {} want net:[{ino}]",
        f["namespaces"]["net"]
    );
    Ok(())
}

fn ns_path_wrong(t: &T) -> R {
    let mut b = t.bundle();
    let uts = format!("/proc/{}/ns/uts", std::process::id());
    b.config_mut()["linux"]["namespaces"] =
        json!([{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "network", "path": uts}]);
    t.refused(&b, "the network namespace path is a UTS namespace")
}

fn ns_duplicate(t: &T) -> R {
    let mut b = t.bundle();
    push_ns(&mut b, json!({"type": "network"}));
    t.refused(&b, "the network namespace is listed twice")
}

fn cgroup_ns_root(t: &T) -> R {
    let mut b = t.bundle();
    push_ns(&mut b, json!({"type": "cgroup"}));
    let f = t.facts(&mut b, &[])?;
    let cg = f["cgroup"].as_str().unwrap_or("");
    for line in cg.lines() {
        let path = line.splitn(3, ':').nth(2).unwrap_or("");
        let ctrl = line.split(':').nth(1).unwrap_or("");
        if ["memory", "pids", "devices", "freezer"].contains(&ctrl) {
            ensure!(
                path == "/",
                "{ctrl} cgroup appears as {path:?} inside a cgroup namespace"
            );
        }
    }
    ensure!(!cg.is_empty(), "no /proc/self/cgroup");
    Ok(())
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn userns_maps(t: &T) -> R {
    let mut b = t.bundle();
    with_userns(&mut b);
    let f = t.facts(&mut b, &[])?;
    let u = squash(f["uid_map"].as_str().unwrap_or(""));
    let g = squash(f["gid_map"].as_str().unwrap_or(""));
    ensure!(
        u == "0 100000 65536" && g == "0 100000 65536",
        "uid_map {u:?} gid_map {g:?}"
    );
    Ok(())
}

fn time_offsets(t: &T) -> R {
    let mut b = t.bundle();
    push_ns(&mut b, json!({"type": "time"}));
    b.config_mut()["linux"]["timeOffsets"] =
        json!({"monotonic": {"secs": 1000, "nanosecs": 5}, "boottime": {"secs": 2000}});
    let f = t.facts(&mut b, &[])?;
    let o = f["timens_offsets"].as_str().unwrap_or("");
    let lines: Vec<String> = o.lines().map(squash).collect();
    ensure!(
        lines.contains(&"monotonic 1000 5".to_string()) && lines.contains(&"boottime 2000 0".to_string()),
        "timens_offsets {o:?}"
    );
    Ok(())
}

fn devices(t: &T) -> R {
    let mut b = t.bundle();
    b.config_mut()["linux"]["devices"] = json!([
        {"path": "/dev/spec-char", "type": "c", "major": 1, "minor": 3, "fileMode": 0o640, "uid": 1, "gid": 2},
        {"path": "/dev/spec-fifo", "type": "p", "fileMode": 0o600, "uid": 3, "gid": 4},
    ]);
    let f = t.facts(&mut b, &["--stat", "/dev/spec-char", "--stat", "/dev/spec-fifo"])?;
    let c = &f["stat"]["/dev/spec-char"];
    ensure!(
        c["type"] == "char" && c["major"] == 1 && c["minor"] == 3,
        "/dev/spec-char: {c}"
    );
    ensure!(
        c["mode"] == 0o640 && c["uid"] == 1 && c["gid"] == 2,
        "/dev/spec-char mode/owner: {c}"
    );
    let p = &f["stat"]["/dev/spec-fifo"];
    ensure!(
        p["type"] == "fifo" && p["mode"] == 0o600 && p["uid"] == 3 && p["gid"] == 4,
        "/dev/spec-fifo: {p}"
    );
    Ok(())
}

fn devices_mismatch(t: &T) -> R {
    let mut b = t.bundle();
    b.config_mut()["linux"]["devices"] = json!([{"path": "/etc/hostname", "type": "c", "major": 1, "minor": 3}]);
    t.refused(&b, "/etc/hostname is a regular file, not character device 1:3")
}

fn default_devices(t: &T) -> R {
    let mut b = t.bundle();
    let want = [
        ("/dev/null", 1, 3),
        ("/dev/zero", 1, 5),
        ("/dev/full", 1, 7),
        ("/dev/random", 1, 8),
        ("/dev/urandom", 1, 9),
        ("/dev/tty", 5, 0),
    ];
    let mut probes = vec![];
    for (p, _, _) in want {
        probes.extend(["--stat", p]);
    }
    let f = t.facts(&mut b, &probes)?;
    for (p, ma, mi) in want {
        let s = &f["stat"][p];
        ensure!(s["type"] == "char" && s["major"] == ma && s["minor"] == mi, "{p}: {s}");
    }
    Ok(())
}

fn ptmx(t: &T) -> R {
    let mut b = t.bundle();
    let f = t.facts(
        &mut b,
        &["--lstat", "/dev/ptmx", "--stat", "/dev/ptmx", "--stat", "/dev/pts/ptmx"],
    )?;
    let l = &f["lstat"]["/dev/ptmx"];
    if l["type"] == "symlink" {
        let target = l["target"].as_str().unwrap_or("");
        ensure!(
            target == "pts/ptmx" || target == "/dev/pts/ptmx",
            "/dev/ptmx -> {target}"
        );
        return Ok(());
    }
    let (a, p) = (&f["stat"]["/dev/ptmx"], &f["stat"]["/dev/pts/ptmx"]);
    ensure!(
        a["ino"] == p["ino"] && a["dev"] == p["dev"],
        "/dev/ptmx {a} is not /dev/pts/ptmx {p}"
    );
    Ok(())
}

fn cgroups_path(t: &T) -> R {
    let b = t.sh_bundle("sleep 60");
    let p = t.created(&b, "c1")?;
    let cg = fs::read_to_string(format!("/proc/{}/cgroup", p.pid)).unwrap_or_default();
    let want = b.cgroups_path();
    for ctrl in ["memory", "pids", "devices", "freezer", "cpu", "cpuset", "blkio"] {
        let line = cg
            .lines()
            .find(|l| l.split(':').nth(1).is_some_and(|c| c.split(',').any(|x| x == ctrl)));
        let Some(line) = line else { continue };
        let path = line.splitn(3, ':').nth(2).unwrap_or("");
        ensure!(path == want, "{ctrl}: {path:?}, want {want:?}");
    }
    Ok(())
}

fn devices_cgroup(t: &T, allow: bool) -> R {
    // The runtime makes the node; the device cgroup answers EPERM before any driver is
    // looked up, so this needs no loop device on the host (an allowed open may give ENXIO).
    let mut b = t.bundle();
    b.config_mut()["linux"]["devices"] =
        json!([{"path": "/dev/spec-loop", "type": "b", "major": 7, "minor": 0, "fileMode": 0o600}]);
    if allow {
        b.config_mut()["linux"]["resources"]["devices"]
            .as_array_mut()
            .unwrap()
            .push(json!({"allow": true, "type": "b", "major": 7, "minor": 0, "access": "rw"}));
    }
    let f = t.facts(&mut b, &["--read", "/dev/spec-loop"])?;
    let r = &f["read"]["/dev/spec-loop"];
    if allow {
        ensure!(r["errno"] != libc::EPERM, "open of an allowed device: {r}");
    } else {
        ensure!(
            r["errno"] == libc::EPERM,
            "open of a device that is not allowed: {r}, want EPERM"
        );
    }
    Ok(())
}

/// Creates the container with `resources`, then reads `files` of `ctrl` in its cgroup.
fn cg_files(t: &T, resources: Value, ctrl: &str, files: &[&str]) -> Result<Vec<Option<String>>, Why> {
    let dir = cgroup::hierarchies().into_iter().find(|h| {
        h.file_name()
            .is_some_and(|n| n.to_string_lossy().split(',').any(|c| c == ctrl))
    });
    let Some(h) = dir else {
        return skip(format!("no {ctrl} cgroup hierarchy on this machine"));
    };
    let mut b = t.sh_bundle("sleep 60");
    for (k, v) in resources.as_object().unwrap() {
        b.config_mut()["linux"]["resources"][k] = v.clone();
    }
    t.created(&b, "c1")?;
    let d = cgroup::dir_in(&h, &b.cgroups_path());
    Ok(files
        .iter()
        .map(|f| fs::read_to_string(d.join(f)).ok().map(|s| s.trim().to_string()))
        .collect())
}

fn file_exists_in(ctrl: &str, file: &str) -> bool {
    Path::new("/sys/fs/cgroup").join(ctrl).join(file).exists()
}

fn cg_memory(t: &T) -> R {
    let swap = file_exists_in("memory", "memory.memsw.limit_in_bytes");
    let mut mem = json!({"limit": 67108864, "reservation": 33554432});
    if swap {
        mem["swap"] = json!(134217728);
    }
    let v = cg_files(
        t,
        json!({"memory": mem}),
        "memory",
        &[
            "memory.limit_in_bytes",
            "memory.soft_limit_in_bytes",
            "memory.memsw.limit_in_bytes",
        ],
    )?;
    ensure!(v[0].as_deref() == Some("67108864"), "memory.limit_in_bytes {:?}", v[0]);
    ensure!(
        v[1].as_deref() == Some("33554432"),
        "memory.soft_limit_in_bytes {:?}",
        v[1]
    );
    if swap {
        ensure!(
            v[2].as_deref() == Some("134217728"),
            "memory.memsw.limit_in_bytes {:?}",
            v[2]
        );
    }
    Ok(())
}

fn cg_cpu(t: &T) -> R {
    let v = cg_files(
        t,
        json!({"cpu": {"shares": 512, "quota": 50000, "period": 100000}}),
        "cpu",
        &["cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us"],
    )?;
    ensure!(
        v[0].as_deref() == Some("512") && v[1].as_deref() == Some("50000") && v[2].as_deref() == Some("100000"),
        "cpu.shares/quota/period {v:?}"
    );
    Ok(())
}

fn cg_cpuset(t: &T) -> R {
    let v = cg_files(
        t,
        json!({"cpu": {"cpus": "0", "mems": "0"}}),
        "cpuset",
        &["cpuset.cpus", "cpuset.mems"],
    )?;
    ensure!(
        v[0].as_deref() == Some("0") && v[1].as_deref() == Some("0"),
        "cpuset.cpus/mems {v:?}"
    );
    Ok(())
}

fn cg_pids(t: &T) -> R {
    let v = cg_files(t, json!({"pids": {"limit": 99}}), "pids", &["pids.max"])?;
    ensure!(v[0].as_deref() == Some("99"), "pids.max {:?}", v[0]);
    Ok(())
}

fn cg_blkio(t: &T) -> R {
    if !file_exists_in("blkio", "blkio.weight") && !file_exists_in("blkio", "blkio.bfq.weight") {
        return skip("this kernel's blkio controller has no weight file (no CFQ/BFQ)");
    }
    let v = cg_files(
        t,
        json!({"blockIO": {"weight": 500}}),
        "blkio",
        &["blkio.weight", "blkio.bfq.weight"],
    )?;
    ensure!(
        v.iter().any(|x| x.as_deref().is_some_and(|s| s.contains("500"))),
        "blkio weight {v:?}"
    );
    Ok(())
}

fn cg_hugetlb(t: &T) -> R {
    if !Path::new("/sys/kernel/mm/hugepages/hugepages-2048kB").exists() {
        return skip("no 2MB huge pages on this machine");
    }
    let mut b = t.sh_bundle("sleep 60");
    b.config_mut()["linux"]["resources"]["hugepageLimits"] = json!([{"pageSize": "2MB", "limit": 4194304}]);
    let out = t.ctx.create_with(&b, "c1", &[]);
    ensure!(out.ok(), "create failed: {}", runtime_error(&out));
    let path = b.cgroups_path();
    let candidates = [
        cgroup::dir_in(Path::new("/sys/fs/cgroup/hugetlb"), &path).join("hugetlb.2MB.limit_in_bytes"),
        cgroup::dir_in(Path::new("/sys/fs/cgroup/unified"), &path).join("hugetlb.2MB.max"),
        cgroup::dir_in(Path::new("/sys/fs/cgroup"), &path).join("hugetlb.2MB.max"),
    ];
    let got: Vec<String> = candidates
        .iter()
        .filter_map(|p| fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .collect();
    ensure!(
        got.iter().any(|g| g == "4194304"),
        "hugetlb 2MB limit files: {got:?} (want 4194304)"
    );
    Ok(())
}

fn cg_network(t: &T) -> R {
    let v = cg_files(
        t,
        json!({"network": {"classID": 1048577, "priorities": [{"name": "lo", "priority": 5}]}}),
        "net_cls",
        &["net_cls.classid"],
    )?;
    ensure!(v[0].as_deref() == Some("1048577"), "net_cls.classid {:?}", v[0]);
    Ok(())
}

fn cg_unified(t: &T) -> R {
    let ctrls = fs::read_to_string("/sys/fs/cgroup/unified/cgroup.controllers")
        .or_else(|_| fs::read_to_string("/sys/fs/cgroup/cgroup.controllers"))
        .unwrap_or_default();
    if ctrls.split_whitespace().any(|c| c == "pids") {
        return skip("the pids controller is on cgroup v2 here: no missing controller to ask for");
    }
    let mut b = t.bundle();
    b.config_mut()["linux"]["resources"]["unified"] = json!({"pids.max": "10"});
    t.refused(
        &b,
        "linux.resources.unified names pids.max but cgroup v2 has no pids controller here",
    )
}

fn sysctl(t: &T) -> R {
    let mut b = t.bundle();
    b.config_mut()["linux"]["sysctl"] = json!({"kernel.shm_rmid_forced": "1", "net.ipv4.ip_forward": "1"});
    let f = t.facts(
        &mut b,
        &[
            "--read",
            "/proc/sys/kernel/shm_rmid_forced",
            "--read",
            "/proc/sys/net/ipv4/ip_forward",
        ],
    )?;
    for p in ["/proc/sys/kernel/shm_rmid_forced", "/proc/sys/net/ipv4/ip_forward"] {
        ensure!(
            f["read"][p]["data"].as_str().map(str::trim) == Some("1"),
            "{p}: {}",
            f["read"][p]
        );
    }
    Ok(())
}

fn mkdir_rule(action: &str, extra: Value) -> Value {
    let mut r = json!({"names": ["mkdir", "mkdirat"], "action": action});
    if let Some(o) = extra.as_object() {
        for (k, v) in o {
            r[k] = v.clone();
        }
    }
    r
}

fn seccomp(b: &mut Bundle, rules: Vec<Value>) {
    b.config_mut()["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": rules,
    });
}

fn seccomp_mode(t: &T) -> R {
    let mut b = t.bundle();
    seccomp(&mut b, vec![mkdir_rule("SCMP_ACT_ERRNO", json!({}))]);
    let f = t.facts(&mut b, &[])?;
    ensure!(f["seccomp"] == 2, "Seccomp: {} (want 2, filter)", f["seccomp"]);
    Ok(())
}

fn seccomp_errno(t: &T, ret: Option<i32>) -> R {
    let mut b = t.bundle();
    let extra = ret.map_or(json!({}), |r| json!({"errnoRet": r}));
    seccomp(&mut b, vec![mkdir_rule("SCMP_ACT_ERRNO", extra)]);
    let f = t.facts(&mut b, &["--mkdir", "/tmp/x"])?;
    let want = ret.unwrap_or(libc::EPERM);
    ensure!(
        f["mkdir"]["/tmp/x"]["errno"] == want,
        "mkdir gave {}, want errno {want}",
        f["mkdir"]["/tmp/x"]
    );
    Ok(())
}

fn seccomp_args(t: &T) -> R {
    // mkdir(path, 0777): arg 1 of mkdir, arg 2 of mkdirat.
    let rule = |mode: u32| {
        vec![
            json!({"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "args": [{"index": 1, "value": mode, "op": "SCMP_CMP_EQ"}]}),
            json!({"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "args": [{"index": 2, "value": mode, "op": "SCMP_CMP_EQ"}]}),
        ]
    };
    let mut b = t.bundle();
    seccomp(&mut b, rule(0o777));
    let f = t.facts(&mut b, &["--mkdir", "/tmp/x"])?;
    ensure!(
        f["mkdir"]["/tmp/x"]["errno"] == 38,
        "matching mode: mkdir gave {}",
        f["mkdir"]["/tmp/x"]
    );
    let mut b = t.bundle();
    seccomp(&mut b, rule(0o700));
    let f = t.facts(&mut b, &["--mkdir", "/tmp/x"])?;
    ensure!(
        f["mkdir"]["/tmp/x"]["ok"] == true,
        "non-matching mode: mkdir gave {}",
        f["mkdir"]["/tmp/x"]
    );
    Ok(())
}

fn seccomp_kill(t: &T) -> R {
    let mut b = t.bundle();
    b.args(&[crate::t::CHECKER, "--mkdir", "/tmp/x"]);
    seccomp(&mut b, vec![mkdir_rule("SCMP_ACT_KILL_PROCESS", json!({}))]);
    let out = t.run(&b, "c1");
    ensure!(
        !out.stdout.contains('{'),
        "the checker survived mkdir and printed its facts"
    );
    ensure!(!out.ok(), "run exited 0");
    ensure!(!b.rootfs_path("tmp/x").exists(), "mkdir happened");
    Ok(())
}

fn seccomp_errno_unsupported(t: &T) -> R {
    let mut b = t.bundle();
    seccomp(&mut b, vec![mkdir_rule("SCMP_ACT_KILL", json!({"errnoRet": 5}))]);
    t.refused(&b, "errnoRet is given for SCMP_ACT_KILL")
}

fn seccomp_invalid_action(t: &T) -> R {
    let mut b = t.bundle();
    seccomp(&mut b, vec![mkdir_rule("SCMP_ACT_NO_SUCH_ACTION", json!({}))]);
    t.refused(&b, "the seccomp action is unknown")
}

/// The bundle's rootfs bind-mounted on itself and made shared in the suite's mount
/// namespace (so slave/shared propagation inside the container has a peer); undone on drop.
struct SharedRootfs(PathBuf);
impl SharedRootfs {
    fn new(b: &Bundle) -> SharedRootfs {
        use nix::mount::{mount, MsFlags};
        let r = b.rootfs();
        mount(Some(&r), &r, None::<&str>, MsFlags::MS_BIND, None::<&str>).expect("bind rootfs");
        mount(None::<&str>, &r, None::<&str>, MsFlags::MS_SHARED, None::<&str>).expect("make rootfs shared");
        SharedRootfs(r)
    }
}
impl Drop for SharedRootfs {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
    }
}

fn rootfs_prop(t: &T, mode: &str) -> R {
    let mut b = t.bundle();
    let _shared = SharedRootfs::new(&b);
    b.config_mut()["linux"]["rootfsPropagation"] = json!(mode);
    let f = t.facts(&mut b, &[])?;
    let Some((_, opt, _, _)) = mount_at(&f, "/") else {
        return fail("no / in mountinfo");
    };
    let has = |p: &str| opt.iter().any(|o| o.starts_with(p));
    let ok = match mode {
        "private" => opt.is_empty(),
        "slave" => has("master:") && !has("shared:"),
        "shared" => has("shared:"),
        _ => has("unbindable"),
    };
    ensure!(ok, "/ has propagation fields {opt:?} for rootfsPropagation {mode}");
    Ok(())
}

fn masked(t: &T) -> R {
    let mut b = t.bundle();
    let f = t.facts(
        &mut b,
        &["--read", "/proc/kcore", "--read", "/proc/keys", "--ls", "/sys/firmware"],
    )?;
    for p in ["/proc/kcore", "/proc/keys"] {
        let r = &f["read"][p];
        ensure!(
            r["ok"] == false || r["data"] == "",
            "{p} is readable: {}",
            crate::report::one_line(&r.to_string(), 80)
        );
    }
    let l = &f["ls"]["/sys/firmware"];
    ensure!(l["ok"] == false || l["names"] == json!([]), "/sys/firmware lists {}", l);
    Ok(())
}

fn readonly(t: &T) -> R {
    let mut b = t.bundle();
    // Paths of the default readonlyPaths that exist on this kernel.
    let paths: Vec<&str> = [
        "/proc/sys/kernel/domainname",
        "/proc/sysrq-trigger",
        "/proc/irq/default_smp_affinity",
    ]
    .into_iter()
    .filter(|p| Path::new(p).exists())
    .collect();
    let mut probes = vec![];
    for p in &paths {
        probes.extend(["--write", p]);
    }
    let f = t.facts(&mut b, &probes)?;
    for p in paths {
        ensure!(
            f["write"][p]["errno"] == libc::EROFS,
            "{p}: write gave {}",
            f["write"][p]
        );
    }
    ensure!(!mounts_at(&f, "/proc/sys").is_empty(), "/proc/sys is not a mount");
    Ok(())
}

fn personality(t: &T) -> R {
    let mut b = t.bundle();
    b.config_mut()["linux"]["personality"] = json!({"domain": "LINUX32"});
    let f = t.facts(&mut b, &[])?;
    ensure!(
        f["personality"].as_u64().is_some_and(|p| p & 0xff == 8),
        "personality {:?}",
        f["personality"]
    );
    Ok(())
}

fn intel_rdt(t: &T) -> R {
    let mounted = fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .contains(" - resctrl ");
    if mounted {
        return skip("resctrl is mounted on this machine");
    }
    let mut b = t.bundle();
    b.config_mut()["linux"]["intelRdt"] = json!({"closID": "spec", "l3CacheSchema": "L3:0=f"});
    t.refused(&b, "intelRdt is set and no resctrl is mounted")
}

/// A veth pair on the host, removed on drop.
struct Veth(String);
impl Drop for Veth {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.0]).status();
    }
}

fn net_devices(t: &T) -> R {
    let Some(ip) = conformance::find_in_path("ip") else {
        return skip("`ip` is not installed");
    };
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let (a, z) = (
        format!("spa{}x{n}", std::process::id()),
        format!("spz{}x{n}", std::process::id()),
    );
    let st = Command::new(&ip)
        .args(["link", "add", &a, "type", "veth", "peer", "name", &z])
        .status();
    ensure!(st.is_ok_and(|s| s.success()), "ip link add veth failed");
    let _v = Veth(a.clone());
    let mut b = t.bundle();
    b.config_mut()["linux"]["netDevices"] = json!({ z.clone(): {"name": "spec0"} });
    let f = t.facts(
        &mut b,
        &["--ls", "/sys/class/net", "--read", "/sys/class/net/spec0/flags"],
    )?;
    let names = &f["ls"]["/sys/class/net"]["names"];
    ensure!(
        names.as_array().is_some_and(|n| n.iter().any(|x| x == "spec0")),
        "interfaces in the container: {names}"
    );
    let flags = f["read"]["/sys/class/net/spec0/flags"]["data"]
        .as_str()
        .unwrap_or("")
        .trim()
        .to_string();
    let up = u64::from_str_radix(flags.trim_start_matches("0x"), 16).is_ok_and(|v| v & 1 == 1);
    ensure!(up, "spec0 is not up (flags {flags:?})");
    Ok(())
}

fn memory_policy(t: &T) -> R {
    if !Path::new("/proc/self/numa_maps").exists() {
        return skip("this kernel has no NUMA support (/proc/self/numa_maps)");
    }
    let mut b = t.bundle();
    b.config_mut()["linux"]["memoryPolicy"] = json!({"mode": "MPOL_BIND", "nodes": "0"});
    let f = t.facts(&mut b, &[])?;
    ensure!(f["numa_policy"] == "bind:0", "numa policy {}", f["numa_policy"]);
    Ok(())
}

fn mount_label(t: &T) -> R {
    let lsm = fs::read_to_string("/sys/kernel/security/lsm").unwrap_or_default();
    if !lsm.split(',').any(|x| x == "selinux") {
        return skip("SELinux is not active on this machine (/sys/kernel/security/lsm)");
    }
    let mut b = t.bundle();
    b.config_mut()["linux"]["mountLabel"] = json!("system_u:object_r:container_file_t:s0");
    add_mount(&mut b, json!({"destination": "/m", "type": "tmpfs", "source": "tmpfs"}));
    let f = t.facts(&mut b, &[])?;
    let o = mount_at(&f, "/m").map(|m| m.3).unwrap_or_default();
    ensure!(o.iter().any(|x| x.starts_with("context=")), "no context= on /m: {o:?}");
    Ok(())
}

fn filesystems(t: &T) -> R {
    let mut b = t.bundle();
    let f = t.facts(&mut b, &[])?;
    for (p, ty) in [
        ("/proc", "proc"),
        ("/sys", "sysfs"),
        ("/dev/pts", "devpts"),
        ("/dev/shm", "tmpfs"),
    ] {
        let got = mount_at(&f, p).map(|m| m.2);
        ensure!(got.as_deref() == Some(ty), "{p}: {got:?}, want {ty}");
    }
    Ok(())
}
