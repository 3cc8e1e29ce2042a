//! Rootless containers (issue 13): the runtime run by an unprivileged user that the test
//! creates (with subordinate ids in /etc/subuid and /etc/subgid), with its state root under
//! the user's `XDG_RUNTIME_DIR`, a user namespace created first, and no cgroup of its own.
//! Only meaningful for runtime-cli (runc and crun have rootless modes of their own with
//! other requirements, such as a writable cgroup or systemd).

use std::fs;
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use conformance::{require_binary, Bundle, RuntimeKind, TestCtx};
use serde_json::{json, Value};

const USER: &str = "rtcli-rootless";

/// The test user's (uid, gid, first subordinate id): created once when missing.
fn test_user() -> (u32, u32, u32) {
    static USER_IDS: std::sync::OnceLock<(u32, u32, u32)> = std::sync::OnceLock::new();
    *USER_IDS.get_or_init(make_test_user)
}

fn make_test_user() -> (u32, u32, u32) {
    if Command::new("id")
        .arg(USER)
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        let st = Command::new("useradd")
            .args(["--no-create-home", "--shell", "/bin/sh", USER])
            .status()
            .expect("useradd");
        assert!(st.success(), "useradd {USER}");
    }
    let id = |flag: &str| -> u32 {
        let o = Command::new("id").args([flag, USER]).output().expect("id");
        String::from_utf8_lossy(&o.stdout).trim().parse().expect("numeric id")
    };
    let (uid, gid) = (id("-u"), id("-g"));
    let sub = |file: &str| -> Option<u32> {
        fs::read_to_string(file).ok()?.lines().find_map(|l| {
            let mut f = l.split(':');
            (f.next()? == USER).then(|| f.next()?.parse().ok()).flatten()
        })
    };
    if sub("/etc/subuid").is_none() || sub("/etc/subgid").is_none() {
        let st = Command::new("usermod")
            .args(["--add-subuids", "300000-365535", "--add-subgids", "300000-365535", USER])
            .status()
            .expect("usermod");
        assert!(st.success(), "usermod --add-subuids");
    }
    assert_eq!(sub("/etc/subuid"), sub("/etc/subgid"), "test expects equal sub ranges");
    (uid, gid, sub("/etc/subuid").expect("subuid"))
}

struct Rootless<'a> {
    ctx: &'a TestCtx,
    bin: PathBuf,
    xdg: PathBuf,
    uid: u32,
    gid: u32,
    sub: u32,
}

