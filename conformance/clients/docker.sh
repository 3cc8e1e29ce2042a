#!/usr/bin/env bash
# docker.sh — a private dockerd 20.10 (own data-root, exec-root, pidfile, socket, its own
# managed containerd) with runtime-cli registered by `--add-runtime`. Run by run.sh.
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh"
enter_own_cgroup

k="$WORK/docker"
mkdir -p "$k/data" "$k/exec"
echo '{}' > "$k/daemon.json"
sock="$k/docker.sock"
remember_new_dirs /run/containerd/s /run/containerd/fifo /run/containerd /run/docker/plugins /run/docker
# No bridge, no iptables: containers only get --network none. Container cgroups go below
# our own test cgroup (cgroupfs driver, --cgroup-parent).
dockerd --config-file "$k/daemon.json" --data-root "$k/data" --exec-root "$k/exec" \
  --pidfile "$k/docker.pid" -H "unix://$sock" --iptables=false --ip6tables=false \
  --ip-forward=false --ip-masq=false --bridge=none --userland-proxy=false \
  --storage-driver vfs --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "$CG/c" \
  --add-runtime "rtcli=$RT" --log-level warn >"$k/dockerd.log" 2>&1 &
dpid=$!
dk() { T /usr/bin/docker -H "unix://$sock" "$@"; }
cleanup() {
  for c in $(dk ps -aq 2>/dev/null); do dk rm -f "$c" >/dev/null 2>&1; done
  stop_pid "$dpid" 20
  umount_below "$k"
  remove_new_empty_dirs
}
trap cleanup EXIT
wait_for 30 /usr/bin/docker -H "unix://$sock" version || { tail -20 "$k/dockerd.log"; fatal "dockerd did not start (pid $dpid)"; }

image=busybox:local
R=(--runtime rtcli --network none)

import_image() {
  dk import -c 'CMD ["/bin/sh"]' "$IMG/rootfs.tar" "$image"
  dk image inspect "$image" >/dev/null
}
op image-import import_image

run_rm() {
  local out; out="$(dk run --rm "${R[@]}" "$image" echo hello from docker)"
  expect_eq "$out" "hello from docker" "output"
  local rc=0
  dk run --rm "${R[@]}" "$image" sh -c 'exit 6' || rc=$?
  expect_eq "$rc" 6 "exit status"
}
op run-rm run_rm

missing_binary_127() {
  local rc=0 out
  out="$(dk run --rm "${R[@]}" "$image" /no/such/binary 2>&1)" || rc=$?
  echo "$out"
  expect_eq "$rc" 127 "exit status"
  expect_in "$out" "/no/such/binary"
}
op missing-binary-exit-127 missing_binary_127

run_detached() {
  dk run -d --name bg1 "${R[@]}" "$image" sh -c 'echo started > /tmp/marker; exec sleep 1000'
  expect_eq "$(dk inspect -f '{{.State.Status}}' bg1)" running "status"
  local pid; pid="$(dk inspect -f '{{.State.Pid}}' bg1)"
  case "$(cgroup_of "$pid" memory)" in
    "$CG/c/"*) ;;
    *) echo "container cgroup $(cgroup_of "$pid" memory) is not below $CG/c" >&2; return 1 ;;
  esac
  # --network none: only a loopback interface in a network namespace of its own.
  [ "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/self/ns/net)" ]
  expect_eq "$(ls "/proc/$pid/root/sys/class/net" 2>/dev/null || dk exec bg1 ls /sys/class/net)" lo "interfaces"
}
op run-detached run_detached

exec_plain() {
  local out; out="$(dk exec bg1 cat /tmp/marker)"
  expect_eq "$out" started "exec output"
  local rc=0
  dk exec bg1 sh -c 'exit 9' || rc=$?
  expect_eq "$rc" 9 "exec exit status"
}
op exec exec_plain

exec_it() {
  local out
  out="$(T script -qec "/usr/bin/docker -H 'unix://$sock' exec -it bg1 sh -c 'tty; test -t 0 && echo stdin-is-a-tty'" /dev/null | tr -d '\r')"
  echo "$out"
  expect_in "$out" "/dev/pts/"
  expect_in "$out" "stdin-is-a-tty"
}
op exec-it exec_it

top() {
  local out; out="$(dk top bg1)"
  echo "$out"
  expect_in "$out" "sleep 1000"
}
op top top

stats() {
  local out; out="$(dk stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.PIDs}}' bg1)"
  echo "$out"
  expect_in "$out" "bg1 "
  # one process (sleep)
  expect_eq "${out##* }" 1 "PIDs"
}
op stats-no-stream stats

pause_unpause() {
  dk pause bg1
  expect_eq "$(dk inspect -f '{{.State.Status}}' bg1)" paused "status"
  dk unpause bg1
  expect_eq "$(dk inspect -f '{{.State.Status}}' bg1)" running "status"
}
op pause-unpause pause_unpause

update_memory() {
  dk update --memory 96m --memory-swap -1 bg1
  local pid; pid="$(dk inspect -f '{{.State.Pid}}' bg1)"
  expect_eq "$(memory_limit_of "$(cgroup_of "$pid" memory)")" $((96 * 1024 * 1024)) "memory.limit_in_bytes"
}
op update-memory update_memory

stop() {
  dk stop -t 2 bg1
  expect_eq "$(dk inspect -f '{{.State.Status}}' bg1)" exited "status"
  # docker stop of an already exited container succeeds too.
  dk stop bg1
  dk rm bg1
}
op stop-rm stop

read_only_tmpfs() {
  local out
  out="$(dk run --rm "${R[@]}" --read-only --tmpfs /scratch:size=1m "$image" sh -c 'touch /newfile 2>/dev/null || echo root-refused; echo ok > /scratch/f && cat /scratch/f; grep " /scratch " /proc/mounts')"
  echo "$out"
  expect_in "$out" "root-refused"
  expect_in "$out" "ok"
  expect_in "$out" "tmpfs"
}
op read-only-tmpfs read_only_tmpfs

bind_volume() {
  mkdir -p "$k/vol"; echo from-host > "$k/vol/in"
  local out
  out="$(dk run --rm "${R[@]}" -v "$k/vol:/vol" -v "$k/vol:/vol-ro:ro" "$image" sh -c 'cat /vol/in; echo from-container > /vol/out; touch /vol-ro/x 2>/dev/null || echo ro-refused')"
  echo "$out"
  expect_in "$out" "from-host"
  expect_in "$out" "ro-refused"
  expect_eq "$(cat "$k/vol/out")" from-container "file written through the bind mount"
  # A named volume, too.
  dk run --rm "${R[@]}" -v vol1:/data "$image" sh -c 'echo kept > /data/f'
  expect_eq "$(dk run --rm "${R[@]}" -v vol1:/data "$image" cat /data/f)" kept "named volume content"
}
op bind-mount-volumes bind_volume
