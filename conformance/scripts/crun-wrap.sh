#!/bin/sh
# conformance/scripts/crun-wrap.sh ARGS... — run crun with ARGS in a private mount namespace in
# which the cgroup2 mount /sys/fs/cgroup/unified is unmounted, so crun 1.8.1 sees pure cgroup v1
# instead of refusing this hybrid host ("cgroups in hybrid mode not supported, drop all
# controllers from cgroupv2"). The caller's mount table is untouched (unshare -m makes every
# mount private first). `exec` keeps the pid: the process the harness started becomes crun.
# Env: CRUN (default /usr/bin/crun).
exec unshare -m --propagation private /bin/sh -c \
  'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"' "${CRUN:-/usr/bin/crun}" "$@"
