//! Hooks: config.md "POSIX-platform Hooks" and the lifecycle steps of runtime.md that run them.

use std::fs;
use std::path::PathBuf;

use conformance::Bundle;
use serde_json::{json, Value};

use super::{req, Req};
use crate::t::{add_mount, ensure, fail, ns_of, runtime_error, Why, R, T};

pub fn reqs() -> Vec<Req> {
    vec![
        req!("config.md/hooks-lifecycle-order", "MUST", "prestart, createRuntime, createContainer run in create; startContainer, poststart in start; poststop in delete; in that order", order),
        req!("config.md/hooks-state-on-stdin", "MUST", "every hook gets the container state on stdin", state_stdin),
        req!("config.md/hooks-runtime-namespace", "MUST", "prestart, createRuntime, poststart, poststop run in the runtime namespace", runtime_ns),
        req!("config.md/hooks-container-namespace", "MUST", "createContainer and startContainer run in the container namespace", container_ns),
        req!("config.md/hooks-start-container-path-in-container", "MUST", "startContainer's path resolves in the container namespace", start_container_path),
        req!("config.md/hooks-listed-order", "MUST", "hooks of one kind are called in the listed order", listed_order),
        req!("config.md/hooks-args-env", "MUST", "a hook gets args (args[0] may differ from path) and exactly env", args_env),
        req!("config.md/hooks-timeout", "MUST", "a hook running past `timeout` seconds fails the operation", timeout),
        req!("runtime.md/prestart-failure-error", "MUST", "a failing prestart hook is an error and the container is destroyed", |t| create_hook_fails(t, "prestart")),
        req!("runtime.md/create-runtime-failure-error", "MUST", "a failing createRuntime hook is an error and the container is destroyed", |t| create_hook_fails(t, "createRuntime")),
        req!("runtime.md/create-container-failure-error", "MUST", "a failing createContainer hook is an error and the container is destroyed", |t| create_hook_fails(t, "createContainer")),
        req!("runtime.md/start-container-failure-error", "MUST", "a failing startContainer hook is an error; the program does not run", start_container_fails),
        req!("runtime.md/poststart-failure-error", "MUST", "a failing poststart hook is an error and the container is stopped", poststart_fails),
        req!("runtime.md/poststop-failure-warning", "MUST", "a failing poststop hook is only a warning: delete succeeds", poststop_fails),
        req!("runtime.md/hook-failure-runs-poststop", "MUST", "after a failing create hook the lifecycle continues at destroy and poststop hooks run", failure_runs_poststop),
    ]
}

/// A hook running `sh -c script`.
fn sh_hook(script: &str) -> Value {
    json!({"path": "/bin/sh", "args": ["sh", "-c", script]})
}

/// A hook appending `<kind> <mnt ns> <state>` to `log` (a path valid where the hook runs).
fn log_hook(kind: &str, log: &str) -> Value {
    sh_hook(&format!(
        "echo \"{kind} $(readlink /proc/self/ns/mnt) $(tr -d '\\n')\" >> {log}"
    ))
}

struct Logged {
    host_log: PathBuf,
}

/// A bundle with one logging hook of every kind; the log directory is bind-mounted at
/// `/hooklog` so the startContainer hook (which runs after the root switch) can write too.
fn logging_bundle(t: &T, program: &str) -> (Bundle, Logged) {
    let dir = t.dir("hooklog");
    let host_log = dir.join("log");
    let hl = host_log.to_str().unwrap().to_string();
    let mut b = t.sh_bundle(program);
    add_mount(
        &mut b,
        json!({"destination": "/hooklog", "type": "bind", "source": dir, "options": ["rbind", "rw"]}),
    );
    b.config_mut()["hooks"] = json!({
        "prestart": [log_hook("prestart", &hl)],
        "createRuntime": [log_hook("createRuntime", &hl)],
        "createContainer": [log_hook("createContainer", &hl)],
        "startContainer": [log_hook("startContainer", "/hooklog/log")],
        "poststart": [log_hook("poststart", &hl)],
        "poststop": [log_hook("poststop", &hl)],
    });
    (b, Logged { host_log })
}

