#!/usr/bin/env bash
# Builds a real kube-apiserver and etcd from the Go module proxy, and fetches Istio's CRDs, into a
# cache OUTSIDE the repo (CI runs in a fresh clone on the same machine, so the cache survives it):
#   ${MELTEMI_CACHE:-$HOME/.cache/meltemi}/kube/k8s-<v>_etcd-<v>_istio-api-<v>/
#     bin/kube-apiserver  bin/etcd  istio-crds.yaml
# Prints that directory on stdout. Idempotent: returns at once when the cache is complete. The first
# build takes minutes (it compiles kube-apiserver); it runs under `nice -n 19` with low parallelism
# because the machine is shared.
#
# Why not `go install k8s.io/kubernetes/cmd/kube-apiserver@v1.x`: k8s.io/kubernetes's go.mod replaces
# its staging modules (k8s.io/api => ./staging/src/k8s.io/api, ...) and `go install pkg@version`
# refuses modules with replace directives; the module zip does not even contain staging/. So the build
# runs in a throwaway module that requires k8s.io/kubernetes and replaces every staging module with its
# published counterpart (k8s.io/api v0.Y.Z for Kubernetes v1.Y.Z). etcd's server module has the same
# kind of replace directives (../api, ../client/v3, ...), so it is built the same way, without replaces
# (its dependencies are published at the same version).
#
# Versions: Kubernetes 1.36.3 (newest stable on the proxy); etcd 3.6.x, the line Kubernetes 1.36 is
# tested with (its hack/lib/etcd.sh pins 3.6.8; 3.6.16 is that line's newest patch); istio.io/api
# v1.31.1, whose kubernetes/customresourcedefinitions.gen.yaml holds Istio's CRDs (EnvoyFilter
# networking.istio.io/v1alpha3, WasmPlugin extensions.istio.io/v1alpha1, ...).
# Override with MELTEMI_K8S_VERSION, MELTEMI_ETCD_VERSION, MELTEMI_ISTIO_API_VERSION; the build's
# parallelism with MELTEMI_GO_BUILD_P (default 2).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

k8s="${MELTEMI_K8S_VERSION:-v1.36.3}"
etcd="${MELTEMI_ETCD_VERSION:-v3.6.16}"
istio_api="${MELTEMI_ISTIO_API_VERSION:-v1.31.1}"
cache_root="${MELTEMI_CACHE:-${HOME:?provision/kube: set HOME or MELTEMI_CACHE}/.cache/meltemi}/kube"
dir="$cache_root/k8s-${k8s}_etcd-${etcd}_istio-api-${istio_api}"

complete() { [ -f "$dir/.complete" ] && [ -x "$dir/bin/kube-apiserver" ] && [ -x "$dir/bin/etcd" ] && [ -f "$dir/istio-crds.yaml" ]; }
done_if_complete

say() { echo "provision/kube: $*" >&2; }
fail() { say "$*"; exit 1; }

need_go "provision/kube: Go is needed to build kube-apiserver and etcd (Go 1.26+, on PATH)"
[[ "$k8s" =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || fail "MELTEMI_K8S_VERSION must look like v1.Y.Z, got '$k8s'"
k8s_minor="${BASH_REMATCH[1]}"
staging_version="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"

lock_cache

tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$dir.part"' EXIT
rm -rf "$dir.part"
mkdir -p "$dir.part/bin"

export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS="-p=${MELTEMI_GO_BUILD_P:-2} -mod=mod -buildvcs=false -trimpath"
build() { nice -n 19 go "$@"; }
started=$(date +%s)

# The module cache holds the downloaded module; the JSON names its files (`go mod download -json`).
module_file() { # module@version field -> path
  local json
  if ! json=$(go mod download -json "$1" 2>&1); then
    fail "could not download $1 from the Go module proxy (is it reachable? is the version published?): $(sed -n 's/^[[:space:]]*"Error": //p' <<<"$json")"
  fi
  sed -n "s/^[[:space:]]*\"$2\": \"\(.*\)\",\{0,1\}$/\1/p" <<<"$json"
}

say "fetching Istio CRDs (istio.io/api@$istio_api)"
istio_dir=$(module_file "istio.io/api@$istio_api" Dir)
crds="$istio_dir/kubernetes/customresourcedefinitions.gen.yaml"
[ -f "$crds" ] || fail "istio.io/api@$istio_api has no kubernetes/customresourcedefinitions.gen.yaml"
cp "$crds" "$dir.part/istio-crds.yaml"
chmod 644 "$dir.part/istio-crds.yaml"

say "building kube-apiserver $k8s (first time only; takes minutes)"
k8s_gomod=$(module_file "k8s.io/kubernetes@$k8s" GoMod)
mapfile -t staging < <(awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$k8s_gomod")
[ "${#staging[@]}" -gt 0 ] || fail "found no staging replace directives in k8s.io/kubernetes@$k8s's go.mod ($k8s_gomod)"
mkdir "$tmp/apiserver"
{
  echo "module meltemi.local/kube-apiserver-build"
  echo "go 1.26"
  echo "require k8s.io/kubernetes $k8s"
  echo "replace ("
  for m in "${staging[@]}"; do echo "  $m => $m $staging_version"; done
  echo ")"
} >"$tmp/apiserver/go.mod"
# The version kube-apiserver reports (/version); Kubernetes' own build sets the same variables
# (hack/lib/version.sh) in both packages.
ldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor -X $pkg.gitTreeState=clean"
  ldflags+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
if ! (cd "$tmp/apiserver" && build build -ldflags "$ldflags" -o "$dir.part/bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver) >"$tmp/apiserver.log" 2>&1; then
  tail -n 60 "$tmp/apiserver.log" >&2
  fail "building kube-apiserver $k8s failed (staging modules replaced with $staging_version: ${staging[*]})"
fi

say "building etcd $etcd"
mkdir "$tmp/etcd"
printf 'module meltemi.local/etcd-build\ngo 1.26\nrequire go.etcd.io/etcd/server/v3 %s\n' "$etcd" >"$tmp/etcd/go.mod"
# The server module's root package is etcd's main (main.go calls etcdmain.Main).
if ! (cd "$tmp/etcd" && build build -ldflags "-s -w" -o "$dir.part/bin/etcd" go.etcd.io/etcd/server/v3) >"$tmp/etcd.log" 2>&1; then
  tail -n 60 "$tmp/etcd.log" >&2
  fail "building etcd $etcd failed"
fi

# Versions are read into variables first: `etcd --version | grep -q` under pipefail fails at random
# (grep -q exits at the first line, etcd dies of SIGPIPE writing the next; 3 of 30 runs here).
apiserver_version=$("$dir.part/bin/kube-apiserver" --version) || fail "the built kube-apiserver does not run"
[ "$apiserver_version" = "Kubernetes $k8s" ] || fail "the built kube-apiserver reports '$apiserver_version', not Kubernetes $k8s"
etcd_version=$("$dir.part/bin/etcd" --version) || fail "the built etcd does not run"
[[ "$etcd_version" == *"etcd Version: ${etcd#v}"* ]] || fail "the built etcd reports '${etcd_version%%$'\n'*}', not $etcd"

touch "$dir.part/.complete"
rm -rf "$dir"
mv "$dir.part" "$dir"
say "built in $(( $(date +%s) - started ))s into $dir"
echo "$dir"
