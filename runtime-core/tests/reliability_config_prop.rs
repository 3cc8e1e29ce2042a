//! Property test (no root needed): malformed and adversarial `config.json` documents fed to
//! validation (`spec::load`) never panic; they load, or fail with one line that is an
//! invalid-argument or not-supported error; a changed JSON type is reported with the name
//! of the field; unknown properties are ignored.

mod adversarial;

use std::path::PathBuf;

use proptest::prelude::*;
use runtime_core::ErrorKind;

/// Generated cases per run; `PROPTEST_CASES` overrides.
const CASES: u32 = 300;

struct Dir(PathBuf);

impl Dir {
    fn new() -> Dir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "rc-prop-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(p.join("rootfs")).unwrap();
        Dir(p)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(CASES);
    ProptestConfig {
        cases,
        failure_persistence: None,
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn malformed_configs_give_one_clear_error(case in adversarial::case()) {
        let d = Dir::new();
        let base = adversarial::base("rootfs", "/runtime-cli-test/prop");
        std::fs::write(d.0.join("config.json"), case.render(&base)).unwrap();
        match runtime_core::spec::load(&d.0) {
            Ok(checked) => {
                prop_assert!(case.wrong_type_field(&base).is_none(), "a wrong type was accepted: {case:?}");
                // Everything `create` decides before the fork: may still refuse (a namespace
                // path that is no namespace, an unknown capability...), in one line.
                let opts = runtime_core::plan::PlanOptions::default();
                if let Err(e) = runtime_core::plan::build(&checked, &opts) {
                    let msg = e.to_string();
                    prop_assert!(!msg.trim().is_empty() && !msg.contains('\n'), "plan error: {msg:?}");
                    prop_assert!(!case.only_unknown(), "unknown properties were not ignored: {msg}");
                }
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(!msg.trim().is_empty());
                prop_assert!(!msg.contains('\n'), "error is not one line: {msg:?}");
                prop_assert!(
                    matches!(e.kind(), ErrorKind::InvalidArgument | ErrorKind::NotSupported),
                    "kind {:?} for a bad config: {msg}", e.kind()
                );
                prop_assert!(!case.only_unknown(), "unknown properties were not ignored: {msg}");
                if let Some(field) = case.wrong_type_field(&base) {
                    prop_assert!(msg.contains(&field), "error does not name {field}: {msg}");
                }
            }
        }
    }
}

#[test]
fn unknown_properties_everywhere_are_ignored() {
    let d = Dir::new();
    let doc = adversarial::with_unknown_fields(adversarial::base("rootfs", "/runtime-cli-test/prop"));
    std::fs::write(d.0.join("config.json"), serde_json::to_vec(&doc).unwrap()).unwrap();
    runtime_core::spec::load(&d.0).unwrap();
}

#[test]
fn base_document_is_valid() {
    let d = Dir::new();
    let doc = adversarial::base("rootfs", "/runtime-cli-test/prop");
    std::fs::write(d.0.join("config.json"), serde_json::to_vec(&doc).unwrap()).unwrap();
    runtime_core::spec::load(&d.0).unwrap();
}
