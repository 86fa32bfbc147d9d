#!/usr/bin/env bash
# The main job (README): sets up a fresh machine, builds the module, runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh >/dev/null
exec node --import tsx demo/smoke.ts
