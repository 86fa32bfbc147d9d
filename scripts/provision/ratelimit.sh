#!/usr/bin/env bash
# Installs the real parts of the global rate limit tests (issue 16, test/ratelimit/):
#   - Debian's `redis-server` (apt-get), the store the rate limit service counts in; each test starts
#     its own /usr/bin/redis-server on a free loopback port; the service the package may start
#     (:6379) is never used;
#   - Envoy's rate limit service, github.com/envoyproxy/ratelimit (Go), built from the Go module proxy
#     into a cache OUTSIDE the repo (CI runs in a fresh clone on the same machine):
#       ${MELTEMI_CACHE:-$HOME/.cache/meltemi}/ratelimit/<version>/bin/ratelimit
# Prints that directory on stdout. Idempotent: returns at once when both parts are there.
#
# Version: the proxy serves no tagged version of the module (`go list -m -versions` lists none),
# only pseudo-versions of its main branch's commits, so the pin is the pseudo-version `go list -m github.com/envoyproxy/ratelimit@latest` gave (commit
# 3fb702589d36 of 2026-01-22). Override with MELTEMI_RATELIMIT_VERSION. Its go.mod has no replace
# directives, so `go install <main package>@<version>` builds it as published. The build runs under
# `nice -n 10` with parallelism MELTEMI_GO_BUILD_P (default 2): the machine is shared.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

version="${MELTEMI_RATELIMIT_VERSION:-v1.4.1-0.20260122083618-3fb702589d36}"
cache_root="${MELTEMI_CACHE:-${HOME:?provision/ratelimit: set HOME or MELTEMI_CACHE}/.cache/meltemi}/ratelimit"
dir="$cache_root/$version"

say() { echo "provision/ratelimit: $*" >&2; }
fail() { say "$*"; exit 1; }

# --- redis-server (Debian) ---------------------------------------------------------------------------
if ! command -v redis-server >/dev/null; then
  command -v apt-get >/dev/null || fail "redis-server missing and apt-get is not available (Debian/Ubuntu expected)"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "installing redis-server needs root (or sudo)"
    sudo=(sudo)
  fi
  say "installing redis-server (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  if ! "${sudo[@]}" apt-get update -qq >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    fail "apt-get update failed (are Debian's package mirrors reachable?)"
  fi
  if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends redis-server >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    fail "apt-get install redis-server failed"
  fi
  rm -f "$log"
  command -v redis-server >/dev/null || fail "redis-server still missing after install"
fi

# --- the rate limit service (Go module proxy) --------------------------------------------------------
complete() { [ -f "$dir/.complete" ] && [ -x "$dir/bin/ratelimit" ]; }
done_if_complete

need_go "provision/ratelimit: Go is needed to build the rate limit service (Go 1.25.6+, on PATH)"

lock_cache

trap 'rm -rf "$dir.part"' EXIT
rm -rf "$dir.part"
mkdir -p "$dir.part/bin"
say "building github.com/envoyproxy/ratelimit@$version (first time only; takes a few minutes)"
started=$(date +%s)
export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS="-p=${MELTEMI_GO_BUILD_P:-2} -buildvcs=false -trimpath"
# src/service_cmd is the service's main package (its Dockerfile builds the same package).
build_log=$(mktemp)
if ! GOBIN="$dir.part/bin" nice -n 10 go install -ldflags "-s -w" "github.com/envoyproxy/ratelimit/src/service_cmd@$version" >"$build_log" 2>&1; then
  tail -n 60 "$build_log" >&2
  rm -f "$build_log"
  fail "building github.com/envoyproxy/ratelimit@$version failed (is the Go module proxy reachable? is the version published?)"
fi
rm -f "$build_log"
mv "$dir.part/bin/service_cmd" "$dir.part/bin/ratelimit"
echo "$version" >"$dir.part/VERSION"
touch "$dir.part/.complete"
rm -rf "$dir"
mv "$dir.part" "$dir"
say "built in $(( $(date +%s) - started ))s into $dir"
echo "$dir"
