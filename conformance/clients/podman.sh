#!/usr/bin/env bash
# podman.sh — podman 4.3 + conmon with `--runtime PATH` (runtime-cli), private storage,
# configuration and run directories under a temp dir. Run by run.sh (see lib.sh).
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh"
enter_own_cgroup

p="$WORK/podman"
mkdir -p "$p/tmp" "$p/cni" "$p/graph" "$p/runroot" "$p/volumes"
# This VM lacks CAP_SYS_RESOURCE: podman's default rlimits (nofile 1048576) cannot be set, so
# ask for limits below the hard ones. runtime-cli is not a name podman knows: list it in
# runtime_supports_json so podman passes `--log-format=json --log FILE` (the podman-nojson
# configuration below leaves it out, as a fresh installation would).
write_conf() {
  cat > "$1" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$p/events.log"
tmp_dir = "$p/tmp"
volume_path = "$p/volumes"
static_dir = "$p/graph/libpod"
runtime_supports_json = [$2]
[network]
network_backend = "cni"
network_config_dir = "$p/cni"
CONF
}
write_conf "$p/containers.conf" '"crun", "runc", "runtime-cli"'
write_conf "$p/containers-nojson.conf" '"crun", "runc"'
cat > "$p/storage.conf" <<CONF
[storage]
driver = "vfs"
runroot = "$p/runroot"
graphroot = "$p/graph"
CONF
export CONTAINERS_CONF="$p/containers.conf" CONTAINERS_STORAGE_CONF="$p/storage.conf"
remember_new_dirs /dev/shm/libpod_lock
cleanup() {
  T /usr/bin/podman --runtime "$RT" rm -a -f -t 0 >/dev/null 2>&1
  umount_below "$p"
  remove_new_empty_dirs
}
trap cleanup EXIT

pm() { T /usr/bin/podman --runtime "$RT" "$@"; }
# Containers: no network, cgroups below our own test cgroup.
R=(--pull never --network none --cgroup-parent "$CG/c")
image=localhost/busybox:latest

pm info >"$p/info.log" 2>&1 || { cat "$p/info.log"; fatal "podman info failed"; }

import_image() {
  pm load -q -i "$IMG/busybox-oci.tar"
  pm tag "$(pm images -q | head -1)" "$image"
  pm image exists "$image"
}
op image-import import_image

run_rm() {
  local out; out="$(pm run --rm "${R[@]}" "$image" echo hello from podman)"
  expect_eq "$out" "hello from podman" "output"
  local rc=0
  pm run --rm "${R[@]}" "$image" sh -c 'exit 3' || rc=$?
  expect_eq "$rc" 3 "exit status"
}
op run-rm run_rm

missing_binary_127() {
  local rc=0 out
  out="$(pm run --rm "${R[@]}" "$image" /no/such/binary 2>&1)" || rc=$?
  echo "$out"
  expect_eq "$rc" 127 "exit status"
  expect_in "$out" "/no/such/binary"
  rc=0
  out="$(CONTAINERS_CONF="$p/containers-nojson.conf" pm run --rm "${R[@]}" "$image" nosuchcommand 2>&1)" || rc=$?
  echo "$out"
  expect_eq "$rc" 127 "exit status without runtime_supports_json"
  expect_in "$out" "executable file not found"
}
op missing-binary-exit-127 missing_binary_127

run_detached() {
  pm run -d --name bg1 "${R[@]}" "$image" sh -c 'echo log line one; exec sleep 1000'
  expect_eq "$(pm inspect -f '{{.State.Status}}' bg1)" running "status"
}
op run-detached run_detached

bg_pid() { pm inspect -f '{{.State.Pid}}' bg1; }

cgroup_placement() {
  local pid; pid="$(bg_pid)"
  case "$(cgroup_of "$pid" memory)" in
    "$CG/c/"*) ;;
    *) echo "container cgroup $(cgroup_of "$pid" memory) is not below $CG/c" >&2; return 1 ;;
  esac
}
op cgroup-placement cgroup_placement

exec_plain() {
  local out; out="$(pm exec bg1 sh -c 'echo from exec; id -u')"
  expect_eq "$out" "from exec
0" "exec output"
  local rc=0
  pm exec bg1 sh -c 'exit 4' || rc=$?
  expect_eq "$rc" 4 "exec exit status"
}
op exec exec_plain

