#!/usr/bin/env bash
# install.sh [PREFIX] — build libruntime and install it under PREFIX (default /usr/local):
#   PREFIX/lib/libruntime.so, PREFIX/lib/libruntime.a, PREFIX/include/runtime.h,
#   PREFIX/lib/pkgconfig/runtime.pc
# after which `cc app.c $(pkg-config --cflags --libs runtime)` works (for a PREFIX outside
# pkg-config's default path, set PKG_CONFIG_PATH=PREFIX/lib/pkgconfig, and LD_LIBRARY_PATH or
# -Wl,-rpath,PREFIX/lib to run the program). PROFILE=debug installs the debug build (faster
# to build; the tests use it); the default is the release build.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/.." && pwd)"
prefix="${1:-/usr/local}"
profile="${PROFILE:-release}"
command -v cargo >/dev/null || export PATH="$HOME/.cargo/bin:/root/.cargo/bin:$PATH"

flag=(); [ "$profile" = release ] && flag=(--release)
(cd "$top" && cargo build --locked "${flag[@]}" -q -p runtime-capi)
target="${CARGO_TARGET_DIR:-$top/target}/$profile"
version="$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$top/Cargo.toml" | head -1)"

mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
install -m 0755 "$target/libruntime.so" "$prefix/lib/libruntime.so"
install -m 0644 "$target/libruntime.a" "$prefix/lib/libruntime.a"
install -m 0644 "$here/include/runtime.h" "$prefix/include/runtime.h"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" "$here/runtime.pc.in" > "$prefix/lib/pkgconfig/runtime.pc"
if [ "$(id -u)" = 0 ] && { [ "$prefix" = /usr/local ] || [ "$prefix" = /usr ]; }; then
  ldconfig 2>/dev/null || true
fi
echo "installed libruntime $version ($profile) under $prefix"
