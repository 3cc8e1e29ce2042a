#!/bin/sh
# conformance/scripts/spec-suite.sh [spec-suite ARGS...]
#
# Builds the static checker that goes into every container (its own target dir, so other
# builds are not invalidated) and the spec-suite runner, then runs the OCI runtime-spec
# requirement suite under guarded-ns.sh. Default arguments: every runtime, the gate on the
# expected-failure list, results in target/spec-suite/.
#
#   conformance/scripts/spec-suite.sh                       # runc, crun, runtime-cli + gate
#   conformance/scripts/spec-suite.sh --runtime runtime-cli --only seccomp
#
# Env: RUNTIME_CLI_BIN (the runtime-cli binary; default target/release, else target/debug),
# SPEC_JOBS (parallel requirements, default 3), CARGO_FLAGS (e.g. --locked).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
cd "$top"
# shellcheck disable=SC2086
RUSTFLAGS="-C target-feature=+crt-static" cargo build ${CARGO_FLAGS:-} -q --release \
  --target x86_64-unknown-linux-gnu -p conformance --bin spec-checker --target-dir target/spec-checker
# shellcheck disable=SC2086
cargo build ${CARGO_FLAGS:-} -q -p conformance --bin spec-suite
checker="$top/target/spec-checker/x86_64-unknown-linux-gnu/release/spec-checker"
if [ "$#" -eq 0 ]; then
  set -- --all --gate "$top/conformance/spec-expected-failures.txt" --out-dir "$top/target/spec-suite"
fi
exec "$here/guarded-ns.sh" "$top/target/debug/spec-suite" --checker "$checker" --jobs "${SPEC_JOBS:-3}" "$@"
