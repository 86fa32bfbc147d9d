#!/usr/bin/env bash
# `npm run bench` (bench/README.md): sets up a fresh machine, builds when the filter's sources are newer
# than build/meltemi.wasm, runs the benchmark. Only the benchmark writes to stdout (--json stays clean).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >&2
if [ ! -f build/meltemi.wasm ] || [ -n "$(find filter asconfig.json -newer build/meltemi.wasm -print -quit)" ]; then
  flock .build.lock scripts/build.sh >&2
fi
exec node --import tsx bench/run.ts "$@"
