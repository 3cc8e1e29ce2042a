#!/bin/sh
# conformance/scripts/crun-wrap.sh ARGS... — run crun with ARGS in a private mount namespace in
# which the cgroup2 mount /sys/fs/cgroup/unified is unmounted, so crun 1.8.1 sees pure cgroup v1
# instead of refusing this hybrid host ("cgroups in hybrid mode not supported, drop all
# controllers from cgroupv2"). The caller's mount table is untouched (unshare -m makes every
# mount private first). `exec` keeps the pid: the process the harness started becomes crun.
#
# crun 1.8.1 also chowns the container's stdio to the container's root user even when it is
# a character device (the CVE-2025-52565 class that conformance/tests/security.rs shows): with
# stdio on the host's /dev/null and a user namespace, the host's /dev/null ends up owned by
# 100000:100000. Any stdio that is /dev/null (1:3) is therefore replaced by a private null
# device node, unlinked at once, whose owner crun may change freely.
# Env: CRUN (default /usr/bin/crun).
null_dir=$(mktemp -d /run/crun-wrap-null.XXXXXX) || exit 1
mknod -m 666 "$null_dir/null" c 1 3 || { rmdir "$null_dir"; exit 1; }
is_null() { [ "$(stat -L -c '%F %t:%T' "/proc/self/fd/$1" 2>/dev/null)" = "character special file 1:3" ]; }
if is_null 0; then exec 0<"$null_dir/null"; fi
if is_null 1; then exec 1>"$null_dir/null"; fi
if is_null 2; then exec 2>"$null_dir/null"; fi
rm -rf "$null_dir"
exec unshare -m --propagation private /bin/sh -c \
  'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"' "${CRUN:-/usr/bin/crun}" "$@"
