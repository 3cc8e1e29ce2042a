//! The checked-in `include/runtime.h` must be exactly what cbindgen generates from the code.
//! Regenerate with `cbindgen --config cbindgen.toml --crate runtime-capi --output
//! include/runtime.h` (in runtime-capi/). Needs the `cbindgen` program (Debian: cbindgen).

use std::path::Path;
use std::process::Command;

#[test]
fn header_matches_generated() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::temp_dir().join(format!("runtime-capi-header-{}.h", std::process::id()));
    let run = Command::new("cbindgen")
        .current_dir(dir)
        .args([
            "--config",
            "cbindgen.toml",
            "--crate",
            "runtime-capi",
            "--quiet",
            "--output",
        ])
        .arg(&out)
        .status();
    let status = match run {
        Ok(s) => s,
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            println!("SKIP: cbindgen not runnable ({e}); install cbindgen (scripts/setup.sh)");
            return;
        }
        Err(e) => panic!("cbindgen is required in CI (scripts/setup.sh installs it): {e}"),
    };
    assert!(status.success(), "cbindgen failed: {status}");
    let generated = std::fs::read_to_string(&out).expect("reading the generated header");
    let _ = std::fs::remove_file(&out);
    let checked_in = std::fs::read_to_string(dir.join("include/runtime.h")).expect("reading include/runtime.h");
    assert!(
        generated == checked_in,
        "include/runtime.h is out of date: regenerate it with \
         `cbindgen --config cbindgen.toml --crate runtime-capi --output include/runtime.h` in runtime-capi/"
    );
}
