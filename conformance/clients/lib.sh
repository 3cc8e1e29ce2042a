# lib.sh — sourced by the client suites: per-operation results, the expected-failure list,
# timeouts, and the suite's own cgroup. Variables set by run.sh: RESULTS (file the verdicts
# are appended to), SUITE (suite name), WORK (the suite's private temp dir), RT (runtime-cli
# binary), IMG (directory made by mkimage.sh), CG (the suite's cgroup, e.g.
# /runtime-cli-test/clients-podman-1234), XFAIL_FILE.
set -uo pipefail
here_lib="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${XFAIL_FILE:=$here_lib/xfail.txt}"

# T CMD... — run an external command with a timeout, so a hung client fails its operation
# instead of the run.
T() { timeout -k 5 "${OP_TIMEOUT:-120}" "$@"; }

# xfail_reason OP — the reason line if SUITE/OP is on the expected-failure list.
xfail_reason() {
  local key="$SUITE/$1"
  awk -v k="$key" '$1 == k { $1 = ""; sub(/^ +/, ""); print; found = 1; exit } END { exit !found }' \
    <(grep -v '^[[:space:]]*#' "$XFAIL_FILE")
}

# op NAME CMD... — run one client operation (usually a shell function); its output goes to
# $WORK/ops/NAME.log and is shown when it fails. Prints and records PASS, FAIL or XFAIL; an
# operation on the expected-failure list that passes is a FAIL ("newly passing").
op() {
  local name="$1"; shift
  local log="$WORK/ops/$name.log" rc=0 reason t0=$SECONDS
  mkdir -p "$WORK/ops"
  # Not `( ... ) || rc=$?`: bash ignores `set -e` inside anything on the left of `||`.
  ( set -ex; "$@" ) >"$log" 2>&1
  rc=$?
  local took="($((SECONDS - t0)) s)"
  if reason="$(xfail_reason "$name")"; then
    if [ "$rc" = 0 ]; then
      echo "FAIL $SUITE/$name: newly passing, remove it from conformance/clients/xfail.txt ($reason)" | tee -a "$RESULTS"
    else
      echo "XFAIL $SUITE/$name: $reason $took" | tee -a "$RESULTS"
      sed 's/^/    | /' "$log" | tail -n 5
    fi
  elif [ "$rc" = 0 ]; then
    echo "PASS $SUITE/$name $took" | tee -a "$RESULTS"
  else
    echo "FAIL $SUITE/$name (exit $rc) $took" | tee -a "$RESULTS"
    sed 's/^/    | /' "$log" | tail -n 25
  fi
  return 0
}

# fatal MSG — the suite cannot go on (e.g. its daemon did not start): a FAIL, never a skip.
fatal() {
  echo "FAIL $SUITE/setup: $*" | tee -a "$RESULTS"
  exit 1
}

# expect_in TEXT NEEDLE — fail (with both shown) unless NEEDLE occurs in TEXT.
expect_in() {
  case "$1" in
    *"$2"*) return 0 ;;
  esac
  printf 'expected to find %q in:\n%s\n' "$2" "$1" >&2
  return 1
}

# refute CMD... — succeed only if CMD fails (`! CMD` would not stop a `set -e` operation).
refute() {
  if "$@"; then echo "unexpectedly succeeded: $*" >&2; return 1; fi
  return 0
}

# expect_eq GOT WANT [WHAT]
expect_eq() {
  [ "$1" = "$2" ] && return 0
  printf '%s: got %q, want %q\n' "${3:-value}" "$1" "$2" >&2
  return 1
}

# cgroup_hierarchies — mount points of every cgroup (v1) and cgroup2 hierarchy, one per line.
cgroup_hierarchies() {
  awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo | sort -u
}

# enter_own_cgroup — move this shell (and so every daemon it starts) into $CG/daemon in every
# hierarchy, out of the caller's cgroups (which may be the machine supervisor's).
enter_own_cgroup() {
  local h p part
  for h in $(cgroup_hierarchies); do
    p="$h"
    for part in $(echo "${CG#/}" | tr / " ") daemon; do
      [ -d "$p/$part" ] || mkdir "$p/$part"
      # A new v1 cpuset has no cpus or mems: give it its parent's.
      if [ -f "$p/cpuset.cpus" ] && [ -z "$(cat "$p/$part/cpuset.cpus")" ]; then
        cat "$p/cpuset.cpus" > "$p/$part/cpuset.cpus"
        cat "$p/cpuset.mems" > "$p/$part/cpuset.mems"
      fi
      p="$p/$part"
    done
    echo $$ > "$p/cgroup.procs" || fatal "cannot enter $p"
  done
}

# memory_limit_of CGPATH — memory.limit_in_bytes of a v1 cgroup path (e.g. from /proc/PID/cgroup).
memory_limit_of() { cat "/sys/fs/cgroup/memory$1/memory.limit_in_bytes"; }

# cgroup_of PID CONTROLLER — the v1 cgroup path of PID for CONTROLLER.
cgroup_of() { awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$1/cgroup"; }

# wait_for SECONDS CMD... — retry CMD every 0.2 s until it succeeds or SECONDS pass.
wait_for() {
  local n=$(( $1 * 5 )); shift
  while [ "$n" -gt 0 ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2; n=$((n - 1))
  done
  "$@"
}

# stop_pid PID [SECONDS] — SIGTERM the daemon we started, SIGKILL it after SECONDS (10).
stop_pid() {
  local pid="$1" n=$(( ${2:-10} * 5 ))
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && [ "$n" -gt 0 ]; do sleep 0.2; n=$((n - 1)); done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# umount_below DIR — detach every mount at or below DIR (deepest first).
umount_below() {
  local d; d="$(realpath -m "$1")"
  awk -v d="$d" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# remember_new_dirs PATH... / remove_new_empty_dirs — at exit, remove those PATHs (deepest
# given first) that did not exist when remembered: directories if empty, files always (the
# clients hard-code a few: the containerd shim and ctr /run/containerd/{s,fifo}, dockerd
# /run/docker/plugins, podman /dev/shm/libpod_lock).
new_dirs=()
remember_new_dirs() {
  local x
  for x in "$@"; do [ -e "$x" ] || new_dirs+=("$x"); done
}
remove_new_empty_dirs() {
  local x
  for x in "${new_dirs[@]}"; do
    if [ -d "$x" ]; then rmdir "$x" 2>/dev/null || true; else rm -f "$x"; fi
  done
}
