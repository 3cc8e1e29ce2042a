#!/bin/sh
# conformance/scripts/guarded-ns.sh CMD [ARG...]
#
# Runs CMD in a new private mount namespace in which every /sys/fs/cgroup/*/process_api (the
# machine supervisor's cgroups, see lab.md) is covered by an empty read-only tmpfs, so nothing
# run inside (a runtime under test, a cleanup path) can modify the supervisor's cgroups, and
# mounts leaked by a runtime die with the namespace. The host's mounts are untouched.
#
# After CMD exits, the (empty) parent test cgroups /sys/fs/cgroup/*/runtime-cli-test are
# removed with rmdir (never recursively; a non-empty one is left alone). The exit status is
# CMD's. Needs root. Env: LAB_MNT_PROPAGATION (default private).
set -eu
if [ "$#" -eq 0 ]; then
  echo "usage: $0 CMD [ARG...]" >&2
  exit 2
fi
exec unshare -m --propagation "${LAB_MNT_PROPAGATION:-private}" /bin/sh -c '
  for d in /sys/fs/cgroup/*/process_api; do
    if [ -d "$d" ]; then
      mount -t tmpfs -o ro,size=4k,mode=555 lab-guard "$d" || { echo "guarded-ns: cannot cover $d" >&2; exit 1; }
    fi
  done
  rc=0
  "$0" "$@" || rc=$?
  for d in /sys/fs/cgroup/*/runtime-cli-test; do
    [ -d "$d" ] && rmdir "$d" 2>/dev/null || true
  done
  exit "$rc"' "$@"
