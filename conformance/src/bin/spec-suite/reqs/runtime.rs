//! runtime.md (state, lifecycle, operations, errors) and runtime-linux.md.

use std::fs;
use std::time::Duration;

use conformance::{cgroup, wait_until};
use serde_json::json;

use super::{req, Req};
use crate::t::{ensure, ns_of, own_ns, runtime_error, CHECKER, R, T};

pub fn reqs() -> Vec<Req> {
    vec![
        req!(
            "runtime.md/state-fields",
            "MUST",
            "state has ociVersion, id, status, pid (created/running), bundle (absolute)",
            state_fields
        ),
        req!(
            "runtime.md/state-status-created",
            "MUST",
            "status is `created` after create, before start",
            |t| status_after(t, "created")
        ),
        req!(
            "runtime.md/state-status-running",
            "MUST",
            "status is `running` while the program runs",
            |t| status_after(t, "running")
        ),
        req!(
            "runtime.md/state-status-stopped",
            "MUST",
            "status is `stopped` after the program exited",
            |t| status_after(t, "stopped")
        ),
        req!(
            "runtime.md/state-pid-is-host-pid",
            "MUST",
            "state.pid is the container process's pid as seen on the host",
            state_pid
        ),
        req!(
            "runtime.md/state-annotations",
            "MUST",
            "state lists the annotations of the config",
            state_annotations
        ),
        req!(
            "runtime.md/state-unknown-id-fails",
            "MUST",
            "querying a container that does not exist generates an error",
            state_unknown
        ),
        req!(
            "runtime.md/create-program-not-run",
            "MUST",
            "create applies the config but does not run process.args until start",
            create_not_run
        ),
        req!(
            "runtime.md/create-config-updates-ignored",
            "MUST",
            "updates to config.json after create do not affect the container",
            create_config_updates
        ),
        req!(
            "runtime.md/create-duplicate-id-fails",
            "MUST",
            "a non-unique ID is an error and no new container is created",
            create_duplicate
        ),
        req!(
            "runtime.md/create-invalid-id-fails",
            "MUST",
            "an invalid ID is an error and no container is created",
            create_invalid_id
        ),
        req!(
            "runtime.md/create-error-leaves-nothing",
            "MUST",
            "an unappliable config is an error that leaves the environment as before",
            create_error_nothing
        ),
        req!(
            "runtime.md/start-runs-program",
            "MUST",
            "start runs the user-specified program",
            start_runs
        ),
        req!(
            "runtime.md/start-running-fails",
            "MUST",
            "start of a running container is an error with no effect",
            start_running_fails
        ),
        req!(
            "runtime.md/start-stopped-fails",
            "MUST",
            "start of a stopped container is an error with no effect",
            start_stopped_fails
        ),
        req!(
            "runtime.md/start-without-process-fails",
            "MUST",
            "start generates an error if `process` was not set",
            start_without_process
        ),
        req!(
            "runtime.md/kill-delivers-signal",
            "MUST",
            "kill sends the given signal to the container process",
            kill_delivers
        ),
        req!(
            "runtime.md/kill-created",
            "MUST",
            "kill of a created container sends the signal (SIGKILL stops it)",
            kill_created
        ),
        req!(
            "runtime.md/kill-stopped-fails",
            "MUST",
            "kill of a stopped container is an error",
            kill_stopped_fails
        ),
        req!(
            "runtime.md/delete-running-fails",
            "MUST",
            "delete of a running container is an error with no effect",
            delete_running_fails
        ),
        req!(
            "runtime.md/delete-created-fails",
            "MUST",
            "delete of a created (not stopped) container is an error with no effect",
            delete_created_fails
        ),
        req!(
            "runtime.md/delete-removes-resources",
            "MUST",
            "delete removes what create made (state, cgroup, processes)",
            delete_removes
        ),
        req!(
            "runtime.md/delete-keeps-foreign-resources",
            "MUST",
            "delete does not remove resources the container did not create (bind sources, joined namespaces)",
            delete_keeps_foreign
        ),
        req!(
            "runtime.md/id-reusable-after-delete",
            "MAY",
            "after delete the ID can be used for a new container",
            id_reuse
        ),
        req!(
            "runtime-linux.md/fds-only-stdio",
            "MUST",
            "only stdin, stdout and stderr are open in the application by default",
            fds_only_stdio
        ),
        req!(
            "runtime-linux.md/dev-symlinks",
            "MUST",
            "/dev/fd, /dev/stdin, /dev/stdout, /dev/stderr link to /proc/self/fd[/N]",
            dev_symlinks
        ),
    ]
}

