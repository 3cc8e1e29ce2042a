#!/usr/bin/env bash
# test-cgroups-v2.sh [TARGET...] [-- TEST-ARGS...] — run conformance test targets against
# runtime-cli inside the pure cgroup v2 VM (scripts/vm/run-in-v2-vm.sh). Needs root.
#
# TARGET names test targets of the conformance crate (conformance/tests/TARGET.rs); default:
# cgroups lifecycle kill_delete. A name that is not a test target is an error. The runtime
# (release build, or RUNTIME_CLI_BIN if set) and the test executables are built here on the
# host; only the executables run in the VM. TEST-ARGS go to every test executable (libtest
# arguments, e.g. a name filter); default --test-threads=2.
#
# Environment: RUNTIME_CLI_BIN (default: cargo's release build of runtime-cli, built if needed),
# RUNTIME_CLI_VM_TIMEOUT (seconds for the whole VM run, default 900),
# RUNTIME_CLI_VM_TARGET_TIMEOUT (seconds for one target in the VM, default 600), CI.
# Exit status: 0 when every target passed and no test cgroup was left behind in the VM.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"

if [ "${1:-}" = --inside ]; then
  # In the VM: $2 = directory to run in, then "NAME EXECUTABLE" pairs, then -- and test args.
  cd "$2"
  shift 2
  names=()
  exes=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    names+=("$1")
    exes+=("$2")
    shift 2
  done
  [ $# -gt 0 ] && shift
  failed=()
  for i in "${!names[@]}"; do
    echo "-- ${names[$i]} (in the cgroup v2 VM)"
    t0=$(date +%s)
    rc=0
    timeout -k 10 "${RUNTIME_CLI_VM_TARGET_TIMEOUT:-600}" "${exes[$i]}" "$@" || rc=$?
    [ "$rc" = 124 ] && echo "-- ${names[$i]}: timed out after ${RUNTIME_CLI_VM_TARGET_TIMEOUT:-600} s"
    echo "-- ${names[$i]}: exit $rc, $(($(date +%s) - t0)) s"
    [ "$rc" = 0 ] || failed+=("${names[$i]}")
  done
  # Every test removes its own cgroups: the shared parent must be empty (rmdir fails otherwise).
  if [ -d /sys/fs/cgroup/runtime-cli-test ] && ! rmdir /sys/fs/cgroup/runtime-cli-test; then
    echo "leaked cgroups in the VM:"
    find /sys/fs/cgroup/runtime-cli-test -mindepth 1 -type d
    failed+=("cgroup leak check")
  fi
  if [ ${#failed[@]} -gt 0 ]; then
    echo "failed in the cgroup v2 VM: ${failed[*]}"
    exit 1
  fi
  echo "all passed in the cgroup v2 VM: ${names[*]}, no cgroup left behind"
  exit 0
fi

targets=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  targets+=("$1")
  shift
done
[ $# -gt 0 ] && shift
test_args=("$@")
[ ${#test_args[@]} -gt 0 ] || test_args=(--test-threads=2)
[ ${#targets[@]} -gt 0 ] || targets=(cgroups lifecycle kill_delete)
[ "$(id -u)" = 0 ] || { echo "test-cgroups-v2.sh: run as root" >&2; exit 1; }
command -v jq >/dev/null || { echo "test-cgroups-v2.sh: jq is needed (scripts/setup.sh installs it)" >&2; exit 1; }
command -v cargo >/dev/null || export PATH="$HOME/.cargo/bin:/root/.cargo/bin:$PATH"
cd "$top"

known=$(cargo metadata --locked --no-deps --format-version 1 \
  | jq -r '.packages[] | select(.name == "conformance") | .targets[] | select(.kind == ["test"]) | .name')
args=()
for t in "${targets[@]}"; do
  if ! grep -qx -- "$t" <<<"$known"; then
    echo "test-cgroups-v2.sh: '$t' is not a test target of the conformance crate (no conformance/tests/$t.rs); known: $(echo $known)" >&2
    exit 1
  fi
  args+=(--test "$t")
done

if [ -z "${RUNTIME_CLI_BIN:-}" ]; then
  RUNTIME_CLI_BIN=$(cargo build --locked --release -p runtime-cli --message-format=json-render-diagnostics \
    | jq -r 'select(.reason == "compiler-artifact" and .target.name == "runtime-cli" and .executable != null) | .executable')
fi
[ -x "$RUNTIME_CLI_BIN" ] || { echo "test-cgroups-v2.sh: RUNTIME_CLI_BIN=$RUNTIME_CLI_BIN is not executable" >&2; exit 1; }
RUNTIME_CLI_BIN=$(realpath "$RUNTIME_CLI_BIN")
# The VM mounts its own /run, and its own /tmp unless the working directory is under /tmp
# (run-in-v2-vm.sh keeps the host's /tmp then, so a checkout in /tmp works).
case "$PWD/" in /tmp/*) own_tmp="" ;; *) own_tmp=/tmp ;; esac
case "$RUNTIME_CLI_BIN" in
  /run/* | ${own_tmp:-/nonexistent}/*) echo "test-cgroups-v2.sh: RUNTIME_CLI_BIN=$RUNTIME_CLI_BIN: the VM has its own /tmp and /run; put the binary elsewhere" >&2; exit 1 ;;
esac

# Build the test executables and read their paths from cargo's JSON messages.
pairs=()
json=$(cargo test --locked -p conformance --no-run --message-format=json-render-diagnostics "${args[@]}")
for t in "${targets[@]}"; do
  exe=$(jq -r --arg t "$t" 'select(.reason == "compiler-artifact" and .target.kind == ["test"] and .target.name == $t) | .executable' <<<"$json" | tail -n 1)
  [ -n "$exe" ] && [ -x "$exe" ] || { echo "test-cgroups-v2.sh: no executable for test target $t in cargo's output" >&2; exit 1; }
  pairs+=("$t" "$exe")
done

echo "running ${targets[*]} in the cgroup v2 VM with RUNTIME=runtime-cli RUNTIME_CLI_BIN=$RUNTIME_CLI_BIN"
RUNTIME=runtime-cli RUNTIME_CLI_BIN="$RUNTIME_CLI_BIN" RUNTIME_CLI_VM_TIMING=1 \
  "$here/run-in-v2-vm.sh" --timeout "${RUNTIME_CLI_VM_TIMEOUT:-900}" -- \
  "$here/test-cgroups-v2.sh" --inside "$top/conformance" "${pairs[@]}" -- "${test_args[@]}"
