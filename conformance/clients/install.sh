#!/usr/bin/env bash
# conformance/clients/install.sh — install the real clients the client suites drive
# (idempotent, as root): containerd 1.6, podman 4.3 + conmon, docker.io 20.10, umoci,
# busybox-static, the CNI plugins. apt never starts their services (policy-rc.d).
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "install.sh: run as root" >&2
  exit 1
fi
# Written before any package that ships a service: apt must not start containerd/dockerd.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
fi
pkgs=(containerd podman conmon docker.io umoci busybox-static containernetworking-plugins
  jq util-linux procps python3 python3-grpcio iptables)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install.sh: containerd $(dpkg-query -W -f='${Version}' containerd), podman $(dpkg-query -W -f='${Version}' podman), docker.io $(dpkg-query -W -f='${Version}' docker.io)"