fn state_fields(t: &T) -> R {
    let b = t.bundle();
    t.created(&b, "c1")?;
    let s = t.ctx.state("c1");
    ensure!(
        s["ociVersion"].as_str().is_some_and(|v| !v.is_empty()),
        "no ociVersion: {s}"
    );
    ensure!(s["id"] == "c1", "id is {}, want c1", s["id"]);
    ensure!(s["status"].is_string(), "no status: {s}");
    ensure!(
        s["pid"].as_i64().is_some_and(|p| p > 0),
        "no pid > 0 while created: {s}"
    );
    let bundle = s["bundle"].as_str().unwrap_or("");
    ensure!(bundle.starts_with('/'), "bundle {bundle:?} is not absolute");
    let same = fs::canonicalize(bundle).ok() == fs::canonicalize(b.path()).ok();
    ensure!(same, "bundle {bundle:?} is not the bundle directory {}", b.dir_str());
    Ok(())
}

fn status_after(t: &T, want: &str) -> R {
    let b = t.sh_bundle(if want == "stopped" { "true" } else { "sleep 60" });
    t.created(&b, "c1")?;
    if want != "created" {
        t.ctx.start_ok("c1");
    }
    if want == "stopped" {
        return t.wait_stopped("c1");
    }
    let st = t.status("c1");
    ensure!(st.as_deref() == Some(want), "status is {st:?}, want {want}");
    Ok(())
}

fn state_pid(t: &T) -> R {
    let b = t.sh_bundle("sleep 60");
    let p = t.running(&b, "c1")?;
    ensure!(
        ns_of(p.pid, "pid") != own_ns("pid"),
        "state pid {} is not in a new pid namespace (not the container process)",
        p.pid
    );
    let cmd = fs::read_to_string(format!("/proc/{}/cmdline", p.pid)).unwrap_or_default();
    ensure!(
        cmd.contains("sleep"),
        "state pid {} runs {cmd:?}, not the container program",
        p.pid
    );
    Ok(())
}

fn state_annotations(t: &T) -> R {
    let mut b = t.bundle();
    b.annotations(&[("org.example.key", "value-1")]);
    t.created(&b, "c1")?;
    let s = t.ctx.state("c1");
    ensure!(
        s["annotations"]["org.example.key"] == "value-1",
        "annotations in state: {}",
        s["annotations"]
    );
    Ok(())
}

fn state_unknown(t: &T) -> R {
    let out = t.ctx.run(&["state", "no-such-container"]);
    ensure!(!out.ok(), "state of an unknown id exited 0: {}", out.stdout.trim());
    Ok(())
}

fn create_not_run(t: &T) -> R {
    let b = t.sh_bundle("touch /ran");
    t.created(&b, "c1")?;
    std::thread::sleep(Duration::from_millis(200));
    ensure!(!b.rootfs_path("ran").exists(), "the program ran during create");
    let st = t.status("c1");
    ensure!(st.as_deref() == Some("created"), "status {st:?} after create");
    Ok(())
}

fn create_config_updates(t: &T) -> R {
    let mut b = t.sh_bundle("touch /first");
    t.created(&b, "c1")?;
    b.args(&["sh", "-c", "touch /second"]);
    b.save();
    t.ctx.start_ok("c1");
    t.wait_stopped("c1")?;
    ensure!(
        !b.rootfs_path("second").exists(),
        "start ran the args written to config.json after create"
    );
    ensure!(b.rootfs_path("first").exists(), "the original program did not run");
    Ok(())
}

fn create_duplicate(t: &T) -> R {
    let b = t.sh_bundle("sleep 60");
    let p = t.created(&b, "c1")?;
    let b2 = t.sh_bundle("sleep 60");
    let out = t.ctx.create_with(&b2, "c1", &[]);
    ensure!(!out.ok(), "a second create with the same id succeeded");
    ensure!(p.is_alive(), "the first container's init died");
    let s = t.ctx.state("c1");
    ensure!(
        s["pid"] == p.pid && s["status"] == "created",
        "the first container changed: {s}"
    );
    let left = cgroup::existing_dirs(&b2.cgroups_path());
    ensure!(left.is_empty(), "the refused create left cgroups {left:?}");
    Ok(())
}

