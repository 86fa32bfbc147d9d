#!/usr/bin/env bash
# Builds the dubbo-go test consumer (test/peers/dubbo-go: dubbo.apache.org/dubbo-go/v3 at the version its
# go.mod pins) in a temporary directory into ~/.cache/meltemi/dubbo-go/<hash>/client (hash of the
# sources, go.sum and the Go version). Prints the binary's path on stdout (test/envoy/dubbo_go.ts reads
# it). Idempotent: returns at once when the binary exists. Needs Go; a first build downloads dubbo-go and
# its dependencies from the Go module proxy, checked against the committed go.sum.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=test/peers/dubbo-go
command -v go >/dev/null || { echo "provision/dubbo-go: Go is needed (go on PATH)" >&2; exit 1; }

hash=$( (cat "$src/go.mod" "$src/go.sum" "$src/client.go"; go env GOVERSION) | sha256sum | cut -c1-16)
out=${MELTEMI_CACHE:-$HOME/.cache/meltemi}/dubbo-go/$hash
if [ ! -x "$out/client" ]; then
  echo "provision/dubbo-go: building the dubbo-go consumer ($(grep -o 'dubbo-go/v3 v[^ ]*' "$src/go.mod"))" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cp "$src/go.mod" "$src/go.sum" "$src/client.go" "$tmp/"
  # -mod=readonly: the build uses exactly the committed go.mod and go.sum (a module graph of a few
  # hundred modules, so the sums are kept for reproducible builds rather than resolved afresh).
  if ! (cd "$tmp" && GOFLAGS=-mod=readonly go build -trimpath -o client . >&2); then
    echo "provision/dubbo-go: go build failed (is the Go module proxy reachable?)" >&2
    exit 1
  fi
  mkdir -p "$out"
  mv "$tmp/client" "$out/client.tmp" && mv "$out/client.tmp" "$out/client"
fi
echo "$out/client"
