#!/usr/bin/env bash
# cri.sh — containerd 1.6's CRI plugin with the README's RuntimeClass snippet (runtime-cli
# as handler `runtime-cli` of the runc v2 shim, only BinaryName pointed at the binary under
# test) runs a pod sandbox and a container through CRI gRPC on its socket, driven by
# cri_client.py. The sandbox (pause) image is the local busybox image; the pod uses the host
# network (containerd 1.6 needs an IP from CNI otherwise). Run by run.sh.
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
source "$here/lib.sh"
enter_own_cgroup

d="$WORK/cri"
mkdir -p "$d/root" "$d/state" "$d/cni" "$d/logs"
sock="$d/containerd.sock"
image=docker.io/library/busybox:latest
# The snippet, exactly as the README shows it, between the marker and the end of its block.
snippet="$(awk '/cri-runtimeclass-snippet/ { m = 1; next } m && /^```toml/ { p = 1; next } p && /^```/ { exit } p' "$top/README.md")"
[ -n "$snippet" ] || fatal "no RuntimeClass snippet found in README.md"
snippet="${snippet//\/usr\/local\/bin\/runtime-cli/$RT}"
# restrict_oom_score_adj: CRI gives the sandbox oom_score_adj -998, which this VM (no
# CAP_SYS_RESOURCE) cannot set below containerd's own.
cat > "$d/config.toml" <<CONF
version = 2
root = "$d/root"
state = "$d/state"
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$image"
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$d/cni"
  # containerd's default configuration has this runtime; the snippet adds one beside it.
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
$snippet
CONF
remember_new_dirs /run/containerd/runc/k8s.io /run/containerd/runc /run/containerd/s /run/containerd/fifo /run/containerd
containerd --config "$d/config.toml" --log-level warn >"$d/containerd.log" 2>&1 &
cpid=$!
cri() { T /usr/bin/python3 "$here/cri_client.py" "$sock" "$@"; }
ctr() { T /usr/bin/ctr -a "$sock" -n k8s.io "$@"; }
# Operations run in subshells: the ids live in files.
pod() { cat "$d/pod.id"; }
ctrid() { cat "$d/ctr.id"; }
cleanup() {
  [ -s "$d/ctr.id" ] && { cri stop "$(ctrid)"; cri rm "$(ctrid)"; } >/dev/null 2>&1
  [ -s "$d/pod.id" ] && { cri stopp "$(pod)"; cri rmp "$(pod)"; } >/dev/null 2>&1
  stop_pid "$cpid"
  umount_below "$d"
  remove_new_empty_dirs
}
trap cleanup EXIT
wait_for 20 /usr/bin/python3 "$here/cri_client.py" "$sock" version || { tail -20 "$d/containerd.log"; fatal "containerd (CRI) did not start (pid $cpid)"; }

cri_version() {
  local out; out="$(cri version)"
  echo "$out"
  expect_in "$out" "containerd"
  expect_in "$out" "v1"
}
op cri-version cri_version

import_image() {
  ctr image import --base-name docker.io/library/busybox "$IMG/busybox-oci.tar"
  ctr image ls -q | grep -qx "$image"
}
op image-import import_image

sandbox_args=(pod1 uid-pod1 "$CG/c/pod1" "$d/logs")
run_pod_sandbox() {
  cri runp "${sandbox_args[@]}" runtime-cli > "$d/pod.id"
  local pod; pod="$(pod)"
  echo "pod $pod"
  expect_eq "$(cri pstatus "$pod")" READY "sandbox state"
  # The sandbox's pause container is runtime-cli's: runtime-cli reads its state (runc's own
  # state format would not load), and it runs in its pod's cgroup.
  local st; st="$("$RT" --root /run/containerd/runc/k8s.io state "$pod")"
  echo "$st"
  expect_in "$st" '"status": "running"'
  local pid; pid="$(echo "$st" | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')"
  case "$(cgroup_of "$pid" memory)" in
    "$CG/c/pod1/"*) ;;
    *) echo "sandbox cgroup $(cgroup_of "$pid" memory) is not below $CG/c/pod1" >&2; return 1 ;;
  esac
}
op run-pod-sandbox run_pod_sandbox

create_start_container() {
  cri create "$(pod)" c1 "$image" c1.log "${sandbox_args[@]}" -- /bin/sh -c 'echo hello from cri; exec sleep 1000' > "$d/ctr.id"
  local ctrid; ctrid="$(ctrid)"
  echo "container $ctrid"
  expect_eq "$(cri status "$ctrid")" "CREATED 0" "status after create"
  cri start "$ctrid"
  expect_eq "$(cri status "$ctrid")" "RUNNING 0" "status after start"
  "$RT" --root /run/containerd/runc/k8s.io state "$ctrid" | grep -q '"status": "running"'
  wait_for 10 grep -q "hello from cri" "$d/logs/c1.log"
}
op create-start-container create_start_container

exec_sync() {
  local out rc=0
  out="$(cri exec "$(ctrid)" /bin/sh -c 'echo exec works; exit 3')" || rc=$?
  expect_eq "$out" "exec works" "ExecSync stdout"
  expect_eq "$rc" 3 "ExecSync exit code"
}
op exec-sync exec_sync

stop_remove() {
  local pod ctrid; pod="$(pod)"; ctrid="$(ctrid)"
  cri stop "$ctrid"
  local st; st="$(cri status "$ctrid")"
  expect_in "$st" "EXITED"
  cri rm "$ctrid"; : > "$d/ctr.id"
  cri stopp "$pod"
  expect_eq "$(cri pstatus "$pod")" NOTREADY "sandbox state"
  cri rmp "$pod"; : > "$d/pod.id"
  # The shims tear down after the calls return: give them a moment.
  wait_for 10 test -z "$(ls -A /run/containerd/runc/k8s.io 2>/dev/null)"
  expect_eq "$(ls -A /run/containerd/runc/k8s.io 2>/dev/null)" "" "runtime state left under /run/containerd/runc/k8s.io"
}
op stop-remove stop_remove
