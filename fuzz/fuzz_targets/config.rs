//! Any bytes as `config.json`: validation (`spec::load`) and, for documents that pass, the
//! launch plan (`plan::build`) must return an error or a value, never panic. Each run uses a
//! bundle directory of this process under the temp dir, with an empty `rootfs`.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn bundle() -> &'static PathBuf {
    static B: OnceLock<PathBuf> = OnceLock::new();
    B.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("runtime-fuzz-config-{}", std::process::id()));
        std::fs::create_dir_all(d.join("rootfs")).expect("bundle dir");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let b = bundle();
    std::fs::write(b.join("config.json"), data).expect("write config.json");
    match runtime_core::spec::load(b) {
        Ok(checked) => {
            let opts = runtime_core::plan::PlanOptions::default();
            if let Err(e) = runtime_core::plan::build(&checked, &opts) {
                assert!(!e.to_string().is_empty());
            }
        }
        Err(e) => {
            // One line naming the problem.
            let msg = e.to_string();
            assert!(!msg.is_empty() && !msg.contains('\n'), "{msg:?}");
        }
    }
});
