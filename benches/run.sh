#!/usr/bin/env bash
# benches/run.sh [ARGS...] — the benchmark in one command (as root): install runc, crun and
# busybox-static (idempotent), build runtime-cli, the harness and the C API subject
# (benches/capi_lifecycle.c against libruntime) in release mode, and run
# the harness with ARGS (see `target/release/benches --help`; e.g. --n 50 --json out.json,
# or --smoke for a tiny run). The table goes to stdout; progress to stderr.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/.." && pwd)"
cd "$top"

if [ "$(id -u)" != 0 ]; then
  echo "benches/run.sh: run as root" >&2
  exit 1
fi

pkgs=(runc crun busybox-static util-linux binutils libseccomp-dev pkg-config gcc libc6-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "benches/run.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || export PATH="$HOME/.cargo/bin:/root/.cargo/bin:$PATH"
# The runtime as shipped (release, static; see scripts/build-release.sh), and the harness.
rt="$("$top/scripts/build-release.sh")"
cargo build --locked --release -p benches >&2

# The C API subject: benches/capi_lifecycle.c linked statically with libruntime (release),
# installed by runtime-capi/install.sh into target/bench-capi, with the flags of its
# runtime.pc (--static: libruntime's own dependencies).
capi_prefix="$top/target/bench-capi"
"$top/runtime-capi/install.sh" "$capi_prefix" >&2
export PKG_CONFIG_PATH="$capi_prefix/lib/pkgconfig"
# shellcheck disable=SC2046 # word splitting of pkg-config's flags is wanted
cc -O2 -Wall -Werror $(pkg-config --cflags runtime) "$here/capi_lifecycle.c" \
  "$capi_prefix/lib/libruntime.a" $(pkg-config --static --libs-only-l runtime | sed 's/-lruntime\b//') \
  -o "$top/target/release/capi-lifecycle"

exec "$top/target/release/benches" --runtime-cli "$rt" \
  --capi "$top/target/release/capi-lifecycle" "$@"
