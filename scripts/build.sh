#!/usr/bin/env bash
# Builds the filter module (optimized and debug) and the codec test harness into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
asc=node_modules/.bin/asc
"$asc" --config asconfig.json --target release
"$asc" --config asconfig.json --target debug
# The harness build prints notes about its own null checks; show output only when it fails.
out=$("$asc" --config test/codec/harness/asconfig.json 2>&1) || { echo "$out" >&2; exit 1; }
ls -l build/meltemi.wasm build/meltemi.debug.wasm build/codec-harness.wasm | awk '{print "built " $9 " (" $5 " bytes)"}'
