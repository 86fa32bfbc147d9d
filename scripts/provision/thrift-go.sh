#!/usr/bin/env bash
# Builds the Apache Thrift Go test client (test/peers/thrift-go) with the code Debian's thrift-compiler
# generates from test/codec/thrift/interop.thrift, in a temporary directory, into
# ~/.cache/meltemi/thrift-go/<hash>/client (hash of the sources, the IDL, the compiler and library
# versions), once per version of the Go library in VERSIONS: the oldest and newest that the Go module
# proxy serves among those that send oneway methods as CALL (v0.17.0 is also the compiler's version).
# Prints "<version> <binary path>" per version on stdout (test/envoy/thrift-go-oneway.test.ts reads it).
# Idempotent: returns at once when the binaries exist. Needs Go; a first build downloads
# github.com/apache/thrift from the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSIONS="v0.17.0 v0.25.0"
src=test/peers/thrift-go
idl=test/codec/thrift/interop.thrift
compiler=$(scripts/provision/thrift.sh)
command -v go >/dev/null || { echo "provision/thrift-go: Go is needed (go on PATH)" >&2; exit 1; }

build() {
  local version=$1 hash out tmp
  hash=$( (cat "$src/go.mod" "$src/client.go" "$idl"; "$compiler" --version; go env GOVERSION; echo "$version") | sha256sum | cut -c1-16)
  out=${MELTEMI_CACHE:-$HOME/.cache/meltemi}/thrift-go/$hash
  if [ ! -x "$out/client" ]; then
    echo "provision/thrift-go: building the Thrift Go client with github.com/apache/thrift $version" >&2
    tmp=$(mktemp -d)
    cp "$src/go.mod" "$src/client.go" "$tmp/"
    mkdir -p "$tmp/gen"
    "$compiler" --gen go:skip_remote,package_prefix=meltemi.test/thriftgo/gen/ -out "$tmp/gen" "$idl" >&2
    # -mod=mod: resolve and record go.sum in the temporary copy (the repository keeps no go.sum).
    if ! (cd "$tmp" && go mod edit -require="github.com/apache/thrift@$version" && GOFLAGS=-mod=mod go build -o client . >&2); then
      rm -rf "$tmp"
      echo "provision/thrift-go: go build failed (is the Go module proxy reachable?)" >&2
      exit 1
    fi
    mkdir -p "$out"
    mv "$tmp/client" "$out/client.tmp" && mv "$out/client.tmp" "$out/client"
    rm -rf "$tmp"
  fi
  echo "$version $out/client"
}

for version in $VERSIONS; do build "$version"; done
