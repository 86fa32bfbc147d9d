#!/usr/bin/env bash
# Installs Debian's `prometheus` package for the adaptive rate limit tests (test/adaptive/): each test
# starts its own /usr/bin/prometheus on a free loopback port with its own config and data directory;
# the service the package may start (:9090) is never used.
# Idempotent: returns at once when the binary is there; runs `apt-get update` only when it is missing.
# Prints the path of the binary.
set -euo pipefail

if ! command -v prometheus >/dev/null; then
  if ! command -v apt-get >/dev/null; then
    echo "provision/prometheus: prometheus missing and apt-get is not available (Debian/Ubuntu expected)" >&2
    exit 1
  fi
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "provision/prometheus: installing prometheus needs root (or sudo)" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "provision/prometheus: installing prometheus (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  trap 'rm -f "$log"' EXIT
  if ! "${sudo[@]}" apt-get update -qq >"$log" 2>&1; then
    cat "$log" >&2
    echo "provision/prometheus: apt-get update failed (are Debian's package mirrors reachable?)" >&2
    exit 1
  fi
  # --no-install-recommends: the recommended node exporter and web assets are not needed.
  if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends prometheus >"$log" 2>&1; then
    cat "$log" >&2
    echo "provision/prometheus: apt-get install prometheus failed" >&2
    exit 1
  fi
  command -v prometheus >/dev/null || { echo "provision/prometheus: prometheus still missing after install" >&2; exit 1; }
fi
command -v prometheus
