#!/usr/bin/env bash
# Configures and builds laneway into build/ (Ninja, ccache when present).
# Environment: LANEWAY_BUILD_DIR (default build), LANEWAY_BUILD_TYPE (default RelWithDebInfo),
# LANEWAY_TARGET (default: everything); extra CMake arguments after the script name.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LANEWAY_BUILD_DIR:-$root/build}
type=${LANEWAY_BUILD_TYPE:-RelWithDebInfo}
extra=()
if [[ "$(uname -s)" == Darwin ]]; then
  extra+=("-DCMAKE_PREFIX_PATH=$(brew --prefix);$(brew --prefix openssl@3)")
fi
jobs=$( (command -v nproc >/dev/null && nproc) || sysctl -n hw.ncpu)
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$type" "${extra[@]}" "$@"
cmake --build "$build" -j "$jobs" ${LANEWAY_TARGET:+--target "$LANEWAY_TARGET"}
