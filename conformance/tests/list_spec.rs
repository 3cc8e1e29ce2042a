//! cli-contract.md §10 items 43 (`list`) and 46 (`spec`).

use std::fs;
use std::os::unix::net::UnixListener;

use conformance::{state_object_problems, RuntimeKind, TestCtx};
use serde_json::Value;

#[test]
fn c43_list_json_and_quiet() {
    let Some(ctx) = TestCtx::new("c43") else { return };
    // No containers: both exit 0; JSON is `[]` (or runc's `null`, which decodes the same in Go).
    for fmt in [&["list", "--format", "json"][..], &["list", "--format=json"][..]] {
        let out = ctx.run(fmt);
        out.assert_ok();
        let v = out.json();
        assert!(
            v.is_null() || v == serde_json::json!([]),
            "empty list must be [] (or null): {}",
            out.describe()
        );
    }
    let q = ctx.run(&["list", "-q"]);
    q.assert_ok();
    assert!(q.stdout.trim().is_empty(), "empty `list -q` printed:\n{}", q.describe());

    let b1 = ctx.bundle(&["sleep", "1000"]);
    let b2 = ctx.bundle(&["sleep", "1000"]);
    ctx.create_ok(&b1, "c43-created");
    ctx.running(&b2, "c43-running");
    let out = ctx.run(&["list", "--format=json"]);
    out.assert_ok();
    let v = out.json();
    let items = v
        .as_array()
        .unwrap_or_else(|| panic!("list --format json must be a JSON array:\n{}", out.describe()));
    assert_eq!(items.len(), 2, "{}", out.describe());
    let mut seen: Vec<(String, String)> = Vec::new();
    for item in items {
        let problems = state_object_problems(item);
        assert!(
            problems.is_empty(),
            "list entry does not decode as go-runc Container:\n  {}\n{item:#}",
            problems.join("\n  ")
        );
        assert!(
            item["owner"].as_str().is_some_and(|o| !o.is_empty()),
            "`owner` must be filled in by list (user name or #uid): {item:#}"
        );
        seen.push((
            item["id"].as_str().unwrap().to_string(),
            item["status"].as_str().unwrap().to_string(),
        ));
    }
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("c43-created".into(), "created".into()),
            ("c43-running".into(), "running".into())
        ],
        "{}",
        out.describe()
    );
    let q = ctx.run(&["list", "-q"]);
    q.assert_ok();
    let mut ids: Vec<&str> = q.stdout.lines().collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        ["c43-created", "c43-running"],
        "`list -q` must print one id per line and nothing else:\n{}",
        q.describe()
    );
}

#[test]
fn c46_spec_default_and_rootless() {
    let Some(ctx) = TestCtx::new("c46") else { return };
    let mut b = ctx.bundle(&["sh"]);
    let cgroups_path = b.cgroups_path();
    let config = b.path().join("config.json");
    fs::remove_file(&config).unwrap();
    ctx.run(&["spec", "--bundle", b.dir_str()]).assert_ok();
    b.reload();
    assert!(
        b.config()["process"].is_object() && b.config()["root"].is_object(),
        "spec wrote:\n{:#}",
        b.config()
    );
    // The only change: an absolute test cgroup (lab rule; `spec` has no cgroupsPath, and an
    // empty one would nest under the caller's process_api cgroup).
    b.config_mut()["linux"]["cgroupsPath"] = Value::from(cgroups_path);
    let terminal = b.config()["process"]["terminal"] == true;
    let sock = ctx.scratch("console.sock");
    let _listener = UnixListener::bind(&sock).expect("bind console socket");
    let extra: Vec<&str> = if terminal {
        vec!["--console-socket", sock.to_str().unwrap()]
    } else {
        vec![]
    };
    ctx.create_with(&b, "c46", &extra).assert_ok();
    assert_eq!(ctx.status("c46"), "created");
    ctx.run(&["delete", "--force", "c46"]).assert_ok();

    // A second `spec` in the same directory refuses to overwrite.
    let before = fs::read(&config).unwrap();
    ctx.run(&["spec", "--bundle", b.dir_str()]).assert_exit(1);
    assert_eq!(
        fs::read(&config).unwrap(),
        before,
        "a refused `spec` changed config.json"
    );

    // --rootless: a user namespace with mappings, no network namespace.
    let dir = ctx.scratch("rootless");
    fs::create_dir(&dir).unwrap();
    ctx.run(&["spec", "--rootless", "--bundle", dir.to_str().unwrap()])
        .assert_ok();
    let v: Value = serde_json::from_str(&fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let ns: Vec<&str> = v["linux"]["namespaces"]
        .as_array()
        .map(|a| a.iter().filter_map(|n| n["type"].as_str()).collect())
        .unwrap_or_default();
    assert!(ns.contains(&"user"), "rootless spec needs a user namespace: {ns:?}");
    assert!(
        !ns.contains(&"network"),
        "rootless spec must not have a network namespace: {ns:?}"
    );
    for key in ["uidMappings", "gidMappings"] {
        let m = v["linux"][key].as_array().cloned().unwrap_or_default();
        assert!(!m.is_empty(), "rootless spec needs linux.{key}: {:#}", v["linux"]);
        assert!(
            m.iter()
                .any(|e| e["containerID"] == 0 && e["size"].as_u64().is_some_and(|s| s >= 1)),
            "linux.{key} must map container id 0: {m:?}"
        );
    }
}

/// A long list (70 containers): every entry once, in id order, each with its own status, and
/// one table row per container.
#[test]
fn c44_long_list_in_order() {
    let Some(ctx) = TestCtx::new("c44") else { return };
    let n = 70;
    let ids: Vec<String> = (0..n).map(|i| format!("c44-{i:03}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let b = ctx.bundle(&["sleep", "1000"]);
        if i % 10 == 0 {
            ctx.running(&b, id);
        } else {
            ctx.create_ok(&b, id);
        }
    }
    let out = ctx.run(&["list", "--format=json"]);
    out.assert_ok();
    let v = out.json();
    let items = v.as_array().expect("a JSON array");
    let got: Vec<(String, String)> = items
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut want: Vec<(String, String)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), if i % 10 == 0 { "running" } else { "created" }.to_string()))
        .collect();
    want.sort();
    let mut got_sorted = got.clone();
    got_sorted.sort();
    assert_eq!(got_sorted, want, "{}", out.describe());
    if ctx.rt.kind == RuntimeKind::RuntimeCli {
        assert_eq!(got, want, "runtime-cli lists in id order:\n{}", out.describe());
    }
    let table = ctx.run(&["list"]);
    table.assert_ok();
    assert_eq!(table.stdout.lines().count(), n + 1, "{}", table.describe());
}
