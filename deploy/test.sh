#!/usr/bin/env bash
# Command (2): sets up a fresh machine, builds everything and runs every test (ctest: doctest unit
# suites, integration tests through real processes on loopback, the openai npm client).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/setup.sh" --test
"$root/deploy/build.sh"
# The openai npm client and nothing else, pinned by tests/integration/package-lock.json.
(cd "$root/tests/integration" && npm ci --no-audit --no-fund --loglevel=error)
build=${LANEWAY_BUILD_DIR:-$root/build}
jobs=$( (command -v nproc >/dev/null && nproc) || sysctl -n hw.ncpu)
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 600
