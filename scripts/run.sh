#!/usr/bin/env bash
# Quick start: installs what is missing, then runs the appliance (simulated entrance by default,
# UI on http://localhost:8080). Arguments go to `canthus run`, e.g. --port 8081 or --source v4l2:/dev/video0.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run
exec node bin/canthus.js run "$@"