exec_it() {
  local out rc
  out="$(T script -qec "env CONTAINERS_CONF='$CONTAINERS_CONF' CONTAINERS_STORAGE_CONF='$CONTAINERS_STORAGE_CONF' /usr/bin/podman --runtime '$RT' exec -it bg1 sh -c 'tty; test -t 0 && echo stdin-is-a-tty'" /dev/null | tr -d '\r')"
  echo "$out"
  expect_in "$out" "/dev/pts/"
  expect_in "$out" "stdin-is-a-tty"
  # Interactively: busybox sh on the exec's pty runs what is typed; its exit status comes back.
  rc=0
  out="$(T "$here/ptytype.py" 'echo typed-$((6*7)); tty; exit 3\n' -- env CONTAINERS_CONF="$CONTAINERS_CONF" CONTAINERS_STORAGE_CONF="$CONTAINERS_STORAGE_CONF" /usr/bin/podman --runtime "$RT" exec -it bg1 sh | tr -d '\r')" || rc=$?
  echo "$out"
  expect_in "$out" "typed-42"
  expect_in "$out" "/dev/pts/"
  expect_eq "$rc" 3 "exit status of the interactive session"
}
op exec-it exec_it

logs() {
  local out; out="$(pm logs bg1)"
  expect_eq "$out" "log line one" "logs"
}
op logs logs

top() {
  local out; out="$(pm top bg1)"
  echo "$out"
  expect_in "$out" "sleep 1000"
}
op top top

pause_unpause() {
  local pid cg; pid="$(bg_pid)"; cg="$(cgroup_of "$pid" freezer)"
  pm pause bg1
  expect_eq "$(pm inspect -f '{{.State.Status}}' bg1)" paused "status"
  expect_eq "$(cat "/sys/fs/cgroup/freezer$cg/freezer.state")" FROZEN "freezer.state"
  pm unpause bg1
  expect_eq "$(pm inspect -f '{{.State.Status}}' bg1)" running "status"
  expect_eq "$(cat "/sys/fs/cgroup/freezer$cg/freezer.state")" THAWED "freezer.state"
}
op pause-unpause pause_unpause

update_memory() {
  pm update --memory 96m bg1
  local pid; pid="$(bg_pid)"
  expect_eq "$(memory_limit_of "$(cgroup_of "$pid" memory)")" $((96 * 1024 * 1024)) "memory.limit_in_bytes"
}
op update-memory update_memory

stop_rm() {
  pm stop -t 2 bg1
  expect_eq "$(pm inspect -f '{{.State.Status}}' bg1)" exited "status"
  pm rm bg1
  refute pm container exists bg1
}
op stop-rm stop_rm

read_only() {
  # --read-only-tmpfs=false: only the root is read-only, no tmpfs over /tmp, /var/tmp, /run.
  local out
  out="$(pm run --rm --read-only --read-only-tmpfs=false "${R[@]}" "$image" sh -c 'touch /newfile 2>&1 || echo refused; grep " / " /proc/mounts')"
  echo "$out"
  expect_in "$out" "refused"
  expect_in "$out" " ro,"
}
op read-only read_only

read_only_tmpfs() {
  # podman's default for --read-only: writable tmpfs on /tmp, /var/tmp, /run (mount option
  # tmpcopyup, a runc extension: the tmpfs starts with the directory's content).
  local out
  out="$(pm run --rm --read-only "${R[@]}" "$image" sh -c 'touch /newfile 2>&1 || echo refused; echo ok > /tmp/f && cat /tmp/f; cat /tmp/from-image; grep " /tmp " /proc/mounts')"
  echo "$out"
  expect_in "$out" "refused"
  expect_in "$out" "ok"
  expect_in "$out" "from-the-image"
  expect_in "$out" "tmpfs"
}
op read-only-tmpfs read_only_tmpfs

user() {
  local out; out="$(pm run --rm --user 65534:65534 "${R[@]}" "$image" sh -c 'id -u; id -g')"
  expect_eq "$out" "65534
65534" "uid and gid"
}
op user user

cap_drop() {
  local out
  out="$(pm run --rm --cap-drop ALL --cap-add CHOWN "${R[@]}" "$image" sh -c 'grep CapEff /proc/self/status')"
  # CAP_CHOWN is bit 0: exactly that one remains.
  expect_eq "$out" "CapEff:	0000000000000001" "CapEff"
  out="$(pm run --rm --cap-drop NET_RAW "${R[@]}" "$image" sh -c 'grep CapEff /proc/self/status')"
  echo "$out"
  # CAP_NET_RAW is bit 13 (0x2000).
  [ $(( 0x${out##*	} & 0x2000 )) = 0 ]
}
op cap-drop cap_drop

limits() {
  pm run -d --name lim1 --memory 64m --pids-limit 42 "${R[@]}" "$image" sleep 1000
  local pid; pid="$(pm inspect -f '{{.State.Pid}}' lim1)"
  expect_eq "$(memory_limit_of "$(cgroup_of "$pid" memory)")" $((64 * 1024 * 1024)) "memory.limit_in_bytes"
  expect_eq "$(cat "/sys/fs/cgroup/pids$(cgroup_of "$pid" pids)/pids.max")" 42 "pids.max"
  pm rm -f -t 0 lim1
}
op memory-and-pids-limit limits