impl Logged {
    fn lines(&self) -> Vec<(String, String, Value)> {
        fs::read_to_string(&self.host_log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut it = l.splitn(3, ' ');
                let kind = it.next()?.to_string();
                let ns = it.next()?.to_string();
                let state = serde_json::from_str(it.next().unwrap_or("")).unwrap_or(Value::Null);
                Some((kind, ns, state))
            })
            .collect()
    }
    fn kinds(&self) -> Vec<String> {
        self.lines().into_iter().map(|(k, _, _)| k).collect()
    }
}

/// Runs create, start, (program exits), delete; returns the hook kinds seen after each verb
/// and the container's mount namespace.
fn cycle(t: &T) -> Result<(Logged, Vec<Vec<String>>, String), Why> {
    let (b, log) = logging_bundle(t, "true");
    let p = t.created(&b, "c1")?;
    let ct_ns = ns_of(p.pid, "mnt");
    // Hold the container's mount namespace until the end, so that its inode number cannot
    // be reused by a namespace made later (the poststop hook runs after the container died).
    let _hold = fs::File::open(format!("/proc/{}/ns/mnt", p.pid));
    let after_create = log.kinds();
    let out = t.ctx.run(&["start", "c1"]);
    if !out.ok() {
        return fail(format!("start failed: {}", runtime_error(&out)));
    }
    let after_start = log.kinds();
    t.wait_stopped("c1")?;
    let out = t.ctx.run(&["delete", "c1"]);
    if !out.ok() {
        return fail(format!("delete failed: {}", runtime_error(&out)));
    }
    let after_delete = log.kinds();
    Ok((log, vec![after_create, after_start, after_delete], ct_ns))
}

fn order(t: &T) -> R {
    let (_, seen, _) = cycle(t)?;
    let want = [
        vec!["prestart", "createRuntime", "createContainer"],
        vec![
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart",
        ],
        vec![
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart",
            "poststop",
        ],
    ];
    for (i, (got, want)) in seen.iter().zip(want).enumerate() {
        let verb = ["create", "start", "delete"][i];
        ensure!(got == &want, "hooks run when `{verb}` returned: {got:?}, want {want:?}");
    }
    Ok(())
}

fn state_stdin(t: &T) -> R {
    let (log, _, _) = cycle(t)?;
    for (kind, _, state) in log.lines() {
        ensure!(
            state["id"] == "c1" && state["status"].is_string() && state["bundle"].is_string(),
            "{kind} hook got {state} on stdin"
        );
    }
    ensure!(log.lines().len() == 6, "hooks seen: {:?}", log.kinds());
    Ok(())
}

fn runtime_ns(t: &T) -> R {
    let (log, _, ct) = cycle(t)?;
    for (kind, ns, _) in log.lines() {
        if ["prestart", "createRuntime", "poststart", "poststop"].contains(&kind.as_str()) {
            ensure!(ns != ct, "{kind} ran in the container's mount namespace {ns}");
        }
    }
    Ok(())
}

fn container_ns(t: &T) -> R {
    let (log, _, ct) = cycle(t)?;
    let mut n = 0;
    for (kind, ns, _) in log.lines() {
        if ["createContainer", "startContainer"].contains(&kind.as_str()) {
            n += 1;
            ensure!(ns == ct, "{kind} ran in mount namespace {ns}, the container's is {ct}");
        }
    }
    ensure!(n == 2, "hooks seen: {:?}", log.kinds());
    Ok(())
}