impl Rootless<'_> {
    /// Runs the runtime as the test user (default state root: `$XDG_RUNTIME_DIR`).
    fn rt(&self, args: &[&str]) -> Output {
        // Output goes to files: a container's init inherits stdio and would hold a pipe open.
        let (o, e) = (self.ctx.scratch("rootless.out"), self.ctx.scratch("rootless.err"));
        let status = Command::new("setpriv")
            .args([
                &format!("--reuid={}", self.uid),
                &format!("--regid={}", self.gid),
                "--clear-groups",
                "--inh-caps=-all",
                "--",
            ])
            .arg(&self.bin)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("XDG_RUNTIME_DIR", &self.xdg)
            .env("HOME", &self.xdg)
            .stdin(std::process::Stdio::null())
            .stdout(fs::File::create(&o).expect("stdout file"))
            .stderr(fs::File::create(&e).expect("stderr file"))
            .status()
            .expect("setpriv");
        Output {
            status,
            stdout: fs::read(&o).unwrap_or_default(),
            stderr: fs::read(&e).unwrap_or_default(),
        }
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let o = self.rt(args);
        assert!(
            o.status.success(),
            "`{}` as {USER} failed: {}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr),
            String::from_utf8_lossy(&o.stdout)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// A bundle for the user: user namespace with `maps`, writable rootfs /tmp owned by the
    /// user, no resources.
    fn bundle(&self, args: &[&str], maps: Value) -> Bundle {
        let mut b = self.ctx.bundle(args);
        let c = b.config_mut();
        c["root"]["readonly"] = json!(false);
        c["linux"]["namespaces"]
            .as_array_mut()
            .expect("ns")
            .push(json!({"type": "user"}));
        c["linux"]["uidMappings"] = maps.clone();
        c["linux"]["gidMappings"] = maps;
        if let Some(o) = c.as_object_mut() {
            o.get_mut("linux")
                .and_then(|l| l.as_object_mut())
                .map(|l| l.remove("resources"));
        }
        // An unprivileged user cannot mount a cgroup filesystem outside its own namespace.
        if let Some(m) = c["mounts"].as_array_mut() {
            m.retain(|m| m["type"] != "cgroup" && m["type"] != "cgroup2");
            // As `spec --rootless` does: ids in mount options may not be mapped.
            for m in m.iter_mut() {
                if let Some(o) = m["options"].as_array_mut() {
                    o.retain(|o| {
                        !o.as_str()
                            .is_some_and(|o| o.starts_with("uid=") || o.starts_with("gid="))
                    });
                }
            }
        }
        b.save();
        let tmp = b.rootfs_path("tmp");
        chown(&tmp, Some(self.uid), Some(self.gid)).expect("chown rootfs/tmp");
        // The user must reach the bundle: every directory above it is root's, 0755.
        for d in b.path().ancestors().take(3) {
            let _ = fs::set_permissions(d, fs::Permissions::from_mode(0o755));
        }
        b
    }
}

fn setup(ctx: &TestCtx) -> Option<Rootless<'_>> {
    if ctx.rt.kind != RuntimeKind::RuntimeCli {
        conformance::announce(&format!(
            "NOTE: rootless tests drive runtime-cli only, not {}",
            ctx.rt.name
        ));
        return None;
    }
    require_binary("setpriv")?;
    require_binary("newuidmap")?;
    let (uid, gid, sub) = test_user();
    // A copy of the binary the user can execute (a checkout under /root is not reachable).
    let dir = ctx.scratch("rootless");
    fs::create_dir_all(&dir).expect("mkdir");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod");
    let bin = dir.join("runtime-cli");
    fs::copy(&ctx.rt.binary, &bin).expect("copy the runtime binary");
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).expect("chmod");
    let xdg = dir.join("xdg");
    fs::create_dir_all(&xdg).expect("mkdir xdg");
    chown(&xdg, Some(uid), Some(gid)).expect("chown xdg");
    fs::set_permissions(&xdg, fs::Permissions::from_mode(0o700)).expect("chmod xdg");
    for d in Path::new(&dir).ancestors().take(4) {
        let _ = fs::set_permissions(d, fs::Permissions::from_mode(0o755));
    }
    Some(Rootless {
        ctx,
        bin,
        xdg,
        uid,
        gid,
        sub,
    })
}

fn owner(p: &Path) -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    (m.uid(), m.gid())
}