fn create_invalid_id(t: &T) -> R {
    let b = t.bundle();
    b.save();
    for id in ["../escape", "a/b", ""] {
        let out = t.ctx.run(&["create", "--bundle", b.dir_str(), id]);
        ensure!(!out.ok(), "create with id {id:?} succeeded");
    }
    let left = cgroup::existing_dirs(&b.cgroups_path());
    ensure!(left.is_empty(), "cgroups left: {left:?}");
    ensure!(
        !t.ctx.root().parent().unwrap().join("escape").exists(),
        "`../escape` created a directory outside the root"
    );
    Ok(())
}

fn create_error_nothing(t: &T) -> R {
    let mut b = t.bundle();
    crate::t::add_mount(
        &mut b,
        json!({"destination": "/mnt", "type": "bind", "source": "/nonexistent/spec-suite", "options": ["rbind"]}),
    );
    t.refused(&b, "a bind mount source does not exist")
}

fn start_runs(t: &T) -> R {
    let b = t.sh_bundle("echo ran > /ran");
    t.running(&b, "c1")?;
    t.wait_stopped("c1")?;
    let text = fs::read_to_string(b.rootfs_path("ran")).unwrap_or_default();
    ensure!(text == "ran\n", "the program did not run (marker {text:?})");
    Ok(())
}

fn start_running_fails(t: &T) -> R {
    let b = t.sh_bundle("echo x >> /count; sleep 60");
    let p = t.running(&b, "c1")?;
    wait_until(Duration::from_secs(5), || b.rootfs_path("count").exists());
    let out = t.ctx.run(&["start", "c1"]);
    ensure!(!out.ok(), "start of a running container exited 0");
    std::thread::sleep(Duration::from_millis(200));
    let n = fs::read_to_string(b.rootfs_path("count"))
        .unwrap_or_default()
        .lines()
        .count();
    ensure!(n == 1, "the program ran {n} times");
    ensure!(
        p.is_alive() && t.status("c1").as_deref() == Some("running"),
        "the container changed"
    );
    Ok(())
}

fn start_stopped_fails(t: &T) -> R {
    let b = t.sh_bundle("echo x >> /count");
    t.running(&b, "c1")?;
    t.wait_stopped("c1")?;
    let out = t.ctx.run(&["start", "c1"]);
    ensure!(!out.ok(), "start of a stopped container exited 0");
    std::thread::sleep(Duration::from_millis(200));
    let n = fs::read_to_string(b.rootfs_path("count"))
        .unwrap_or_default()
        .lines()
        .count();
    ensure!(n == 1, "the program ran {n} times");
    ensure!(
        t.status("c1").as_deref() == Some("stopped"),
        "status changed to {:?}",
        t.status("c1")
    );
    Ok(())
}

fn start_without_process(t: &T) -> R {
    let mut b = t.bundle();
    b.config_mut().as_object_mut().unwrap().remove("process");
    b.save();
    let out = t.ctx.create_with(&b, "c1", &[]);
    if !out.ok() {
        return Ok(()); // refusing at create is allowed: process is REQUIRED for start
    }
    let out = t.ctx.run(&["start", "c1"]);
    ensure!(!out.ok(), "start without `process` exited 0");
    Ok(())
}

fn kill_delivers(t: &T) -> R {
    let b = t.sh_bundle("trap 'echo got > /term; exit 0' TERM; touch /ready; while true; do sleep 0.1; done");
    t.running(&b, "c1")?;
    ensure!(
        wait_until(Duration::from_secs(5), || b.rootfs_path("ready").exists()),
        "program did not start"
    );
    let out = t.ctx.run(&["kill", "c1", "TERM"]);
    ensure!(out.ok(), "kill failed: {}", runtime_error(&out));
    let got = wait_until(Duration::from_secs(5), || b.rootfs_path("term").exists());
    ensure!(got, "the container process did not receive SIGTERM");
    Ok(())
}

fn kill_created(t: &T) -> R {
    let b = t.sh_bundle("true");
    let p = t.created(&b, "c1")?;
    let out = t.ctx.run(&["kill", "c1", "KILL"]);
    ensure!(out.ok(), "kill of a created container failed: {}", runtime_error(&out));
    ensure!(
        wait_until(Duration::from_secs(5), || !p.is_alive()),
        "the init survived SIGKILL"
    );
    t.wait_stopped("c1")
}

