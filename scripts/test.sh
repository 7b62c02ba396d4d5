#!/usr/bin/env bash
# Every check CI runs: setup, lint and format, types, then the whole test suite
# (unit, integration with real GStreamer pipelines, HTTP).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
npx biome ci .
npx tsc --noEmit -p .
npx vitest run "$@"
