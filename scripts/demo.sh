#!/usr/bin/env bash
# demo.sh — set up, build, and run a real busybox container that shows its isolation.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/.." && pwd)"
"$here/setup.sh" --demo
command -v cargo >/dev/null || export PATH="$HOME/.cargo/bin:/root/.cargo/bin:$PATH"
rt="$("$here/build-release.sh" -q)"
work="$(mktemp -d /tmp/runtime-cli-demo.XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$here/mkbundle.sh" "$rt" "$work/bundle" /bin/sh -c '
  echo "hostname:      $(hostname)"
  echo "my pid:        $$ (pid 1 of its own pid namespace)"
  echo "processes:";   ps -o pid,comm
  echo "mounts:";      cat /proc/self/mounts | sed "s/^/  /"
  if touch /written 2>/dev/null; then echo "root fs:       WRITABLE"; else echo "root fs:       read-only (touch / failed)"; fi
  echo "uid:           $(id)"'
echo "== runtime-cli run demo (bundle $work/bundle)"
cd "$work/bundle"
# The demo's own mount namespace keeps the host's mount table untouched whatever happens.
unshare -m --propagation private "$rt" --root "$work/state" run "demo-$$"
