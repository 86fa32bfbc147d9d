#!/usr/bin/env bash
# Everything the tests and the demo need on a fresh machine: npm dependencies and the pinned Envoy.
# Idempotent and quick when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup: Node.js 20+ and npm are needed" >&2
  exit 1
fi
# npm ci only when the lockfile changed since the last install (or node_modules is missing).
stamp=node_modules/.meltemi-lock-sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing npm dependencies" >&2
  flock .npm.lock npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

scripts/provision/envoy.sh >/dev/null
