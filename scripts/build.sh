#!/usr/bin/env bash
# Builds the filter module (optimized and debug), the codec test harness and the controller into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
asc=node_modules/.bin/asc
"$asc" --config asconfig.json --target release
"$asc" --config asconfig.json --target debug
# The harness build prints notes about its own null checks; show output only when it fails.
# The floor of the cost bars (bench/floor/passthrough.ts), for the benchmark's arms 7 and 8.
"$asc" --config bench/floor/asconfig.json
out=$("$asc" --config test/codec/harness/asconfig.json 2>&1) || { echo "$out" >&2; exit 1; }
out=$("$asc" --config test/codec/thrift/harness/asconfig.json 2>&1) || { echo "$out" >&2; exit 1; }
# The controller and its `render` command, as one file (build/meltemi.js: `node build/meltemi.js render -f ...`).
node_modules/.bin/esbuild controller/cli.ts --bundle --platform=node --format=esm --target=node20 \
  --outfile=build/meltemi.js --log-level=warning \
  "--banner:js=import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);"
ls -l build/meltemi.js build/meltemi.wasm build/meltemi.debug.wasm build/codec-harness.wasm build/thrift-harness.wasm | awk '{print "built " $9 " (" $5 " bytes)"}'
