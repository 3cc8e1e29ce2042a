#!/usr/bin/env bash
# mkbundle.sh RUNTIME DIR [ARG...] — an OCI bundle in DIR: a busybox-static rootfs and the
# runtime's own default config (`RUNTIME spec`) with the given args, no terminal, and an
# absolute cgroupsPath ${CGROUP_PREFIX:-/runtime-cli-demo}/<basename DIR>.
set -euo pipefail
rt="$1"; dir="$2"; shift 2
[ $# -gt 0 ] || set -- /bin/sh
mkdir -p "$dir"
dir="$(cd "$dir" && pwd -P)"
r="$dir/rootfs"
rm -rf "$r" "$dir/config.json"
mkdir -p "$r"/{bin,etc,proc,sys,dev,tmp,root,run}
chmod 1777 "$r/tmp"
cp /bin/busybox "$r/bin/busybox"
for a in $(/bin/busybox --list); do [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$r/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
"$rt" spec --bundle "$dir"
args="$(jq -n '$ARGS.positional' --args -- "$@")"
jq --argjson args "$args" --arg cgp "${CGROUP_PREFIX:-/runtime-cli-demo}/$(basename "$dir")" '
  .process.args = $args | .process.terminal = false | .hostname = "demo"
  | .linux.cgroupsPath = $cgp' "$dir/config.json" > "$dir/config.json.new"
mv "$dir/config.json.new" "$dir/config.json"
