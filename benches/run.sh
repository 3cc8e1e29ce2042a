#!/usr/bin/env bash
# benches/run.sh [ARGS...] — the benchmark in one command (as root): install runc, crun and
# busybox-static (idempotent), build runtime-cli and the harness in release mode, and run
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
cargo build --locked --release -p runtime-cli -p benches >&2
exec "$top/target/release/benches" --runtime-cli "$top/target/release/runtime-cli" "$@"
