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
fuzz=0
if command -v clang++-14 >/dev/null; then
  # -gline-tables-only, not -g: clang 14 with full debug info and libFuzzer's coverage
  # instrumentation fails on the coroutine files ("Cannot represent a difference across
  # sections"); line tables are all the sanitizer reports need.
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only"
    "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only")
  flags+=(-DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DLANEWAY_FUZZ=ON)
  fuzz=1
else
  flags+=(-DLANEWAY_SANITIZE=ON)
fi
LANEWAY_BUILD_DIR="$build" "$root/deploy/build.sh" "${flags[@]}"
# detect_leaks: a leak fails the test that made it. UBSan findings abort (-fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 900 -E '^bench[.]'
if [[ $fuzz == 1 && ${LANEWAY_FUZZ_SECONDS:-20} != 0 ]]; then
  LANEWAY_FUZZ_BUILD_DIR="$build" "$root/tests/fuzz/run.sh" "${LANEWAY_FUZZ_SECONDS:-20}"
fi
