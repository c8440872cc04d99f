#!/usr/bin/env bash
# Installs what building and testing laneway needs, from the system's package manager:
# apt on Debian 12 (and Ubuntu), Homebrew on macOS. Idempotent: installs only what is missing.
# Usage: deploy/setup.sh [--test]   (--test adds what the test suite needs: node + npm)
set -euo pipefail

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

debian_packages=(build-essential cmake ninja-build ccache pkg-config git curl
  libboost1.81-dev libssl-dev openssl nlohmann-json3-dev prometheus-cpp-dev libtomlplusplus-dev
  doctest-dev libcli11-dev libpcre2-dev libxxhash-dev
  glslc libvulkan-dev mesa-vulkan-drivers)
# Tests also need: node + npm (integration tests, the openai client), clang 16 with its runtimes
# (libFuzzer, ASan, UBSan for tests/fuzz/run.sh; clang 14 cannot build the gateway harnesses),
# headless Chromium (the HTML report screenshot), promtool (Prometheus config and live /metrics checks), systemd-analyze (unit files), xmllint.
debian_test_packages=(nodejs npm clang-16 libclang-rt-16-dev chromium prometheus systemd libxml2-utils)
# spirv-cross: the gpu.msl test translates the kernels to MSL and checks it, as the macOS build does.
debian_test_packages+=(spirv-cross)
# vulkan-validationlayers: unit.vulkan runs under the Khronos validation layer and fails on any error it reports.
debian_test_packages+=(vulkan-validationlayers)
brew_packages=(cmake ninja ccache pkg-config boost openssl@3 nlohmann-json prometheus-cpp
  tomlplusplus doctest cli11 pcre2 xxhash shaderc spirv-cross)
# llvm: a clang with libFuzzer (Apple's has none); tests/fuzz/run.sh finds it under brew --prefix llvm.
brew_test_packages=(node prometheus llvm)

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

case "$(uname -s)" in
  Linux)
    pkgs=("${debian_packages[@]}")
    (( want_test )) && pkgs+=("${debian_test_packages[@]}")
    missing=()
    for p in "${pkgs[@]}"; do
      # node/npm may come from elsewhere (nodesource, nvm): accept any working binary.
      if [[ "$p" == nodejs ]] && command -v node >/dev/null; then continue; fi
      if [[ "$p" == npm ]] && command -v npm >/dev/null; then continue; fi
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if (( ${#missing[@]} )); then
      echo "setup: installing ${missing[*]}"
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
    ;;
  Darwin)
    command -v brew >/dev/null || { echo "setup: Homebrew is required on macOS (https://brew.sh)" >&2; exit 1; }
    pkgs=("${brew_packages[@]}")
    (( want_test )) && pkgs+=("${brew_test_packages[@]}")
    missing=()
    for p in "${pkgs[@]}"; do brew list --formula "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if (( ${#missing[@]} )); then
      echo "setup: brew install ${missing[*]}"
      brew install "${missing[@]}"
    fi
    ;;
  *) echo "setup: unsupported system $(uname -s); install the packages listed in deploy/setup.sh by hand" >&2; exit 1 ;;
esac
