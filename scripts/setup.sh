#!/usr/bin/env bash
# setup.sh [--demo] — install what runtime-cli needs on Debian (idempotent, as root) and
# check the Rust toolchain. --demo installs only what the demo needs; without it, also the
# peer runtimes and tools the test suite uses.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/.." && pwd)"

if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: run as root (it installs Debian packages)" >&2
  exit 1
fi

# apt must never start services (containerd, docker) while installing.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
fi

pkgs=(ca-certificates gcc libc6-dev pkg-config libseccomp-dev busybox-static jq)
if [ "${1:-}" != "--demo" ]; then
  pkgs+=(runc crun util-linux procps iproute2 file python3)
  # containers-common's seccomp.json: the default profile the security suite loads.
  pkgs+=(golang-github-containers-common)
  # dockerd: the security suite takes Docker's default seccomp profile from a private daemon.
  pkgs+=(docker.io)
  # apparmor_parser: the AppArmor test loads a profile where AppArmor is enabled (the v2 VM).
  pkgs+=(apparmor)
  pkgs+=(uidmap passwd)  # rootless tests: newuidmap/newgidmap, useradd
fi
# The C API's tests: the header generator and Go for the cgo package.
if [ "${1:-}" != "--demo" ]; then
  pkgs+=(cbindgen golang-go)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Rust: the toolchain comes from the machine (rustup's servers are not reachable here and
# Debian's rustc is older than the workspace needs).
need=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' "$top/Cargo.toml" | head -1)
if ! command -v cargo >/dev/null 2>&1; then
  for d in "$HOME/.cargo/bin" /root/.cargo/bin /usr/local/cargo/bin; do
    [ -x "$d/cargo" ] && export PATH="$d:$PATH" && break
  done
fi
if ! command -v rustc >/dev/null 2>&1; then
  echo "setup.sh: no Rust toolchain found; install Rust >= $need (rustup) and re-run" >&2
  exit 1
fi
have=$(rustc --version | awk '{print $2}')
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
  echo "setup.sh: rustc $have is older than the required $need; install a newer toolchain (rustup)" >&2
  exit 1
fi
echo "setup.sh: ok (rustc $have)"
