#!/usr/bin/env bash
# run-in-v2-vm.sh [options] -- CMD [ARG...]
#
# Runs CMD inside a throw-away QEMU virtual machine whose kernel (Debian's linux-image-amd64)
# has a pure cgroup v2 hierarchy, streams CMD's stdout/stderr to this script's stdout/stderr
# and exits with CMD's exit status. Needs root. Installs what it needs with apt-get.
#
# The guest sees this host's root filesystem read-only (virtio-9p) under a throw-away tmpfs
# overlay, so host binaries (target/release/runtime-cli, test executables) run unchanged;
# writes vanish at power-off. Inside the guest:
#   * cgroup2 at /sys/fs/cgroup (nsdelegate,memory_recursiveprot), no v1 hierarchy at all,
#     every controller enabled in the root's cgroup.subtree_control and in
#     /runtime-cli-vm; CMD runs in /sys/fs/cgroup/runtime-cli-vm/cmd;
#   * fresh proc, sysfs, devtmpfs, devpts, /dev/shm, /dev/mqueue, securityfs, bpffs and
#     tmpfs /run and /tmp (the host's /tmp stays visible if the working directory is in it);
#   * AppArmor is the active LSM (kernel command line apparmor=1 security=apparmor);
#   * the working directory is the caller's; stdin is /dev/null; network is loopback only;
#   * the environment is PATH, HOME, CI, RUNTIME, LANG, LC_*, TZ, RUST_*, RUNTIME_CLI_*
#     (when set) and --env extras, plus TERM=dumb and RUNTIME_CLI_V2_VM=1.
#
# Options:
#   --mem SIZE        guest memory, QEMU syntax (default 3G)
#   --cpus N          guest vCPUs (default 2)
#   --timeout SEC     power the VM off after SEC seconds and exit 124 (default 1800)
#   --env NAME[=VAL]  also pass NAME (its value here, or VAL); repeatable
#   --rw DIR          share host DIR read-write at the same path; repeatable
#   --verbose         show the guest kernel console on stderr (otherwise shown on failure)
#
# Exit status: CMD's; 124 on timeout; 125 when the VM or this script failed.
# Environment: RUNTIME_CLI_VM_CACHE (default /var/cache/runtime-cli-vm: the uncompressed
# kernel and the initramfs, rebuilt when the kernel or this script changes),
# RUNTIME_CLI_VM_TIMING=1 (print boot and command times on stderr),
# RUNTIME_CLI_VM_KERNEL (a /boot/vmlinuz-* to use instead of the newest Debian one).
set -euo pipefail

mem=3G
cpus=2
timeout_s=1800
verbose=0
envs=()
rw_dirs=()

fail() {
  echo "run-in-v2-vm: $*" >&2
  exit 125
}
usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --mem) mem=${2:?--mem needs a size}; shift 2 ;;
    --cpus) cpus=${2:?--cpus needs a number}; shift 2 ;;
    --timeout) timeout_s=${2:?--timeout needs seconds}; shift 2 ;;
    --env) envs+=("${2:?--env needs NAME or NAME=VALUE}"); shift 2 ;;
    --rw) rw_dirs+=("${2:?--rw needs a directory}"); shift 2 ;;
    --verbose) verbose=1; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    *) fail "unknown option '$1' (put -- before the command; see --help)" ;;
  esac
done
[ $# -gt 0 ] || fail "no command given (usage: $0 [options] -- CMD [ARG...])"
[ "$(id -u)" = 0 ] || fail "must run as root (it exports / over 9p and reads /boot)"
case "$timeout_s" in '' | *[!0-9]*) fail "--timeout '$timeout_s' is not a number of seconds" ;; esac
case "$cpus" in '' | *[!0-9]*) fail "--cpus '$cpus' is not a number" ;; esac

# ------------------------------------------------------------------ host packages (idempotent)
need=()
for p in qemu-system-x86 linux-image-amd64 busybox-static cpio; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "run-in-v2-vm: installing ${need[*]}" >&2
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; } >&2 \
    || fail "apt-get install ${need[*]} failed"
fi
qemu=$(command -v qemu-system-x86_64) || fail "qemu-system-x86_64 not found after installing qemu-system-x86"
qboot=/usr/share/qemu/qboot.rom
[ -r "$qboot" ] || fail "$qboot missing (package qemu-system-data)"