fn start_container_path(t: &T) -> R {
    // A path that exists only inside the container's rootfs.
    let dir = t.dir("hooklog");
    let mut b = t.sh_bundle("true");
    fs::write(
        b.rootfs_path("bin/in-container-hook"),
        "#!/bin/sh\ntouch /hooklog/ran\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(
        b.rootfs_path("bin/in-container-hook"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    add_mount(
        &mut b,
        json!({"destination": "/hooklog", "type": "bind", "source": dir, "options": ["rbind", "rw"]}),
    );
    b.config_mut()["hooks"] = json!({"startContainer": [{"path": "/bin/in-container-hook"}]});
    t.running(&b, "c1")?;
    t.wait_stopped("c1")?;
    ensure!(
        dir.join("ran").exists(),
        "the startContainer hook at a container path did not run"
    );
    Ok(())
}

fn listed_order(t: &T) -> R {
    let dir = t.dir("hooklog");
    let log = dir.join("log");
    let l = log.to_str().unwrap();
    let mut b = t.sh_bundle("true");
    // The hooks read their stdin (the state) first: crun 1.8.1 fails when a hook exits
    // before it has read it, which is not what this requirement is about.
    let h = |n: &str| sh_hook(&format!("cat > /dev/null; echo {n} >> {l}"));
    b.config_mut()["hooks"] = json!({"prestart": [h("a"), h("b"), h("c")], "poststop": [h("x"), h("y")]});
    t.running(&b, "c1")?;
    t.wait_stopped("c1")?;
    t.ctx.run(&["delete", "c1"]).assert_ok();
    let got = fs::read_to_string(&log)
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    ensure!(got == "a b c x y", "hooks ran as {got:?}, want \"a b c x y\"");
    Ok(())
}

fn args_env(t: &T) -> R {
    let dir = t.dir("hooklog");
    let log = dir.join("log");
    let mut b = t.sh_bundle("true");
    b.config_mut()["hooks"] = json!({"prestart": [{
        "path": "/bin/sh",
        // argv[0] is only visible in /proc/self/cmdline; `arg1` becomes the script's $0.
        "args": ["my-hook-name", "-c", format!("echo \"$(tr '\\0' '\\n' < /proc/$$/cmdline | head -n 1) $0 ${{FOO-unset}} ${{HOME-unset}}\" > {}", log.display()), "arg1"],
        "env": ["FOO=bar"],
    }]});
    t.created(&b, "c1")?;
    let got = fs::read_to_string(&log).unwrap_or_default();
    ensure!(
        got.trim() == "my-hook-name arg1 bar unset",
        "hook saw {got:?}, want \"my-hook-name arg1 bar unset\""
    );
    Ok(())
}

fn timeout(t: &T) -> R {
    let mut b = t.sh_bundle("true");
    let mut h = sh_hook("exec sleep 20");
    h["timeout"] = json!(1);
    b.config_mut()["hooks"] = json!({"prestart": [h]});
    t.refused(&b, "a prestart hook ran past its 1 s timeout")
}

fn create_hook_fails(t: &T, kind: &str) -> R {
    let mut b = t.sh_bundle("touch /ran");
    b.config_mut()["hooks"] = json!({ kind: [sh_hook("exit 3")] });
    t.refused(&b, &format!("a {kind} hook failed"))?;
    ensure!(!b.rootfs_path("ran").exists(), "the program ran");
    Ok(())
}

fn start_container_fails(t: &T) -> R {
    let mut b = t.sh_bundle("touch /ran");
    b.config_mut()["hooks"] = json!({"startContainer": [sh_hook("exit 3")]});
    t.created(&b, "c1")?;
    let out = t.ctx.run(&["start", "c1"]);
    std::thread::sleep(std::time::Duration::from_millis(200));
    ensure!(
        !b.rootfs_path("ran").exists(),
        "the program ran although startContainer failed"
    );
    ensure!(!out.ok(), "start exited 0 although the startContainer hook failed");
    Ok(())
}

fn poststart_fails(t: &T) -> R {
    let mut b = t.sh_bundle("sleep 60");
    b.config_mut()["hooks"] = json!({"poststart": [sh_hook("exit 3")]});
    let out = t.ctx.create_with(&b, "c1", &[]);
    if !out.ok() {
        return fail(format!(
            "create failed (a poststart hook must run in start): {}",
            runtime_error(&out)
        ));
    }
    let out = t.ctx.run(&["start", "c1"]);
    ensure!(!out.ok(), "start exited 0 although the poststart hook failed");
    t.wait_stopped("c1")
}

fn poststop_fails(t: &T) -> R {
    let mut b = t.sh_bundle("true");
    b.config_mut()["hooks"] = json!({"poststop": [sh_hook("exit 3")]});
    t.running(&b, "c1")?;
    t.wait_stopped("c1")?;
    let out = t.ctx.run(&["delete", "c1"]);
    ensure!(out.ok(), "delete failed: {}", runtime_error(&out));
    ensure!(!t.ctx.state_dir("c1").exists(), "the container still exists");
    Ok(())
}

fn failure_runs_poststop(t: &T) -> R {
    let dir = t.dir("hooklog");
    let log = dir.join("log");
    let mut b = t.sh_bundle("true");
    b.config_mut()["hooks"] = json!({
        "createRuntime": [sh_hook("exit 3")],
        "poststop": [sh_hook(&format!("echo poststop >> {}", log.display()))],
    });
    t.refused(&b, "a createRuntime hook failed")?;
    ensure!(log.exists(), "the poststop hook did not run after the failed create");
    Ok(())
}
