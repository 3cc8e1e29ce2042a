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

# The host's /dev/null must come out of the whole run as it went in (runtimes under test have
# been seen to chown it: crun 1.8.1, see conformance/scripts/crun-wrap.sh).
devnull_before="$(stat -c '%u:%g %a' /dev/null)"

echo "== fmt and clippy"
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings

echo "== unit tests"
cargo test --locked --workspace --exclude conformance

echo "== build (the shipped binary: release, static; scripts/build-release.sh)"
RUNTIME_CLI_BIN="$("$here/build-release.sh")"
export RUNTIME_CLI_BIN

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

echo "== spec requirement suite (runc, crun, runtime-cli; gate: conformance/spec-expected-failures.txt)"
# Every testable MUST/SHOULD of the OCI runtime spec against the three runtimes; fails when
# runtime-cli misses a requirement that is not in the expected-failure list, or passes one
# that is. Table: target/spec-suite/spec-results.md.
CARGO_FLAGS=--locked conformance/scripts/spec-suite.sh

echo "== real clients (containerd, podman, docker, Kubernetes CRI)"
t_install=$SECONDS
conformance/clients/install.sh
echo "client install: $((SECONDS - t_install)) s"
conformance/clients/run.sh

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

echo "== host /dev/null unchanged"
devnull_after="$(stat -c '%u:%g %a' /dev/null)"
if [ "$devnull_after" != "$devnull_before" ]; then
  echo "the host's /dev/null changed during the run: $devnull_before -> $devnull_after"
  chown "${devnull_before%% *}" /dev/null; chmod "${devnull_before##* }" /dev/null
  echo "0 passed, 1 failed: host /dev/null unchanged"; exit 1
fi
echo "1 passed, 0 failed: host /dev/null unchanged ($devnull_after)"
