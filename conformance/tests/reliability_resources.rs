//! Resource bounds: the runtime's peak memory for `state`, `list`, `list --format json` and
//! `list -q` does not grow with the number of containers in the state root (10 vs 1000).
//! The 990 extra entries are copies of a real container's state directory, marked stopped
//! (pid 0, no cgroup), so that they cost nothing but are read like any other.

mod reliability_common;

use std::path::Path;

use conformance::TestCtx;
use reliability_common::{light_bundle, shared_rootfs};

/// Allowed growth of the peak RSS from 10 to 1000 entries. A runtime that keeps every
/// entry (its state, its output line) in memory needs well over 1 KiB per entry; the bound
/// leaves room for allocator noise only.
const SLACK_KIB: i64 = 512;

/// Peak RSS (KiB) of one runtime invocation, measured by the `conformance-maxrss` helper.
fn peak_rss(ctx: &TestCtx, args: &[&str]) -> i64 {
    let out_file = ctx.scratch("rss");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_conformance-maxrss"))
        .arg(&out_file)
        .arg(&ctx.rt.program)
        .arg("--root")
        .arg(ctx.root())
        .args(args)
        .envs(ctx.rt.env.iter().map(|(k, v)| (k, v)))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run conformance-maxrss");
    assert!(status.success());
    let text = std::fs::read_to_string(&out_file).unwrap();
    let mut w = text.split_whitespace();
    assert_eq!(w.next(), Some("0"), "{args:?} failed: {text}");
    w.next().and_then(|k| k.parse().ok()).expect("maxrss")
}

/// Fill the root up to `n` entries with stopped copies of `model`.
fn fill(root: &Path, model: &serde_json::Value, n: usize) {
    for i in 0..n {
        let id = format!("copy-{i:05}");
        let dir = root.join(&id);
        if dir.exists() {
            continue;
        }
        std::fs::create_dir(&dir).unwrap();
        let mut st = model.clone();
        st["id"] = serde_json::json!(id);
        st["pid"] = serde_json::json!(0);
        st["cgroup"] = serde_json::json!({"dirs": [], "created": []});
        std::fs::write(dir.join("state.json"), st.to_string()).unwrap();
    }
}

#[test]
fn r40_memory_does_not_grow_with_the_number_of_containers() {
    let Some(ctx) = TestCtx::new_exclusive("r40") else {
        return;
    };
    if ctx.rt.kind != conformance::RuntimeKind::RuntimeCli {
        conformance::skip_unsupported("r40: the fake entries use runtime-cli's state format");
        return;
    }
    let rootfs = shared_rootfs(&ctx);
    let b = light_bundle(&ctx, &rootfs, "real", &["sleep", "1000"]);
    ctx.run(&["create", "--bundle", b.to_str().unwrap(), "real"])
        .assert_ok();
    ctx.start_ok("real");
    let model: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ctx.state_dir("real").join("state.json")).unwrap()).unwrap();
    let verbs: [&[&str]; 4] = [
        &["state", "real"],
        &["list"],
        &["list", "--format", "json"],
        &["list", "-q"],
    ];
    fill(ctx.root(), &model, 9);
    // Warm the page cache and take the smaller of two runs against noise.
    let small: Vec<i64> = verbs.iter().map(|v| peak_rss(&ctx, v).min(peak_rss(&ctx, v))).collect();
    fill(ctx.root(), &model, 999);
    let large: Vec<i64> = verbs.iter().map(|v| peak_rss(&ctx, v).min(peak_rss(&ctx, v))).collect();
    let mut report = Vec::new();
    let mut bad = Vec::new();
    for ((v, s), l) in verbs.iter().zip(&small).zip(&large) {
        let line = format!("{}: {s} KiB with 10 entries, {l} KiB with 1000", v.join(" "));
        if l - s > SLACK_KIB {
            bad.push(line.clone());
        }
        report.push(line);
    }
    conformance::announce(&format!("r40: peak RSS\n  {}", report.join("\n  ")));
    // The copies are not containers of this test's cleanup: remove them by hand.
    for e in std::fs::read_dir(ctx.root()).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("copy-") {
            std::fs::remove_dir_all(e.path()).unwrap();
        }
    }
    ctx.run(&["delete", "--force", "real"]).assert_ok();
    assert!(
        bad.is_empty(),
        "memory grows with the number of containers:\n  {}",
        bad.join("\n  ")
    );
}
