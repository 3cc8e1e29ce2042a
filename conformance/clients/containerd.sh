#!/usr/bin/env bash
# containerd.sh — a private containerd 1.6 drives runtime-cli through `ctr run --runc-binary`
# and the io.containerd.runc.v2 shim. Run by run.sh (see lib.sh for the variables).
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh"
enter_own_cgroup

d="$WORK/containerd"
mkdir -p "$d/root" "$d/state" "$d/runc-root"
sock="$d/containerd.sock"
# `disabled_plugins`: the CRI plugin is the cri suite's business.
cat > "$d/config.toml" <<CONF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
CONF
remember_new_dirs /run/containerd/s /run/containerd/fifo /run/containerd
containerd --config "$d/config.toml" --log-level warn >"$d/containerd.log" 2>&1 &
cpid=$!
cleanup() {
  # Tasks and containers first (the shims exit with them), then the daemon by its pid.
  for id in $(ctr -a "$sock" task ls -q 2>/dev/null); do ctr -a "$sock" task kill -s SIGKILL "$id" 2>/dev/null; done
  sleep 0.5
  for id in $(ctr -a "$sock" container ls -q 2>/dev/null); do
    ctr -a "$sock" task delete -f "$id" >/dev/null 2>&1; ctr -a "$sock" container delete "$id" >/dev/null 2>&1
  done
  stop_pid "$cpid"
  umount_below "$d"
  remove_new_empty_dirs
}
trap cleanup EXIT
wait_for 20 /usr/bin/ctr -a "$sock" version || { cat "$d/containerd.log"; fatal "containerd did not start (pid $cpid)"; }

ctr() { T /usr/bin/ctr -a "$sock" "$@"; }
# task_is ID STATUS — `ctr task ls` shows ID with STATUS.
task_is() { ctr task ls | awk -v i="$1" -v s="$2" '$1 == i && $3 == s { f = 1 } END { exit !f }'; }
task_pid() { ctr task ls | awk -v i="$1" '$1 == i { print $2 }'; }
image=docker.io/library/busybox:latest
# Every container: runtime-cli as the runc binary of the v2 shim, its state root in our temp
# dir, its cgroup under our own test cgroup, a private network namespace (ctr's default).
runargs() { echo --runc-binary "$RT" --runc-root "$d/runc-root" --cgroup "$CG/c/$1"; }

import_image() {
  ctr image import --base-name docker.io/library/busybox "$IMG/busybox-oci.tar"
  ctr image ls -q | grep -qx "$image"
}
op image-import import_image

run_rm_foreground() {
  local out
  out="$(ctr run --rm $(runargs fg1) "$image" fg1 /bin/echo hello from busybox)"
  expect_eq "$out" "hello from busybox" "ctr run output"
}
op run-rm-foreground run_rm_foreground

exit_code_propagated() {
  local rc=0
  ctr run --rm $(runargs ex1) "$image" ex1 /bin/sh -c 'exit 7' || rc=$?
  expect_eq "$rc" 7 "ctr run exit status"
}
op exit-code-propagated exit_code_propagated

# typed CMD... — run a client on a pty of its own (ptytype.py), wait for busybox sh's prompt,
# type a command and `exit 3`; the output (echo of the typed line, then its result) goes to
# stdout and the exit status is the client's. ptytype.py also fails (125) if the client left
# the pty's terminal modes changed (raw mode not restored).
typed() { T "$here/ptytype.py" 'echo typed-$((6*7)); tty; exit 3\n' -- "$@"; }
expect_typed() {
  local out rc=0
  out="$(typed "$@" | tr -d '\r')" || rc=$?
  echo "$out"
  expect_in "$out" "typed-42"
  expect_in "$out" "/dev/pts/"
  expect_eq "$rc" 3 "exit status of the interactive session"
}

run_tty_interactive() {
  # `ctr run -t`: ctr puts its terminal in raw mode and copies it to the container's console
  # (the master the shim got from runtime-cli through --console-socket).
  expect_typed /usr/bin/ctr -a "$sock" run -t --rm $(runargs tty1) "$image" tty1 /bin/sh
  if ctr task ls -q | grep -qx tty1; then echo "task tty1 left behind" >&2; return 1; fi
}
op run-tty-interactive run_tty_interactive