# ------------------------------------------------------------------ kernel
kernel=${RUNTIME_CLI_VM_KERNEL:-}
if [ -z "$kernel" ]; then
  # the newest Debian kernel that has the 9p modules (the -cloud flavour has none)
  for k in $(ls /boot/vmlinuz-* 2>/dev/null | sort -V -r); do
    if ls "/lib/modules/${k#/boot/vmlinuz-}/kernel/fs/9p/"9p.ko* >/dev/null 2>&1; then
      kernel=$k
      break
    fi
  done
  [ -n "$kernel" ] || fail "no /boot/vmlinuz-* with 9p modules (install linux-image-amd64)"
fi
[ -r "$kernel" ] || fail "kernel $kernel is not readable"
kver=${kernel##*/vmlinuz-}
moddir=/lib/modules/$kver
[ -f "$moddir/modules.dep" ] || fail "$moddir/modules.dep missing for kernel $kernel"

cache=${RUNTIME_CLI_VM_CACHE:-/var/cache/runtime-cli-vm}
mkdir -p "$cache"
kstamp="$kver-$(stat -c %Y-%s "$kernel")"

# The uncompressed ELF vmlinux boots through QEMU's PVH entry point (with qboot instead of
# SeaBIOS), which skips the in-guest decompression: seconds faster under emulation. The
# bzImage header says where the compressed payload is (boot protocol >= 2.08).
vmlinux=$cache/vmlinux-$kstamp
if [ ! -s "$vmlinux" ] && grep -q '^CONFIG_PVH=y' "/boot/config-$kver" 2>/dev/null; then
  u8() { od -An -tu1 -j "$1" -N 1 "$kernel" | tr -d ' '; }
  u32() { od -An -tu4 -j "$1" -N 4 "$kernel" | tr -d ' '; }
  setup_sects=$(u8 $((0x1f1)))
  [ "$setup_sects" = 0 ] && setup_sects=4
  start=$(((setup_sects + 1) * 512 + $(u32 $((0x248)))))
  len=$(u32 $((0x24c)))
  tmp=$(mktemp "$cache/.vmlinux.XXXXXX")
  magic=$(od -An -tx1 -j "$start" -N 4 "$kernel" | tr -d ' ')
  case "$magic" in
    fd377a58) dec=(xz -dcq) ;;
    28b52ffd) dec=(zstd -dcq) ;;
    1f8b*) dec=(gzip -dcq) ;;
    *) dec=() ;;
  esac
  if [ ${#dec[@]} -gt 0 ]; then
    tail -c +$((start + 1)) "$kernel" | head -c "$len" | "${dec[@]}" >"$tmp" 2>/dev/null || true
  fi
  if [ "$(od -An -tx1 -N 4 "$tmp" | tr -d ' ')" = 7f454c46 ]; then
    mv "$tmp" "$vmlinux"
  else
    rm -f "$tmp"
    echo "run-in-v2-vm: note: could not extract an ELF vmlinux from $kernel; booting the bzImage (slower)" >&2
  fi
fi
boot_kernel=$kernel
[ -s "$vmlinux" ] && boot_kernel=$vmlinux

# ------------------------------------------------------------------ initramfs
# Stage 1 (/init of the initramfs): load the modules, build the root (host / over 9p,
# read-only, as the lower layer of an overlay with a tmpfs upper), mount the API file
# systems and cgroup2 in it, then switch_root (a chroot would forbid user namespaces and
# pivot_root) to stage 2.
read -r -d '' stage1 <<'EOF' || true
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
die() { echo "runtime-cli-vm stage 1: $*" >/dev/console; echo 125 >/ctl/rc; sync; poweroff -f; sleep 10; }
while read -r m; do insmod "/modules/$m" || echo "runtime-cli-vm: insmod $m failed" >/dev/console; done </modules.order
opts=trans=virtio,version=9p2000.L,msize=262144
mkdir -p /ctl /lower /rw /newroot
n=0; while [ ! -d /sys/bus/virtio/drivers/9pnet_virtio ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done
mount -t 9p -o $opts,cache=none ctl /ctl || die "cannot mount the control share"
mount -t 9p -o $opts,ro,cache=loose hostroot /lower || die "cannot mount the host root"
mount -t tmpfs -o mode=0755 upper /rw
mkdir /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work root /newroot || die "cannot mount the overlay root"
R=/newroot
mount -t proc -o nosuid,nodev,noexec proc $R/proc
mount -t sysfs -o nosuid,nodev,noexec sysfs $R/sys
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 $R/sys/fs/cgroup || die "cannot mount cgroup2"
mount -t securityfs -o nosuid,nodev,noexec securityfs $R/sys/kernel/security || echo "runtime-cli-vm: no securityfs" >/dev/console
mount -t bpf -o nosuid,nodev,noexec bpf $R/sys/fs/bpf 2>/dev/null
mount -t devtmpfs -o nosuid devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm $R/dev/mqueue
mount -t devpts -o nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5 devpts $R/dev/pts
ln -sf pts/ptmx $R/dev/ptmx
mount -t tmpfs -o nosuid,nodev,mode=1777 shm $R/dev/shm
mount -t mqueue -o nosuid,nodev,noexec mqueue $R/dev/mqueue
ln -sfn /proc/self/fd $R/dev/fd
ln -sf /proc/self/fd/0 $R/dev/stdin; ln -sf /proc/self/fd/1 $R/dev/stdout; ln -sf /proc/self/fd/2 $R/dev/stderr
mount -t tmpfs -o nosuid,nodev,mode=0755 run $R/run
grep -qx keep_tmp /ctl/config || mount -t tmpfs -o nosuid,nodev,mode=1777 tmp $R/tmp
grep '^rw ' /ctl/config | while read -r _ tag dir; do
  mount -t 9p -o $opts,cache=none "$tag" "$R$dir" || die "cannot mount the read-write share $dir"
done
mkdir -p $R/run/runtime-cli-vm/ctl
mount --move /ctl $R/run/runtime-cli-vm/ctl
cp /bin/busybox /init2 $R/run/runtime-cli-vm/
exec switch_root $R /run/runtime-cli-vm/init2
EOF

# Stage 2 (pid 1 in the final root): delegate every controller, run CMD in a child cgroup
# with its output on the control share, record its status, power off.
read -r -d '' stage2 <<'EOF' || true
#!/run/runtime-cli-vm/busybox sh
B=/run/runtime-cli-vm/busybox
C=/run/runtime-cli-vm/ctl
$B hostname runtime-cli-vm
$B ip link set lo up 2>/dev/null
# The guest clock comes from the RTC (1 s resolution): take the host's time from the
# modification time the 9p server (the host) gives a file it just wrote.
: >$C/clock && $B date -s "@$($B stat -c %Y $C/clock)" >/dev/null
cg=/sys/fs/cgroup
for c in $($B cat $cg/cgroup.controllers); do echo "+$c" >$cg/cgroup.subtree_control; done
$B mkdir $cg/runtime-cli-vm
for c in $($B cat $cg/runtime-cli-vm/cgroup.controllers); do echo "+$c" >$cg/runtime-cli-vm/cgroup.subtree_control; done
$B mkdir $cg/runtime-cli-vm/cmd
read -r up _ </proc/uptime
echo "boot=$up" >$C/timing
(echo 0 >$cg/runtime-cli-vm/cmd/cgroup.procs && exec /bin/bash $C/cmd.sh) </dev/null >>$C/stdout 2>>$C/stderr
rc=$?
read -r up _ </proc/uptime
echo "end=$up" >>$C/timing
echo $rc >$C/rc.new && $B mv $C/rc.new $C/rc
$B sync
$B poweroff -f
$B sleep 10
EOF

mods=(virtio_pci virtio-rng 9pnet_virtio 9p overlay)
key=$({
  echo "$kstamp"
  printf '%s\n' "$stage1" "$stage2" "${mods[*]}"
  sha256sum /bin/busybox
} | sha256sum | cut -c1-16)
initrd=$cache/initrd-$kver-$key.cpio.gz
if [ ! -s "$initrd" ]; then
  [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 \
    || fail "/bin/busybox is missing or not statically linked (package busybox-static)"
  build=$(mktemp -d "$cache/.initrd.XXXXXX")
  trap 'rm -rf "$build"' EXIT
  mkdir -p "$build/bin" "$build/modules"
  cp /bin/busybox "$build/bin/busybox"
  printf '%s\n' "$stage1" >"$build/init"
  printf '%s\n' "$stage2" >"$build/init2"
  chmod 755 "$build/init" "$build/init2"
  : >"$build/modules.order"
  declare -A added=()
  # add_module NAME: the module's dependencies (from modules.dep) first, then the module
  add_module() {
    local pat rel dep
    pat=$(printf '%s' "$1" | sed 's/[-_]/[-_]/g')
    rel=$(grep -E "(^|/)$pat\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | head -n 1 | cut -d: -f1)
    if [ -z "$rel" ]; then
      grep -qE "/$pat\.ko" "$moddir/modules.builtin" || fail "module $1 not found for kernel $kver"
      return 0
    fi
    [ -z "${added[$rel]:-}" ] || return 0
    added[$rel]=1
    for dep in $(grep -E "^$rel:" "$moddir/modules.dep" | cut -d: -f2); do
      add_module "$(basename "$dep" | sed -E 's/\.ko(\.[a-z]+)?$//')"
    done
    local out
    out=$(basename "$rel" | sed -E 's/\.ko(\.[a-z]+)?$/.ko/')
    case "$rel" in
      *.xz) xz -dc "$moddir/$rel" >"$build/modules/$out" ;;
      *.zst) zstd -qdc "$moddir/$rel" >"$build/modules/$out" ;;
      *.gz) gzip -dc "$moddir/$rel" >"$build/modules/$out" ;;
      *) cp "$moddir/$rel" "$build/modules/$out" ;;
    esac
    echo "$out" >>"$build/modules.order"
  }
  for m in "${mods[@]}"; do add_module "$m"; done
  (cd "$build" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$build.cpio.gz"
  mv "$build.cpio.gz" "$initrd"
  rm -rf "$build"
  trap - EXIT
  # images of older kernels or script versions (not in use by a run starting right now)
  find "$cache" -maxdepth 1 \( -name 'initrd-*.cpio.gz' -o -name 'vmlinux-*' \) \
    ! -name "${initrd##*/}" ! -name "${vmlinux##*/}" -mmin +10 -delete 2>/dev/null || true
fi

# ------------------------------------------------------------------ this run
# control directories of runs that were killed before they could clean up
for d in /run/runtime-cli-vm.*; do
  [ -f "$d/owner" ] && ! kill -0 "$(cat "$d/owner")" 2>/dev/null && rm -rf "$d"
done
ctl=$(mktemp -d /run/runtime-cli-vm.XXXXXX)
echo $$ >"$ctl/owner"
qpid=
tails=()
cleanup() {
  if [ -n "$qpid" ]; then
    kill "$qpid" 2>/dev/null || true
    wait "$qpid" 2>/dev/null || true
  fi
  for p in "${tails[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$ctl"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

cwd=$(pwd -P)
: >"$ctl/config"
case "$cwd/" in /tmp/*) echo keep_tmp >>"$ctl/config" ;; esac
shares=(
  -fsdev "local,id=fsroot,path=/,security_model=none,readonly=on,multidevs=remap"
  -device "virtio-9p-pci,fsdev=fsroot,mount_tag=hostroot"
  -fsdev "local,id=fsctl,path=$ctl,security_model=none"
  -device "virtio-9p-pci,fsdev=fsctl,mount_tag=ctl"
)
i=0
for d in "${rw_dirs[@]}"; do
  d=$(cd -- "$d" 2>/dev/null && pwd -P) || fail "--rw: no such directory: $d"
  case "$d" in
    / | /proc | /proc/* | /sys | /sys/* | /dev | /dev/* | /run | /tmp) fail "--rw $d: refusing to share that read-write" ;;
    *[,[:space:]]*) fail "--rw $d: paths with commas or white space are not supported" ;;
  esac
  echo "rw rw$i $d" >>"$ctl/config"
  shares+=(-fsdev "local,id=fsrw$i,path=$d,security_model=none,multidevs=remap"
    -device "virtio-9p-pci,fsdev=fsrw$i,mount_tag=rw$i")
  i=$((i + 1))
done

# The command script: the selected environment, the working directory, then CMD.
{
  echo '# written by run-in-v2-vm.sh'
  while IFS= read -r name; do
    case "$name" in
      PATH | HOME | USER | LOGNAME | CI | RUNTIME | LANG | LANGUAGE | LC_* | TZ | RUST_* | RUNTIME_CLI_*) ;;
      *) continue ;;
    esac
    printf 'export %s=%q\n' "$name" "${!name}"
  done < <(compgen -e)
  for e in "${envs[@]}"; do
    case "$e" in
      *=*) printf 'export %s=%q\n' "${e%%=*}" "${e#*=}" ;;
      *) [ -n "${!e+x}" ] && printf 'export %s=%q\n' "$e" "${!e}" ;;
    esac
  done
  echo 'export TERM=dumb RUNTIME_CLI_V2_VM=1'
  printf 'cd -- %q || exit 125\n' "$cwd"
  printf 'exec'
  printf ' %q' "$@"
  printf '\n'
} >"$ctl/cmd.sh"
: >"$ctl/stdout"
: >"$ctl/stderr"
: >"$ctl/console"

append="console=ttyS0 quiet loglevel=4 panic=-1 rdinit=/init 8250.nr_uarts=1 mitigations=off"
append+=" systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all apparmor=1 security=apparmor"

t0=$(date +%s.%N)
# /dev/kvm on these machines is a paravirtual KVM that cannot boot a stock kernel: TCG.
# If this script dies without running its cleanup (SIGKILL), the parent-death signal stops
# timeout, which stops QEMU.
setpriv --pdeathsig TERM -- timeout -k 5 "$timeout_s" "$qemu" -M pc -nodefaults -no-user-config -display none -no-reboot \
  -bios "$qboot" -accel tcg,thread=multi,tb-size=256 -cpu max -smp "$cpus" -m "$mem" \
  -kernel "$boot_kernel" -initrd "$initrd" -append "$append" \
  -serial "file:$ctl/console" -device virtio-rng-pci "${shares[@]}" \
  </dev/null >/dev/null 2>"$ctl/qemu.err" &
qpid=$!
# CMD writes its output to files on the control share (9p writes reach the host file before
# write() returns in the guest); tail follows them until QEMU exits, then reads the rest.
tail -c +1 -s 0.1 --pid="$qpid" -f "$ctl/stdout" 2>/dev/null &
tails+=($!)
tail -c +1 -s 0.1 --pid="$qpid" -f "$ctl/stderr" >&2 2>/dev/null &
tails+=($!)
if [ "$verbose" = 1 ]; then
  tail -c +1 -s 0.1 --pid="$qpid" -f "$ctl/console" >&2 2>/dev/null &
  tails+=($!)
fi
qrc=0
wait "$qpid" || qrc=$?
qpid=
for p in "${tails[@]}"; do wait "$p" 2>/dev/null || true; done
tails=()
t1=$(date +%s.%N)

if [ -n "${RUNTIME_CLI_VM_TIMING:-}" ]; then
  boot=$(sed -n 's/^boot=//p' "$ctl/timing" 2>/dev/null)
  end=$(sed -n 's/^end=//p' "$ctl/timing" 2>/dev/null)
  awk -v a="$t0" -v b="$t1" -v boot="${boot:-nan}" -v end="${end:-nan}" \
    'BEGIN { printf "run-in-v2-vm: qemu %.1fs, guest uptime at command start %.1fs, command %.1fs\n", b - a, boot, end - boot }' >&2
fi
if [ -s "$ctl/rc" ]; then
  rc=$(cat "$ctl/rc")
  if [ "$rc" = 125 ] && [ ! -s "$ctl/timing" ]; then
    echo "run-in-v2-vm: the VM failed to start; last console lines:" >&2
    tail -n 30 "$ctl/console" >&2
  fi
  exit "$rc"
fi
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
  echo "run-in-v2-vm: timed out after ${timeout_s}s; last console lines:" >&2
  tail -n 20 "$ctl/console" >&2
  exit 124
fi
echo "run-in-v2-vm: the VM stopped without a command status (qemu exit $qrc)" >&2
grep -v 'terminating on signal' "$ctl/qemu.err" >&2 || true
echo "run-in-v2-vm: last console lines:" >&2
tail -n 30 "$ctl/console" >&2
exit 125
