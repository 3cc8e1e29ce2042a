#!/usr/bin/env bash
# runtime-capi/tests/run.sh — the C API's tests (as root): the header drift check, the C
# suite built with -fsanitize=address,undefined (lifecycle, error paths, 8 threads x 50
# containers, LeakSanitizer on), the C example, the Go package's tests and example.
# Everything links the library installed by install.sh into a temporary prefix through
# pkg-config, as a user would. Containers run under conformance/scripts/guarded-ns.sh with
# cgroups under /runtime-cli-test/capi-*.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
capi="$(cd "$here/.." && pwd)"
top="$(cd "$capi/.." && pwd)"
cd "$top"
command -v cargo >/dev/null || export PATH="$HOME/.cargo/bin:/root/.cargo/bin:$PATH"
guard="$top/conformance/scripts/guarded-ns.sh"
for tool in cc pkg-config go cbindgen jq; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (scripts/setup.sh installs it)"; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root"; exit 1; }

work="$(mktemp -d /tmp/runtime-capi-test.XXXXXX)"
trap 'rm -rf "$work"' EXIT
passed=0

echo "-- header drift check"
cargo test --locked -q -p runtime-capi --test header
passed=$((passed + 1))

echo "-- install into $work/prefix"
PROFILE=debug "$capi/install.sh" "$work/prefix"
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" LD_LIBRARY_PATH="$work/prefix/lib"

if [ -z "${RUNTIME_CLI_BIN:-}" ]; then
  cargo build --locked -q -p runtime-cli
  RUNTIME_CLI_BIN="$top/target/debug/runtime-cli"
fi
b="$work/bundles"
CGROUP_PREFIX=/runtime-cli-test "$top/scripts/mkbundle.sh" "$RUNTIME_CLI_BIN" "$b/sleep" sleep 1000 >/dev/null
# The other bundles share sleep/'s rootfs (read-only) and differ in args and cgroupsPath.
variant() { # NAME JQ-FILTER
  mkdir -p "$b/$1"
  jq --arg root "$b/sleep/rootfs" --arg cg "/runtime-cli-test/capi-$1" \
    ".root.path = \$root | .root.readonly = true | .linux.cgroupsPath = \$cg | $2" \
    "$b/sleep/config.json" > "$b/$1/config.json"
}
variant exit7 '.process.args = ["/bin/sh", "-c", "echo out; exit 7"]'
variant bad-config '.process.args = "not-an-array"'
for i in 0 1 2 3 4 5 6 7; do variant "t$i" '.process.args = ["true"]'; done
variant example '.process.args = ["/bin/sh", "-c", "echo hello from the C API example"]'

echo "-- C suite (-fsanitize=address,undefined)"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
  -fno-sanitize-recover=undefined -o "$work/capi_test" "$here/c/capi_test.c" \
  $(pkg-config --cflags --libs runtime) -lpthread
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
  timeout --kill-after=10 600 "$guard" "$work/capi_test" "$work/state-c" "$b"
passed=$((passed + 1))

echo "-- C example"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$work/run_example" "$capi/examples/run.c" $(pkg-config --cflags --libs runtime)
out="$("$guard" "$work/run_example" "$b/example" "$work/state-ex" capi-example)"
echo "$out"
echo "$out" | grep -q '^hello from the C API example$'
echo "$out" | grep -q '"status":"created"'
echo "$out" | grep -q '^exit code 0, status stopped$'
passed=$((passed + 1))

echo "-- Go package (go test) and Go example"
export GOFLAGS=-mod=mod GOCACHE="$work/gocache" GOPATH="$work/gopath" GO111MODULE=on GOPROXY=off
(cd "$capi/go" && go vet ./... && test -z "$(gofmt -l .)")
(cd "$capi/go" && timeout --kill-after=10 600 "$guard" env RUNTIME_TEST_BUNDLES="$b" RUNTIME_TEST_ROOT="$work/state-go" go test -count=1 -v ./... 2>&1 | tee "$work/go.out")
grep -q '^ok' "$work/go.out"
passed=$((passed + 1))
out="$(cd "$capi/go" && go build -o "$work/go_example" ./example && "$guard" "$work/go_example" "$b/example" "$work/state-goex" capi-goexample)"
echo "$out"
echo "$out" | grep -q '^hello from the C API example$'
echo "$out" | grep -q '^exit code 0, status stopped$'
passed=$((passed + 1))

echo "-- no container cgroup left"
left="$(find /sys/fs/cgroup/*/runtime-cli-test -maxdepth 1 -name 'capi-*' 2>/dev/null || true)"
if [ -n "$left" ]; then echo "leaked cgroups:"; echo "$left"; exit 1; fi
passed=$((passed + 1))
echo "$passed passed, 0 failed: C API (header, C suite, C example, Go tests, Go example, cgroups)"