fn kill_stopped_fails(t: &T) -> R {
    let b = t.sh_bundle("true");
    t.running(&b, "c1")?;
    t.wait_stopped("c1")?;
    let out = t.ctx.run(&["kill", "c1", "TERM"]);
    ensure!(!out.ok(), "kill of a stopped container exited 0");
    ensure!(t.status("c1").as_deref() == Some("stopped"), "the container changed");
    Ok(())
}

fn delete_running_fails(t: &T) -> R {
    let b = t.sh_bundle("sleep 60");
    let p = t.running(&b, "c1")?;
    let out = t.ctx.run(&["delete", "c1"]);
    ensure!(!out.ok(), "delete of a running container exited 0");
    ensure!(p.is_alive(), "the container process was killed");
    ensure!(
        t.status("c1").as_deref() == Some("running"),
        "status is {:?}",
        t.status("c1")
    );
    Ok(())
}

fn delete_created_fails(t: &T) -> R {
    let b = t.sh_bundle("sleep 60");
    let p = t.created(&b, "c1")?;
    let out = t.ctx.run(&["delete", "c1"]);
    ensure!(!out.ok(), "delete of a created container exited 0 (and removed it)");
    ensure!(p.is_alive(), "the container process was killed");
    Ok(())
}

fn delete_removes(t: &T) -> R {
    let b = t.sh_bundle("true");
    let p = t.running(&b, "c1")?;
    t.wait_stopped("c1")?;
    let out = t.ctx.run(&["delete", "c1"]);
    ensure!(out.ok(), "delete failed: {}", runtime_error(&out));
    let mut left = Vec::new();
    wait_until(Duration::from_secs(2), || {
        left = t.ctx.leftovers("c1", &b.cgroups_path(), Some(p));
        left.is_empty()
    });
    ensure!(left.is_empty(), "{}", left.join("; "));
    ensure!(!t.ctx.run(&["state", "c1"]).ok(), "state still answers after delete");
    Ok(())
}

fn delete_keeps_foreign(t: &T) -> R {
    let data = t.dir("foreign");
    fs::write(data.join("keep"), "x").unwrap();
    let mut b = t.sh_bundle("cat /data/keep");
    crate::t::add_mount(
        &mut b,
        json!({"destination": "/data", "type": "bind", "source": data, "options": ["rbind", "ro"]}),
    );
    t.running(&b, "c1")?;
    t.wait_stopped("c1")?;
    let out = t.ctx.run(&["delete", "c1"]);
    ensure!(out.ok(), "delete failed: {}", runtime_error(&out));
    ensure!(
        data.join("keep").exists(),
        "delete removed the bind-mount source's contents"
    );
    ensure!(b.rootfs_path(CHECKER).exists(), "delete removed the rootfs contents");
    Ok(())
}

fn id_reuse(t: &T) -> R {
    let b = t.sh_bundle("true");
    t.running(&b, "c1")?;
    t.wait_stopped("c1")?;
    t.ctx.run(&["delete", "c1"]).assert_ok();
    let b2 = t.sh_bundle("true");
    t.created(&b2, "c1").map(|_| ())
}

fn fds_only_stdio(t: &T) -> R {
    let mut b = t.bundle();
    let f = t.facts(&mut b, &[])?;
    let fds: Vec<&String> = f["fds"].as_object().map(|m| m.keys().collect()).unwrap_or_default();
    let extra: Vec<String> = f["fds"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !["0", "1", "2"].contains(&k.as_str()))
        .map(|(k, v)| format!("{k}->{}", v.as_str().unwrap_or("")))
        .collect();
    ensure!(extra.is_empty(), "extra open fds: {}", extra.join(", "));
    ensure!(fds.len() == 3, "stdio fds: {fds:?}");
    Ok(())
}

fn dev_symlinks(t: &T) -> R {
    let mut b = t.bundle();
    let paths = ["/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr"];
    let mut probes = Vec::new();
    for p in paths {
        probes.extend(["--lstat", p]);
    }
    let f = t.facts(&mut b, &probes)?;
    let want = ["/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2"];
    for (p, w) in paths.iter().zip(want) {
        let s = &f["lstat"][*p];
        ensure!(
            s["type"] == "symlink" && s["target"] == w,
            "{p}: {s}, want a symlink to {w}"
        );
    }
    Ok(())
}
