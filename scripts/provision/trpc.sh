#!/usr/bin/env bash
# Builds the tRPC test peers (test/peers/trpc: a server and a client on the real trpc-go, from the Go
# module proxy) into a cache OUTSIDE the repo (CI runs in a fresh clone on the same machine):
#   ${MELTEMI_CACHE:-$HOME/.cache/meltemi}/trpc-go/<hash>/trpcpeer
# (hash of the peer's sources, the trpc-go version and the Go version). Prints that binary's path on
# stdout. Idempotent: returns at once when it exists; one build at a time (flock). The build runs
# under `nice -n 10` with parallelism MELTEMI_GO_BUILD_P (default 2): the machine is shared. A first
# build downloads trpc-go v1.0.3 and its dependencies (about 25 modules) from the Go module proxy:
# about 55 s on an empty module and build cache, 25 s with the modules cached.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=test/peers/trpc
version=v1.0.3

say() { echo "provision/trpc: $*" >&2; }
fail() { say "$*"; exit 1; }

if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null || fail "Go is needed (go on PATH)"

hash=$( (cat "$src/go.mod" "$src/main.go"; go env GOVERSION; echo "$version") | sha256sum | cut -c1-16)
cache_root="${MELTEMI_CACHE:-${HOME:?provision/trpc: set HOME or MELTEMI_CACHE}/.cache/meltemi}/trpc-go"
out="$cache_root/$hash"
if [ -x "$out/trpcpeer" ]; then echo "$out/trpcpeer"; exit 0; fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock 9
if [ -x "$out/trpcpeer" ]; then echo "$out/trpcpeer"; exit 0; fi

say "building the tRPC peers with trpc.group/trpc-go/trpc-go $version (first time only)"
started=$(date +%s)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$src/go.mod" "$src/main.go" "$tmp/"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS="-p=${MELTEMI_GO_BUILD_P:-2} -buildvcs=false -trimpath -mod=mod"
# -mod=mod: resolve and record go.sum in the temporary copy (the repository keeps no go.sum).
if ! (cd "$tmp" && go mod edit -require="trpc.group/trpc-go/trpc-go@$version" && nice -n 10 go build -o trpcpeer . >&2); then
  fail "go build failed (is the Go module proxy reachable?)"
fi
mkdir -p "$out"
mv "$tmp/trpcpeer" "$out/trpcpeer.tmp" && mv "$out/trpcpeer.tmp" "$out/trpcpeer"
say "built in $(( $(date +%s) - started ))s into $out"
echo "$out/trpcpeer"
