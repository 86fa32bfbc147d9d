#!/usr/bin/env bash
# Everything the tests and the demo need on a fresh machine: npm dependencies and the pinned Envoy.
# Idempotent and quick when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup: Node.js 20+ and npm are needed" >&2
  exit 1
fi
# The npm the user invoked does the install. Under `npm run` (npm test, npm run demo), node_modules/.bin
# comes first on PATH, and an npm a dependency put there would do it instead (npm 6 once did: it emptied
# node_modules, then failed on the v3 lockfile). npm names itself in npm_execpath, and the node running
# it in npm_node_execpath; without them (the script run directly, or by another package manager), the
# npm on PATH with every node_modules/.bin left out.
if [[ "${npm_execpath:-}" == */npm-cli.js ]]; then
  npm=("${npm_node_execpath:-node}" "$npm_execpath")
else
  npm=(env "PATH=$(tr ':' '\n' <<<"$PATH" | grep -v '/node_modules/\.bin/*$' | paste -sd:)" npm)
fi

# npm ci only when the lockfile changed since the last install (or node_modules is missing).
stamp=node_modules/.meltemi-lock-sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing npm dependencies" >&2
  flock .npm.lock "${npm[@]}" ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

scripts/provision/envoy.sh >/dev/null