runtime_error_in_ctr_message() {
  local out rc=0
  out="$(ctr run --rm $(runargs err1) "$image" err1 /no/such/binary 2>&1)" || rc=$?
  echo "$out"
  [ "$rc" != 0 ] || { echo "ctr run succeeded" >&2; return 1; }
  expect_in "$out" "OCI runtime create failed"
  expect_in "$out" "/no/such/binary"
  expect_in "$out" "no such file or directory"
  case "$out" in *"unable to retrieve OCI runtime error"*) echo "the shim could not read runtime-cli's log" >&2; return 1 ;; esac
  # Nothing is left of the failed container's task.
  if ctr task ls -q | grep -qx err1; then echo "task err1 left behind" >&2; return 1; fi
}
op runtime-error-in-ctr-message runtime_error_in_ctr_message

run_detached() {
  ctr run -d $(runargs bg1) "$image" bg1 /bin/sh -c 'echo started > /tmp/marker; exec sleep 1000'
  wait_for 10 task_is bg1 RUNNING
}
op run-detached run_detached

task_exec() {
  local out
  out="$(ctr task exec --exec-id e1 bg1 /bin/cat /tmp/marker)"
  expect_eq "$out" started "exec output"
  local rc=0
  ctr task exec --exec-id e2 bg1 /bin/sh -c 'exit 5' || rc=$?
  expect_eq "$rc" 5 "exec exit status"
}
op task-exec task_exec

task_exec_tty() {
  # `-t` needs a terminal on ctr's side: script(1) gives it one.
  local out
  out="$(T script -qec "ctr -a '$sock' task exec -t --exec-id t1 bg1 /bin/sh -c 'tty; test -t 0 && echo stdin-is-a-tty'" /dev/null | tr -d '\r')"
  echo "$out"
  expect_in "$out" "/dev/pts/"
  expect_in "$out" "stdin-is-a-tty"
  # Interactively: a shell on the exec's pty runs what is typed; its exit status comes back.
  expect_typed /usr/bin/ctr -a "$sock" task exec -t --exec-id t2 bg1 /bin/sh
}
op task-exec-tty task_exec_tty

task_ps() {
  local out pid
  out="$(ctr task ps bg1)"
  echo "$out"
  pid="$(task_pid bg1)"
  [ -n "$pid" ]
  echo "$out" | awk 'NR > 1 { print $1 }' | grep -qx "$pid"
}
op task-ps task_ps

task_metrics() {
  local out
  out="$(ctr task metrics bg1)"
  echo "$out"
  expect_in "$out" "memory.usage_in_bytes"
  expect_in "$out" "pids.current"
}
op task-metrics task_metrics

pause_resume() {
  local pid cg
  ctr task pause bg1
  task_is bg1 PAUSED
  pid="$(task_pid bg1)"
  cg="$(cgroup_of "$pid" freezer)"
  expect_eq "$(cat "/sys/fs/cgroup/freezer$cg/freezer.state")" FROZEN "freezer.state"
  ctr task resume bg1
  task_is bg1 RUNNING
  expect_eq "$(cat "/sys/fs/cgroup/freezer$cg/freezer.state")" THAWED "freezer.state"
}
op pause-resume pause_resume

cgroup_placement() {
  # The container's cgroup is the one ctr asked for (below our test cgroup).
  local pid; pid="$(task_pid bg1)"
  expect_eq "$(cgroup_of "$pid" memory)" "$CG/c/bg1" "memory cgroup"
}
op cgroup-placement cgroup_placement

kill_and_delete() {
  # SIGTERM is delivered (the shell's sleep, pid 1 of its pid namespace, ignores it), then
  # SIGKILL stops the task; `ctr task delete` reports its exit status, 137.
  ctr task kill -s SIGTERM bg1
  task_is bg1 RUNNING
  ctr task kill -s SIGKILL bg1
  wait_for 10 task_is bg1 STOPPED
  local out; out="$(ctr task delete bg1 2>&1)"
  echo "$out"
  expect_in "$out" "exit code 137"
  ctr container delete bg1
  if ctr task ls -q | grep -qx bg1; then return 1; fi
  if ctr container ls -q | grep -qx bg1; then return 1; fi
  # runtime-cli's state for the container is gone from the shim's runc root.
  expect_eq "$(ls -A "$d/runc-root/default" 2>/dev/null)" "" "runc root contents"
}
op kill-delete kill_and_delete

