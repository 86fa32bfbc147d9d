#!/usr/bin/env bash
# Builds Helm (for `helm lint` / `helm template` of manifests/helm/meltemi in the tests) from the Go
# module proxy into a cache OUTSIDE the repo, so a fresh clone on the same machine reuses it:
#   ${MELTEMI_CACHE:-$HOME/.cache/meltemi}/helm/<version>/helm
# Prints the binary's path. Idempotent: returns at once when the binary reports the pinned version.
# Why v3: the newest Helm 3 line (Istio's own charts install with Helm 3); v3.19.5 is pinned because
# it builds with the Go here and is what the chart was checked with. Override: MELTEMI_HELM_VERSION.
set -euo pipefail

version="${MELTEMI_HELM_VERSION:-v3.19.5}"
dir="${MELTEMI_CACHE:-${HOME:?provision/helm: set HOME or MELTEMI_CACHE}/.cache/meltemi}/helm/$version"
bin="$dir/helm"
if [ -x "$bin" ] && "$bin" version --template '{{.Version}}' 2>/dev/null | grep -qx "$version"; then
  echo "$bin"
  exit 0
fi

if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null || { echo "provision/helm: Go is needed to build helm (on PATH)" >&2; exit 1; }
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
if [ -x "$bin" ] && "$bin" version --template '{{.Version}}' 2>/dev/null | grep -qx "$version"; then echo "$bin"; exit 0; fi
echo "provision/helm: building helm $version from the Go module proxy (once; a few minutes)" >&2
# `go install` stamps no version into Helm's binary (it reads it from -ldflags at release time), so the
# release's own ldflags variable is set here; without it `helm version` says v3.x-unreleased.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! GOBIN="$tmp" nice -n 19 go install -ldflags "-X helm.sh/helm/v3/internal/version.version=$version" "helm.sh/helm/v3/cmd/helm@$version" >&2; then
  echo "provision/helm: go install helm.sh/helm/v3/cmd/helm@$version failed (is the Go module proxy reachable?)" >&2
  exit 1
fi
mv "$tmp/helm" "$bin"
"$bin" version --template '{{.Version}}' | grep -qx "$version" || { echo "provision/helm: $bin does not report $version" >&2; exit 1; }
echo "$bin"
