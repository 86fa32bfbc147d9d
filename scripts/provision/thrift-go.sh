#!/usr/bin/env bash
# Builds the Apache Thrift Go test client (test/peers/thrift-go) with the code Debian's thrift-compiler
# generates from test/codec/thrift/interop.thrift, in a temporary directory, into
# ~/.cache/meltemi/thrift-go/<hash>/client (hash of the sources, the IDL and the compiler version).
# Idempotent: returns at once when that binary exists. Prints the binary's path on stdout.
# Needs Go; the first build downloads github.com/apache/thrift from the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=test/peers/thrift-go
idl=test/codec/thrift/interop.thrift
compiler=$(scripts/provision/thrift.sh)
command -v go >/dev/null || { echo "provision/thrift-go: Go is needed (go on PATH)" >&2; exit 1; }

hash=$( (cat "$src/go.mod" "$src/client.go" "$idl"; "$compiler" --version; go env GOVERSION) | sha256sum | cut -c1-16)
out=${MELTEMI_CACHE:-$HOME/.cache/meltemi}/thrift-go/$hash
if [ -x "$out/client" ]; then
  echo "$out/client"
  exit 0
fi

echo "provision/thrift-go: building the Thrift Go client (thrift --gen go, go build)" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$src/go.mod" "$src/client.go" "$tmp/"
mkdir -p "$tmp/gen"
"$compiler" --gen go:skip_remote,package_prefix=meltemi.test/thriftgo/gen/ -out "$tmp/gen" "$idl" >&2
# -mod=mod: resolve and record go.sum in the temporary copy (the repository keeps no go.sum).
(cd "$tmp" && GOFLAGS=-mod=mod go build -o client . >&2) || {
  echo "provision/thrift-go: go build failed (is the Go module proxy reachable?)" >&2
  exit 1
}
mkdir -p "$out"
mv "$tmp/client" "$out/client.tmp" && mv "$out/client.tmp" "$out/client"
echo "$out/client"
