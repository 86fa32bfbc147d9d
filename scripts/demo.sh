#!/usr/bin/env bash
# The main job (README "The demo"): sets up a fresh machine, builds, and runs the local mesh demo
# (demo/main.ts). Arguments go to the demo: `npm run demo -- --prometheus`, `-- --duration 30`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh >/dev/null
# The demo's parts: the Thrift compiler and the Dubbo Java peers (JDK, Maven) are provisioned by the
# demo itself through scripts/provision/; the throwaway mTLS certificates need the openssl CLI.
if ! command -v openssl >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "demo: installing openssl (Debian package)" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >&2
  else
    echo "demo: the openssl command is needed (for the demo's throwaway certificates)" >&2
    exit 1
  fi
fi
exec node --import tsx demo/main.ts "$@"
