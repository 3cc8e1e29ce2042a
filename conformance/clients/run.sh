#!/usr/bin/env bash
# conformance/clients/run.sh [SUITE...] — run the real-client suites (containerd, podman,
# podman-rootless, docker, cri; default: all) against $RUNTIME_CLI_BIN. Each suite runs in a private mount
# namespace with the supervisor's cgroups covered read-only, in a cgroup of its own under
# /runtime-cli-test/, with a private daemon under a temporary directory that is stopped
# (by pid), unmounted and removed afterwards. Prints PASS/FAIL/XFAIL per operation and a
# summary; exits non-zero if any operation failed, a daemon could not start, an expected
# failure passed, or something was left behind. Needs root and install.sh's packages.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
[ "$(id -u)" = 0 ] || { echo "run.sh: run as root" >&2; exit 1; }
RT="${RUNTIME_CLI_BIN:-}"
if [ -z "$RT" ]; then
  for c in "$top/target/release/runtime-cli" "$top/target/debug/runtime-cli"; do
    [ -x "$c" ] && RT="$c" && break
  done
fi
[ -n "$RT" ] && [ -x "$RT" ] || { echo "run.sh: no runtime-cli binary (cargo build -p runtime-cli, or set RUNTIME_CLI_BIN)" >&2; exit 1; }
RT="$(realpath "$RT")"
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(containerd podman podman-rootless docker cri)
for s in "${suites[@]}"; do
  [ -f "$here/$s.sh" ] || { echo "run.sh: unknown suite $s" >&2; exit 1; }
done

base="$(mktemp -d /tmp/runtime-cli-clients.XXXXXX)"
RESULTS="$base/results"; : > "$RESULTS"
export RT RESULTS XFAIL_FILE="$here/xfail.txt"
source "$here/lib.sh"

t0=$(date +%s)
"$here/mkimage.sh" "$base/img" >"$base/mkimage.log" 2>&1 || { cat "$base/mkimage.log"; echo "FAIL image: mkimage.sh failed"; exit 1; }
export IMG="$base/img"
echo "clients: runtime $RT; busybox image built in $(( $(date +%s) - t0 )) s"

# cleanup_cgroup CG — kill whatever is still inside the suite's cgroup tree (only processes
# the suite started can be there), then rmdir it deepest first. Prints what it found.
cleanup_cgroup() {
  local cg="$1" h left=0 pids
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    pids="$(for h in $(cgroup_hierarchies); do [ -d "$h$cg" ] && find "$h$cg" -name cgroup.procs -exec cat {} +; done 2>/dev/null | sort -u)"
    [ -z "$pids" ] && break
    left=1
    for h in $(cgroup_hierarchies); do
      find "$h$cg" -name freezer.state 2>/dev/null | while read -r f; do echo THAWED > "$f" 2>/dev/null; done
    done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null
    sleep 0.5
  done
  for h in $(cgroup_hierarchies); do
    [ -d "$h$cg" ] && find "$h$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
    [ -d "$h$cg" ] && { echo "cgroup $h$cg could not be removed"; left=1; }
  done
  return $left
}

for s in "${suites[@]}"; do
  ts=$(date +%s)
  WORK="$base/$s"; mkdir -p "$WORK"
  CG="/runtime-cli-test/clients-$s-$$"
  echo "== client suite: $s"
  SUITE="$s" WORK="$WORK" CG="$CG" "$top/conformance/scripts/guarded-ns.sh" bash "$here/$s.sh"
  rc=$?
  if ! grep -q "^[A-Z]* $s/" "$RESULTS"; then
    echo "FAIL $s/setup: the suite recorded no result (exit $rc)" | tee -a "$RESULTS"
  elif [ "$rc" != 0 ] && ! grep -q "^FAIL $s/" "$RESULTS"; then
    echo "FAIL $s/exit: the suite exited with $rc" | tee -a "$RESULTS"
  fi
  if out="$(cleanup_cgroup "$CG")"; then
    echo "PASS $s/no-leftover-processes-or-cgroups" | tee -a "$RESULTS"
  else
    echo "FAIL $s/no-leftover-processes-or-cgroups: $out" | tee -a "$RESULTS"
  fi
  # The daemons' mounts died with the suite's mount namespace; nothing may remain mounted.
  if awk -v d="$WORK" 'index($5, d) == 1' /proc/self/mountinfo | grep -q .; then
    echo "FAIL $s/no-leftover-mounts" | tee -a "$RESULTS"
    umount_below "$WORK"
  fi
  rm -rf --one-file-system "$WORK"
  echo "   ($s took $(( $(date +%s) - ts )) s)"
  # Entries of the expected-failure list for this suite that no operation used are stale.
  grep -v '^[[:space:]]*#' "$XFAIL_FILE" | awk -v s="$s/" 'index($1, s) == 1 { print $1 }' | while read -r k; do
    grep -q "^[A-Z]* $k[: ]" "$RESULTS" || grep -q "^[A-Z]* $k\$" "$RESULTS" ||
      echo "FAIL $k: listed in xfail.txt but no such operation ran; remove it" | tee -a "$RESULTS"
  done
done
for h in $(cgroup_hierarchies); do [ -d "$h/runtime-cli-test" ] && rmdir "$h/runtime-cli-test" 2>/dev/null; done

pass=$(grep -c '^PASS ' "$RESULTS" || true)
fail=$(grep -c '^FAIL ' "$RESULTS" || true)
xfail=$(grep -c '^XFAIL ' "$RESULTS" || true)
echo "== client suites: ${suites[*]} in $(( $(date +%s) - t0 )) s"
grep '^FAIL ' "$RESULTS" | sed 's/^/  /'
echo "$xfail expected failures (conformance/clients/xfail.txt)"
echo "clients: $pass passed, $fail failed"
rm -rf "$base"
[ "$fail" = 0 ]