/// create, start, exec, kill, delete as the user; uid 0 inside is the user outside; a file
/// the container creates belongs to the user on the host; the state is under XDG_RUNTIME_DIR.
#[test]
fn r01_rootless_lifecycle() {
    let Some(ctx) = TestCtx::new("r01") else { return };
    let Some(r) = setup(&ctx) else { return };
    let maps = json!([{"containerID": 0, "hostID": r.uid, "size": 1}]);
    let b = r.bundle(&["sleep", "60"], maps);
    let id = "r01";
    // Whatever happens, the user's container goes (the harness only knows its own root).
    struct Cleanup<'a>(&'a Rootless<'a>, &'a str);
    impl Drop for Cleanup<'_> {
        fn drop(&mut self) {
            let _ = self.0.rt(&["delete", "--force", self.1]);
        }
    }
    let _cleanup = Cleanup(&r, id);
    r.ok(&["create", "--bundle", b.dir_str(), id]);
    assert!(
        r.xdg.join("runtime-cli").join(id).is_dir(),
        "state under XDG_RUNTIME_DIR"
    );
    r.ok(&["start", id]);
    let state: Value = serde_json::from_str(&r.ok(&["state", id])).expect("state JSON");
    assert_eq!(state["status"], "running");
    let out = r.ok(&["exec", id, "sh", "-c", "cat /proc/self/uid_map; id -u; touch /tmp/made"]);
    let words: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(&words[..3], ["0", &r.uid.to_string(), "1"], "uid map: {out}");
    assert_eq!(words.get(3).copied(), Some("0"), "root inside: {out}");
    assert_eq!(
        owner(&b.rootfs_path("tmp/made")),
        (r.uid, r.gid),
        "the file belongs to the user"
    );
    r.ok(&["kill", id, "KILL"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while serde_json::from_str::<Value>(&r.ok(&["state", id])).expect("state")["status"] != "stopped" {
        assert!(std::time::Instant::now() < deadline, "container did not stop");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    r.ok(&["delete", id]);
    assert!(!r.xdg.join("runtime-cli").join(id).exists(), "state removed");
}

/// A range mapping from /etc/subuid goes through newuidmap/newgidmap; a process running as
/// uid 1000 inside creates files owned by sub + 999 on the host.
#[test]
fn r02_rootless_range_mapping_through_newuidmap() {
    let Some(ctx) = TestCtx::new("r02") else { return };
    let Some(r) = setup(&ctx) else { return };
    let maps = json!([
        {"containerID": 0, "hostID": r.uid, "size": 1},
        {"containerID": 1, "hostID": r.sub, "size": 65536}
    ]);
    let mut b = r.bundle(&["sh", "-c", "id -u; touch /tmp/ranged"], maps);
    b.config_mut()["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    b.save();
    // uid 1000 inside must be able to write /tmp: make it world-writable (sticky).
    fs::set_permissions(b.rootfs_path("tmp"), fs::Permissions::from_mode(0o1777)).expect("chmod");
    let out = r.ok(&["run", "--bundle", b.dir_str(), "r02"]);
    assert_eq!(out.trim(), "1000");
    assert_eq!(
        owner(&b.rootfs_path("tmp/ranged")),
        (r.sub + 999, r.sub + 999),
        "mapped through the subordinate range"
    );
}

/// `spec --rootless` written by the user runs as is (terminal and all: a foreground `run`
/// proxies the terminal, here fed from a pipe) and exits with the shell's status.
#[test]
fn r03_rootless_spec_runs_as_is() {
    let Some(ctx) = TestCtx::new("r03") else { return };
    let Some(r) = setup(&ctx) else { return };
    let dir = ctx.scratch("rootless-spec");
    fs::create_dir_all(dir.join("rootfs")).expect("mkdir");
    conformance::bundle::build_rootfs(&dir.join("rootfs")).expect("rootfs");
    for p in [dir.clone(), dir.join("rootfs")] {
        chown(&p, Some(r.uid), Some(r.gid)).expect("chown");
    }
    let script = format!(
        "cd {} && \"$0\" spec --rootless && (sleep 1; echo 'echo as-is-ok; exit 4') | \"$0\" run r03",
        dir.display()
    );
    let (out_path, err_path) = (ctx.scratch("r03.out"), ctx.scratch("r03.err"));
    let o = Command::new("setpriv")
        .args([
            &format!("--reuid={}", r.uid),
            &format!("--regid={}", r.gid),
            "--clear-groups",
            "--",
            "/bin/sh",
            "-c",
            &script,
        ])
        .arg(&r.bin)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("XDG_RUNTIME_DIR", &r.xdg)
        .stdout(fs::File::create(&out_path).expect("out"))
        .stderr(fs::File::create(&err_path).expect("err"))
        .status()
        .expect("setpriv");
    let out = fs::read_to_string(&out_path).unwrap_or_default();
    let err = fs::read_to_string(&err_path).unwrap_or_default();
    assert_eq!(o.code(), Some(4), "exit status of the shell:\n{out}\n{err}");
    assert!(out.contains("as-is-ok"), "{out}\n{err}");
    let config: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("config.json")).expect("config")).expect("json");
    assert_eq!(config["linux"]["uidMappings"][0]["hostID"], r.uid, "mapped to the user");
}
