#!/usr/bin/env bash
# Installs what canthus needs on Debian 12 + Node 20, only what is missing:
#   Debian packages (GStreamer with its development files, fonts, a compiler for the native binding,
#   openssl for the self-signed HTTPS certificate)
#   npm packages (npm ci; onnxruntime-node's CUDA download is skipped, its CPU build ships in the package)
# Usage: scripts/setup.sh [run|test]
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-run}"

# openssl: makes the self-signed HTTPS certificate (security.tls.selfSigned); Node cannot issue one.
packages=(libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  fonts-dejavu-core g++ make python3 openssl)
# Test-only packages: a real MQTT broker (started by the uplink tests on a loopback port of their own),
# a real browser (driven by playwright-core in the UI tests) and a Chinese font for its screenshots.
if [ "$purpose" = test ]; then
  packages+=(mosquitto chromium fonts-wqy-microhei)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "canthus setup: missing Debian packages: ${missing[*]}" >&2
    echo "install them as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "canthus setup: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "canthus setup: Node.js 20 or newer is needed, this is $(node --version)" >&2
  exit 1
fi

# npm ci again only when package-lock.json changed since the last install.
stamp=node_modules/.canthus-lock-sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "canthus setup: npm ci" >&2
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >&2
  echo "$want" > "$stamp"
fi

# The web UI: ui/src (TypeScript) → ui/dist, bundled offline by esbuild (a dev dependency, present
# for both run and test after npm ci). Fast (well under a second), so it runs every time.
node bin/run-ts.js scripts/build-ui.ts
