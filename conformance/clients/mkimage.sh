#!/usr/bin/env bash
# mkimage.sh OUTDIR — a busybox image built locally, no network: busybox-static in a fresh
# umoci OCI layout. Produces OUTDIR/layout (OCI image layout, tag "latest"),
# OUTDIR/busybox-oci.tar (that layout as a tarball, for `ctr image import`) and
# OUTDIR/rootfs.tar (the plain root filesystem, for `docker import`).
set -euo pipefail
out="$1"
rm -rf "$out"; mkdir -p "$out"
out="$(cd "$out" && pwd -P)"
work="$out/work"; rfs="$work/rootfs"
mkdir -p "$rfs"/{bin,etc,proc,sys,dev,tmp,root,run,var,data}
chmod 1777 "$rfs/tmp"
echo from-the-image > "$rfs/tmp/from-image"  # podman --read-only: tmpcopyup shows it
cp /bin/busybox "$rfs/bin/busybox"
for a in $(/bin/busybox --list); do [ -e "$rfs/bin/$a" ] || ln -s busybox "$rfs/bin/$a"; done
mkdir -p "$rfs/usr"; ln -s ../bin "$rfs/usr/bin"; ln -s bin "$rfs/sbin"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$rfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$rfs/etc/group"
: > "$rfs/etc/hosts"; : > "$rfs/etc/resolv.conf"; echo busybox > "$rfs/etc/hostname"
tar -C "$rfs" -cf "$out/rootfs.tar" .

l="$out/layout"
umoci init --layout "$l"
umoci new --image "$l:latest"
umoci unpack --image "$l:latest" "$work/bundle" >/dev/null
rm -rf "$work/bundle/rootfs"
cp -a "$rfs" "$work/bundle/rootfs"
umoci repack --image "$l:latest" "$work/bundle"
umoci config --image "$l:latest" --config.cmd /bin/sleep --config.cmd 2147483647 \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.workingdir / --os linux --architecture amd64
umoci gc --layout "$l"
tar -C "$l" -cf "$out/busybox-oci.tar" .
rm -rf "$work"
