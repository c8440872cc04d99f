#!/usr/bin/env bash
# Command (2): sets up a fresh machine, builds everything and runs every test (ctest: doctest unit
# suites, integration tests through real processes on loopback, the openai npm client, and the
# fuzz harnesses replaying their seed and regression inputs).
#   deploy/test.sh             the normal build (build/) and the whole suite
#   deploy/test.sh --sanitize  the suite again from a GCC ASan + UBSan build (build-asan/, -O1):
#                              unit tests, integration tests through the sanitized laneway binary,
#                              fuzz replays; then every libFuzzer harness fuzzes for
#                              LANEWAY_FUZZ_SECONDS (default 20; 0 skips) from a clang build
#                              (tests/fuzz/run.sh, build-fuzz/). Left out there: the bench.*
#                              smoke runs and the lavapipe worker suite (docs/testing.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sanitize=0
for arg in "$@"; do
  case "$arg" in
    --sanitize) sanitize=1 ;;
    *) echo "deploy/test.sh: unknown argument '$arg' (try --sanitize)" >&2; exit 2 ;;
  esac
done
jobs=$( (command -v nproc >/dev/null && nproc) || sysctl -n hw.ncpu)
"$root/deploy/setup.sh" --test
# The openai npm client and nothing else, pinned by tests/integration/package-lock.json.
(cd "$root/tests/integration" && npm ci --no-audit --no-fund --loglevel=error)

if [[ $sanitize == 0 ]]; then
  "$root/deploy/build.sh"
  build=${LANEWAY_BUILD_DIR:-$root/build}
  ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 600
  exit 0
fi

build=${LANEWAY_ASAN_BUILD_DIR:-$root/build-asan}
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g")
# The suite from GCC's ASan + UBSan (cmake/sanitizers.cmake), the compiler the normal pass uses;
# the fuzzing below has its own clang build.
flags+=(-DLANEWAY_SANITIZE=ON)
LANEWAY_BUILD_DIR="$build" "$root/deploy/build.sh" "${flags[@]}"
# detect_leaks: a leak fails the test that made it (LeakSanitizer exists on Linux only); no
# suppressions: mesa's memory stays reachable because sanitized binaries keep dlclose()d
# libraries mapped (cmake/sanitizer_keep_loaded.cpp). UBSan findings abort (-fno-sanitize-recover).
leaks=0
[[ "$(uname -s)" == Linux ]] && leaks=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=$leaks:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Left to the normal pass: the bench.* smoke runs (their numbers mean nothing under ASan) and the
# two slow lavapipe suites (lavapipe is not instrumented): integration.worker_vulkan, whose
# requests outlast the clients' timeouts under ASan, and unit.vulkan, which checks the Vulkan
# forward bit for bit against the CPU path as the -O2 build computes it (GCC contracts a*b+c
# into an FMA only from -O2; this build is -O1). unit.vulkan_validation stays.
# LANEWAY_SANITIZE_SKIP adds a regex.
skip='^bench[.]|^integration[.]worker_vulkan$|^unit[.]vulkan$'
[[ -n "${LANEWAY_SANITIZE_SKIP:-}" ]] && skip="$skip|${LANEWAY_SANITIZE_SKIP}"
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 900 -E "$skip"
# A brief libFuzzer run of every harness (clang 16 or newer, its own build folder; docs/fuzzing.md).
if [[ ${LANEWAY_FUZZ_SECONDS:-20} != 0 ]]; then
  "$root/tests/fuzz/run.sh" "${LANEWAY_FUZZ_SECONDS:-20}" ${LANEWAY_FUZZ_HARNESSES:-}
fi
