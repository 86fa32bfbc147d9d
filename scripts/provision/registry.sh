#!/usr/bin/env bash
# Installs what the wasm-build tests need for a real OCI registry: Debian's `docker-registry` (the CNCF
# distribution registry 2.8, /usr/bin/docker-registry), `skopeo` (reads images back) and `openssl`
# (makes the certificate the registry's token auth verifies JWTs with).
# Idempotent: returns at once when all three are there; runs `apt-get update` only when one is missing.
set -euo pipefail

need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v skopeo >/dev/null || need+=(skopeo)
command -v openssl >/dev/null || need+=(openssl)
[ ${#need[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "provision/registry: ${need[*]} missing and apt-get is not available (Debian/Ubuntu expected)" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "provision/registry: installing ${need[*]} needs root (or sudo)" >&2
    exit 1
  fi
  sudo=(sudo)
fi

echo "provision/registry: installing ${need[*]} (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! "${sudo[@]}" apt-get update -qq >"$log" 2>&1; then
  cat "$log" >&2
  echo "provision/registry: apt-get update failed (are Debian's package mirrors reachable?)" >&2
  exit 1
fi
# --no-install-recommends: skopeo recommends fuse-overlayfs, docker-registry recommends apache2-utils;
# neither is needed. Where an init system runs, the package also starts a registry on :5000; tests
# never use it (each starts its own on a free loopback port).
if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  echo "provision/registry: apt-get install ${need[*]} failed" >&2
  exit 1
fi
for bin in docker-registry skopeo openssl; do
  command -v "$bin" >/dev/null || { echo "provision/registry: $bin still missing after install" >&2; exit 1; }
done
