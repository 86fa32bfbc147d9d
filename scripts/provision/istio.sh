#!/usr/bin/env bash
# Builds Istio's control plane and sidecar agent from the Go module proxy into a cache OUTSIDE the repo
# (CI runs in a fresh clone on the same machine, so the cache survives it):
#   ${MELTEMI_CACHE:-$HOME/.cache/meltemi}/istio/<version>/
#     bin/pilot-discovery  bin/pilot-agent  envoy_bootstrap_tmpl.json
# pilot-discovery is istiod; pilot-agent is istio-agent, which starts Envoy and serves it xDS, SDS and
# the Wasm module downloads. envoy_bootstrap_tmpl.json is the Envoy bootstrap template pilot-agent fills
# in (tools/packaging/common/envoy_bootstrap.json of the same commit; the proxy image ships it as
# /var/lib/istio/envoy/envoy_bootstrap_tmpl.json, a host process is pointed at it by ProxyConfig
# proxyBootstrapTemplatePath). Prints that directory on stdout. Idempotent: returns at once when the
# cache is complete. The first build takes about 5 minutes on 2 cores; it runs under `nice -n 10`.
#
# Version: istio.io/istio has no module releases (its tags are not Go-module versions), so it is pinned
# as a pseudo-version of a commit on the 1.31 line (the module's VERSION file says 1.31). Its go.mod has
# no replace directives, so `go install pkg@version` builds it as it is, with the exact dependency
# versions of that commit. The binaries report "1.31-dev" (what Istio's own `make` puts in
# pkg/version.buildVersion for that line); istiod gates features on the proxy's ISTIO_VERSION, and an
# unparsable version would be taken as "newest".
# Override with MELTEMI_ISTIO_VERSION (a pseudo-version) and MELTEMI_ISTIO_BUILD_VERSION; the build's
# parallelism with MELTEMI_GO_BUILD_P (default 2).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

version="${MELTEMI_ISTIO_VERSION:-v0.0.0-20260827124520-eed52ebb66ad}"
build_version="${MELTEMI_ISTIO_BUILD_VERSION:-1.31-dev}"
cache_root="${MELTEMI_CACHE:-${HOME:?provision/istio: set HOME or MELTEMI_CACHE}/.cache/meltemi}/istio"
dir="$cache_root/$version"

complete() { [ -f "$dir/.complete" ] && [ -x "$dir/bin/pilot-discovery" ] && [ -x "$dir/bin/pilot-agent" ] && [ -f "$dir/envoy_bootstrap_tmpl.json" ]; }
done_if_complete

say() { echo "provision/istio: $*" >&2; }
fail() { say "$*"; exit 1; }

need_go "provision/istio: Go is needed to build pilot-discovery and pilot-agent (Go 1.26+, on PATH)"
[[ "$version" =~ ^v0\.0\.0-[0-9]{14}-([0-9a-f]{12})$ ]] || fail "MELTEMI_ISTIO_VERSION must be a Go pseudo-version (v0.0.0-<time>-<commit>), got '$version'"
revision="${BASH_REMATCH[1]}"

lock_cache

log=$(mktemp)
trap 'rm -f "$log"; rm -rf "$dir.part"' EXIT
rm -rf "$dir.part"
mkdir -p "$dir.part/bin"

# Outside any module (cd /), `go install pkg@version` uses istio.io/istio's own go.mod.
export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOBIN="$dir.part/bin" GOFLAGS="-p=${MELTEMI_GO_BUILD_P:-2} -buildvcs=false -trimpath"
started=$(date +%s)

if ! json=$(cd / && go mod download -json "istio.io/istio@$version" 2>&1); then
  fail "could not download istio.io/istio@$version from the Go module proxy: $(sed -n 's/^[[:space:]]*"Error": //p' <<<"$json")"
fi
module_dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
template="$module_dir/tools/packaging/common/envoy_bootstrap.json"
[ -f "$template" ] || fail "istio.io/istio@$version has no tools/packaging/common/envoy_bootstrap.json"
cp "$template" "$dir.part/envoy_bootstrap_tmpl.json"
chmod 644 "$dir.part/envoy_bootstrap_tmpl.json"

ldflags="-s -w"
ldflags+=" -X istio.io/istio/pkg/version.buildVersion=$build_version"
ldflags+=" -X istio.io/istio/pkg/version.buildGitRevision=$revision"
ldflags+=" -X istio.io/istio/pkg/version.buildStatus=Clean"
say "building pilot-discovery and pilot-agent (istio.io/istio@$version; first time only, about 5 minutes)"
if ! (cd / && nice -n 10 go install -ldflags "$ldflags" \
      "istio.io/istio/pilot/cmd/pilot-discovery@$version" "istio.io/istio/pilot/cmd/pilot-agent@$version") >"$log" 2>&1; then
  tail -n 60 "$log" >&2
  fail "building istio.io/istio@$version failed (is the Go module proxy reachable? is the version published?)"
fi

# Versions are read into variables first (a `| grep -q` under pipefail can fail on SIGPIPE).
for bin in pilot-discovery pilot-agent; do
  out=$("$dir.part/bin/$bin" version --short 2>/dev/null) || fail "the built $bin does not run"
  [[ "$out" == *"$build_version"* ]] || fail "the built $bin reports '$out', not $build_version"
done

touch "$dir.part/.complete"
rm -rf "$dir"
mv "$dir.part" "$dir"
say "built in $(( $(date +%s) - started ))s into $dir"
echo "$dir"
