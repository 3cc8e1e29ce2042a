#!/usr/bin/env bash
# test.sh — set up everything and run the whole test suite (as root): formatting and lints,
# unit tests, then the conformance suite against the built runtime-cli (and runc side by
# side), inside a private mount namespace that guards the host's supervisor cgroups.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/.." && pwd)"
cd "$top"
"$here/setup.sh"
command -v cargo >/dev/null || export PATH="$HOME/.cargo/bin:/root/.cargo/bin:$PATH"
export CI="${CI:-}"

echo "== fmt and clippy"
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings

echo "== unit tests"
cargo test --locked --workspace --exclude conformance

echo "== build"
cargo build --locked --release -p runtime-cli
export RUNTIME_CLI_BIN="$top/target/release/runtime-cli"

echo "== library example (create, start, wait, delete without the CLI)"
ex="$(mktemp -d /tmp/runtime-cli-example.XXXXXX)"
CGROUP_PREFIX=/runtime-cli-test "$here/mkbundle.sh" "$RUNTIME_CLI_BIN" "$ex/bundle" /bin/sh -c 'echo hello from the example; exit 7'
out="$(conformance/scripts/guarded-ns.sh cargo run --locked --release -q -p runtime-core --example lifecycle -- "$ex/bundle" "$ex/state")"
echo "$out"
rm -rf "$ex"
if echo "$out" | grep -q "exited with 7, status stopped" && echo "$out" | grep -q "^deleted$"; then
  echo "1 passed, 0 failed: library example"
else
  echo "0 passed, 1 failed: library example"; exit 1
fi

echo "== C API"
# libruntime from C (ASan/UBSan/LSan) and Go, the header drift check; see runtime-capi/tests/run.sh.
runtime-capi/tests/run.sh

echo "== conformance (runtime-cli)"
RUNTIME=runtime-cli conformance/scripts/guarded-ns.sh cargo test --locked -p conformance -- --test-threads=2

echo "== no test cgroup left behind"
# Every test removes its own cgroups; the shared /runtime-cli-test parents must now be
# empty (rmdir fails on a cgroup that still has children: that is a leak).
leak=0
for d in /sys/fs/cgroup/*/runtime-cli-test /sys/fs/cgroup/runtime-cli-test; do
  [ -d "$d" ] || continue
  if find "$d" -mindepth 1 -type d | grep -q .; then
    echo "leaked cgroups under $d:"; find "$d" -mindepth 1 -type d; leak=1
  else
    rmdir "$d"
  fi
done
[ "$leak" = 0 ]
echo "1 passed, 0 failed: cgroup leak check"

echo "== cgroup v2 VM"
# The host is hybrid cgroup v1: run the cgroup suites again in a QEMU VM whose kernel has
# only cgroup v2 (scripts/vm/; the first run installs qemu and Debian's kernel).
"$here/vm/selftest-v2.sh"
"$here/vm/test-cgroups-v2.sh"

echo "== AppArmor in the VM"
# The host has no LSM; the VM's kernel has AppArmor: the profile test runs for real there.
"$here/vm/test-cgroups-v2.sh" security -- apparmor_profile_applied_or_refused --test-threads=1
