#!/usr/bin/env bash
# selftest-v2.sh — checks that run-in-v2-vm.sh gives a pure cgroup v2 machine and behaves as
# documented (exit status, stdout/stderr, environment, nothing left behind). Needs root.
# Prints one PASS/FAIL line per check; exit 0 when everything passed.
#
# On the host it boots the VM once, running itself there with --inside; inside it exits
# with 42 when every in-VM check passed (so the host also checks that the status comes back).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fails=0
check() { # check NAME CMD...: PASS if CMD succeeds
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then
    echo "PASS  $name"
  else
    echo "FAIL  $name${out:+: $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')}"
    fails=$((fails + 1))
  fi
}

if [ "${1:-}" = --inside ]; then
  cg=/sys/fs/cgroup
  check "RUNTIME_CLI_V2_VM=1 is set" test "${RUNTIME_CLI_V2_VM:-}" = 1
  check "passed-through variable arrives" test "${RUNTIME_CLI_SELFTEST_TOKEN:-}" = "a b'c"
  check "other host variables do not" test -z "${SELFTEST_NOT_PASSED:-}"
  check "cgroup2 file system at $cg" test "$(stat -f -c %T $cg)" = cgroup2fs
  check "mounted with nsdelegate,memory_recursiveprot" \
    grep -Eq "^cgroup2 $cg cgroup2 .*nsdelegate.*memory_recursiveprot" /proc/mounts
  check "no cgroup v1 hierarchy mounted" sh -c '! awk "\$3 == \"cgroup\"" /proc/mounts | grep -q .'
  check "every v1 controller disabled (/proc/cgroups hierarchy 0)" \
    sh -c '! awk "!/^#/ && \$2 != 0" /proc/cgroups | grep -q .'
  check "no cgroup v1 line in /proc/self/cgroup" test "$(grep -vc '^0::' /proc/self/cgroup)" = 0
  for c in cpuset cpu io memory hugetlb pids rdma misc; do
    check "controller $c in the root cgroup.controllers" grep -qw "$c" $cg/cgroup.controllers
  done
  check "root subtree_control = every controller" \
    test "$(cat $cg/cgroup.subtree_control)" = "$(cat $cg/cgroup.controllers)"
  check "the command runs in a child cgroup" grep -qx '0::/runtime-cli-vm/cmd' /proc/self/cgroup
  check "its parent delegates every controller" \
    test "$(cat $cg/runtime-cli-vm/cgroup.subtree_control)" = "$(cat $cg/cgroup.controllers)"
  t=$cg/runtime-cli-selftest
  check "a new cgroup gets memory.max, cpu.max, pids.max, io.weight, cgroup.freeze, cgroup.kill" \
    sh -c "mkdir $t && for f in memory.max cpu.max pids.max io.weight cpuset.cpus hugetlb.2MB.max cgroup.freeze cgroup.kill; do test -e $t/\$f || { echo no \$f; exit 1; }; done"
  check "memory.max is enforced (OOM kill counted)" \
    sh -c "echo 32M >$t/memory.max && echo 0 >$t/memory.swap.max && (echo 0 >$t/cgroup.procs && exec dd if=/dev/zero of=/dev/null bs=100M count=1 2>/dev/null); grep -q 'oom_kill [1-9]' $t/memory.events"
  rmdir $t 2>/dev/null
  # /tmp is the host's (read-only lower layer) when the checkout itself lives under /tmp.
  case "$PWD/" in /tmp/*) tmp_mp="" ;; *) tmp_mp=/tmp ;; esac
  check "proc, sysfs, devtmpfs, devpts, /dev/shm, /dev/mqueue, /run${tmp_mp:+, /tmp} mounted" \
    sh -c "for m in /proc /sys /dev /dev/pts /dev/shm /dev/mqueue /run $tmp_mp; do mountpoint -q \$m || { echo \$m; exit 1; }; done"
  check "root file system is a writable overlay" sh -c 'test "$(stat -f -c %T /)" = overlayfs && touch /selftest-write && rm /selftest-write'
  check "user, pid, mount, cgroup, time namespaces" unshare -U -p -m -C -T -f -r true
  check "a cgroup namespace sees itself as /" test "$(unshare -C cat /proc/self/cgroup)" = "0::/"
  check "AppArmor is the active LSM" grep -qw apparmor /sys/kernel/security/lsm
  check "AppArmor is enabled" grep -qx Y /sys/module/apparmor/parameters/enabled
  check "apparmor_parser loads a profile" sh -c \
    'printf "profile runtime-cli-selftest flags=(complain) {\n}\n" | apparmor_parser -a && grep -q "^runtime-cli-selftest " /sys/kernel/security/apparmor/profiles'
  check "an enforced AppArmor profile denies a read" sh -c \
    'printf "profile runtime-cli-selftest-deny {\n  /** rix,\n  deny /etc/hostname r,\n}\n" | apparmor_parser -a && test "$(aa-exec -p runtime-cli-selftest-deny -- cat /proc/self/attr/current)" = "runtime-cli-selftest-deny (enforce)" && aa-exec -p runtime-cli-selftest-deny -- cat /etc/hostname 2>&1 | grep -q "Permission denied" && cat /etc/hostname'
  echo "kernel $(uname -r), LSMs $(cat /sys/kernel/security/lsm 2>/dev/null), $(nproc) CPUs, $(awk '/MemTotal/ {print int($2/1024) " MiB"}' /proc/meminfo)"
  echo "to stderr" >&2
  [ "$fails" = 0 ] && exit 42
  exit 1
fi

[ "$(id -u)" = 0 ] || { echo "selftest-v2.sh: run as root" >&2; exit 1; }
# apparmor_parser, to check that profiles load in the VM (the host kernel has no LSM)
if ! dpkg-query -W -f='${Status}' apparmor 2>/dev/null | grep -q 'install ok installed'; then
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d; }
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends apparmor; } >&2 \
    || { echo "selftest-v2.sh: apt-get install apparmor failed" >&2; exit 1; }
fi
work=$(mktemp -d /tmp/runtime-cli-vm-selftest.XXXXXX)
trap 'rm -rf "$work"' EXIT
before=$(ls -d /run/runtime-cli-vm.* 2>/dev/null | wc -l)
rc=0
RUNTIME_CLI_SELFTEST_TOKEN="a b'c" SELFTEST_NOT_PASSED=1 RUNTIME_CLI_VM_TIMING=1 \
  "$here/run-in-v2-vm.sh" -- "$here/selftest-v2.sh" --inside >"$work/out" 2>"$work/err" || rc=$?
cat "$work/out"
check "the VM returned the command's exit status (42 = all in-VM checks passed)" test "$rc" = 42
check "stdout came back, separate from stderr" sh -c "grep -q '^PASS' '$work/out' && ! grep -q 'to stderr' '$work/out'"
check "stderr came back" grep -qx 'to stderr' "$work/err"
check "no control directory left in /run" test "$(ls -d /run/runtime-cli-vm.* 2>/dev/null | wc -l)" = "$before"
check "no QEMU process of the harness left" sh -c '! ps -eo args= | grep "^[^ ]*qemu-system-x86_64 .*runtime-cli-vm\." '
grep '^run-in-v2-vm:' "$work/err"
echo "selftest-v2: $fails host-side failure(s), in-VM exit status $rc"
[ "$fails" = 0 ]
