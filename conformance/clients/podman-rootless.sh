#!/usr/bin/env bash
# podman-rootless.sh — rootless podman 4.3 (an unprivileged user with subordinate ids) with
# `--runtime PATH` (a copy of runtime-cli): podman runs the runtime as root of its own user
# namespace (uid 0 there is the user outside), so runtime-cli must pick a state root under
# $XDG_RUNTIME_DIR and skip cgroups it cannot create. Run by run.sh (see lib.sh).
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh"
enter_own_cgroup

# The test user: created once when missing (like conformance/tests/rootless.rs), with
# subordinate ids for podman's user namespace (newuidmap/newgidmap from apt `uidmap`).
user=rtcli-podman-rl
if ! id "$user" >/dev/null 2>&1; then
  useradd --no-create-home --shell /bin/sh "$user" || fatal "useradd $user"
fi
grep -q "^$user:" /etc/subuid && grep -q "^$user:" /etc/subgid ||
  usermod --add-subuids 400000-465535 --add-subgids 400000-465535 "$user" || fatal "usermod --add-subuids"
command -v newuidmap >/dev/null || fatal "newuidmap missing (apt uidmap, scripts/setup.sh)"
uid="$(id -u "$user")"
remember_new_dirs "/dev/shm/libpod_rootless_lock_$uid"

# Everything the user needs, in a world-traversable directory it owns ($WORK is private to
# root): HOME, XDG_RUNTIME_DIR (no logind here), storage, configuration, the binary, the image.
p="$(mktemp -d /tmp/rtcli-prl.XXXXXX)"
chmod 755 "$p"
mkdir -p "$p/bin" "$p/home" "$p/xdg" "$p/graph" "$p/runroot" "$p/tmp" "$p/img"
cp "$RT" "$p/bin/runtime-cli"
cp "$IMG/busybox-oci.tar" "$p/img/"
chmod -R a+rX "$p/bin" "$p/img"
chown -R "$user:" "$p/home" "$p/xdg" "$p/graph" "$p/runroot" "$p/tmp"
chmod 700 "$p/xdg"
rt="$p/bin/runtime-cli"
# As in podman.sh: rlimits below the hard ones (no CAP_SYS_RESOURCE here), no network,
# cgroupfs (no systemd user session); vfs storage (no fuse-overlayfs needed).
cat > "$p/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$p/tmp/events.log"
tmp_dir = "$p/tmp"
runtime_supports_json = ["crun", "runc", "runtime-cli"]
CONF
cat > "$p/storage.conf" <<CONF
[storage]
driver = "vfs"
runroot = "$p/runroot"
graphroot = "$p/graph"
CONF
chmod 644 "$p/containers.conf" "$p/storage.conf"

cleanup() {
  asu /usr/bin/podman --runtime "$rt" rm -a -f -t 0 >/dev/null 2>&1
  # Rootless podman keeps a "pause" process holding its user namespace: ours, by its pid.
  local pause; pause="$(cat "$p/tmp/pause.pid" 2>/dev/null)"
  [ -n "$pause" ] && kill -KILL "$pause" 2>/dev/null
  umount_below "$p"
  rm -rf --one-file-system "$p"
  remove_new_empty_dirs
}
trap cleanup EXIT

# asu CMD... — run CMD as the test user, with a clean environment.
as_user=(setpriv --reuid "$user" --regid "$user" --init-groups
  env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME="$p/home" USER="$user"
  XDG_RUNTIME_DIR="$p/xdg" CONTAINERS_CONF="$p/containers.conf"
  CONTAINERS_STORAGE_CONF="$p/storage.conf")
asu() { (cd "$p/home" && T "${as_user[@]}" "$@"); }
pm() { asu /usr/bin/podman --runtime "$rt" "$@"; }
R=(--pull never --network none)
image=localhost/busybox:latest

pm info >"$p/info.log" 2>&1 || { cat "$p/info.log"; fatal "rootless podman info failed"; }

import_image() {
  pm load -q -i "$p/img/busybox-oci.tar"
  pm tag "$(pm images -q | head -1)" "$image"
  pm image exists "$image"
}
op image-import import_image

run_rm() {
  local out rc=0
  out="$(pm run --rm "${R[@]}" "$image" sh -c 'id -u; cat /proc/self/uid_map')"
  echo "$out"
  # uid 0 inside is the user outside (the first line of the map).
  expect_eq "$(echo "$out" | head -1)" 0 "uid inside"
  expect_eq "$(echo "$out" | awk 'NR == 2 { print $1, $2 }')" "0 $uid" "uid_map's first mapping"
  pm run --rm "${R[@]}" "$image" sh -c 'exit 3' || rc=$?
  expect_eq "$rc" 3 "exit status"
}
op run-rm run_rm

runtime_is_runtime_cli() {
  # podman recorded our binary as the container's runtime; the runtime's state for a running
  # container is under the user's XDG_RUNTIME_DIR (its rootless default: podman passes no
  # --root) and the binary, run as the user, lists it; `rm` leaves no state behind.
  pm run -d --name rl1 "${R[@]}" "$image" sleep 1000
  expect_eq "$(pm inspect -f '{{.OCIRuntime}}' rl1)" "$rt" "OCIRuntime"
  local cid; cid="$(pm inspect -f '{{.Id}}' rl1)"
  # runtime-cli: $XDG_RUNTIME_DIR/runtime-cli/ID (runc: $XDG_RUNTIME_DIR/runc/ID).
  ls -d "$p/xdg"/*/"$cid"
  local out; out="$(asu "$rt" list)"
  echo "$out"
  expect_in "$out" "$cid"
  local pid; pid="$(pm inspect -f '{{.State.Pid}}' rl1)"
  expect_eq "$(stat -c %u "/proc/$pid")" "$uid" "owner of the container's init on the host"
  out="$(pm exec rl1 id -u)"
  expect_eq "$out" 0 "exec uid"
  # `exec -it` typed into through a pty (ptytype.py): the command runs, `exit 3` propagates.
  local rc=0
  out="$(cd "$p/home" && T "$here/ptytype.py" 'echo typed-$((6*7)); tty; exit 3\n' -- "${as_user[@]}" /usr/bin/podman --runtime "$rt" exec -it rl1 sh | tr -d '\r')" || rc=$?
  echo "$out"
  expect_in "$out" "typed-42"
  expect_in "$out" "/dev/pts/"
  expect_eq "$rc" 3 "exit status of the interactive exec"
  pm rm -f -t 0 rl1
  refute pm container exists rl1
  refute ls -d "$p/xdg"/*/"$cid"
}
op runtime-is-runtime-cli runtime_is_runtime_cli
