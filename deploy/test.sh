#!/usr/bin/env bash
# Command (2): sets up a fresh machine, builds everything and runs every test (ctest: doctest unit
# suites, integration tests through real processes on loopback, the openai npm client, and the
# fuzz harnesses replaying their seed and regression inputs).
#   deploy/test.sh             the normal build (build/) and the whole suite
#   deploy/test.sh --sanitize  the whole suite again from an ASan + UBSan build (build-asan/, -O1):
#                              unit tests, integration tests through the sanitized laneway binary,
#                              fuzz replays; with clang the same build also carries libFuzzer's
#                              instrumentation, and each harness then fuzzes for
#                              LANEWAY_FUZZ_SECONDS (default 20; 0 skips). Benchmark smoke runs
#                              (bench.*) are left out there: they measure, and ASan's
#                              slowdown makes their numbers meaningless.
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
# GCC's ASan + UBSan (cmake/sanitizers.cmake) for the suite. Not clang 14 with libFuzzer's
# coverage instrumentation: it cannot compile the coroutine files (gateway/http/server.cpp:
# "Cannot represent a difference across sections", with -g and with -gline-tables-only).
flags+=(-DLANEWAY_SANITIZE=ON)
LANEWAY_BUILD_DIR="$build" "$root/deploy/build.sh" "${flags[@]}"
# detect_leaks: a leak fails the test that made it. UBSan findings abort (-fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 900 -E '^bench[.]'
# A brief libFuzzer run (clang, its own build folder) of the harnesses clang 14 can build: those
# that do not link the coroutine-based gateway library (docs/fuzzing.md).
if command -v clang++-14 >/dev/null && [[ ${LANEWAY_FUZZ_SECONDS:-20} != 0 ]]; then
  "$root/tests/fuzz/run.sh" "${LANEWAY_FUZZ_SECONDS:-20}" ${LANEWAY_FUZZ_HARNESSES:-gguf tokenizer}
fi
