#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS_PER_HARNESS] [HARNESS...]: builds the libFuzzer harnesses with clang
# (ASan + UBSan, build folder $LANEWAY_FUZZ_BUILD_DIR, default build-fuzz) and runs each for the
# given time (default 30 s) from its seed corpus. New coverage goes to a scratch corpus under
# the build folder, not into git; a crash, leak, timeout or sanitizer report is copied to
# tests/fuzz/regressions/<harness>/ (replayed by ctest from then on) and makes the script fail.
# Prints execs/s and coverage per harness (the last libFuzzer status line).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${1:-30}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(http_request json_request gguf tokenizer config kv_events)
build=${LANEWAY_FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${LANEWAY_FUZZ_JOBS:-2}

# The compiler: LANEWAY_FUZZ_CXX if set, else the newest clang++-NN on PATH (Debian installs them
# side by side; deploy/setup.sh --test brings clang-16), else Homebrew's llvm on macOS (Apple's
# clang has no libFuzzer), else plain clang++. Clang 16 or newer: clang 14 cannot compile the
# coroutine files (gateway/http/server.cpp) under the coverage instrumentation ("Cannot represent
# a difference across sections"), so it could not build the four gateway-linked harnesses.
cxx=${LANEWAY_FUZZ_CXX:-}
if [[ -z "$cxx" ]]; then
  cxx=$(compgen -c clang++- | grep -E '^clang\+\+-[0-9]+$' | sort -t- -k2 -n | tail -1 || true)
  if [[ -z "$cxx" ]] && command -v brew >/dev/null && [[ -x "$(brew --prefix llvm 2>/dev/null)/bin/clang++" ]]; then
    cxx="$(brew --prefix llvm)/bin/clang++"
  fi
  [[ -n "$cxx" ]] || cxx=clang++
fi
command -v "$cxx" >/dev/null || { echo "run.sh: no clang++ found (deploy/setup.sh --test installs clang-16)" >&2; exit 1; }
cc=${cxx/clang++/clang}
major=$(echo __clang_major__ | "$cxx" -E -x c++ - 2>/dev/null | tail -1)
if ! [[ "$major" =~ ^[0-9]+$ ]] || (( major < 16 )); then
  echo "run.sh: $cxx is not clang 16 or newer (got '$major'); set LANEWAY_FUZZ_CXX" >&2
  exit 1
fi
extra=()
if [[ "$(uname -s)" == Darwin ]]; then
  extra+=("-DCMAKE_PREFIX_PATH=$(brew --prefix);$(brew --prefix openssl@3)")
fi
# -gline-tables-only: file:line in sanitizer reports, at a fraction of full -g's compile time.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_CXX_COMPILER="$cxx" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" -DLANEWAY_FUZZ=ON "${extra[@]}" >/dev/null
echo "fuzz build: $("$cxx" --version | head -1) in $build"
cmake --build "$build" -j "$jobs" --target $(printf 'fuzz_%s ' "${harnesses[@]}")

leaks=0  # LeakSanitizer: Linux only
[[ "$(uname -s)" == Linux ]] && leaks=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=$leaks:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for h in "${harnesses[@]}"; do
  work="$build/fuzz-work/$h"
  rm -rf "$work/crashes"
  mkdir -p "$work/corpus" "$work/crashes"
  log="$work/log.txt"
  echo "== $h: ${seconds}s"
  # -max_len: inputs up to 64 KiB (GGUF headers, long prompts); -timeout: one input over 10 s is a hang.
  if ! "$build/tests/fuzz/fuzz_$h" "$work/corpus" "$here/corpus/$h" "$here/regressions/$h" \
      -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="$work/crashes/" >"$log" 2>&1; then
    failed+=("$h")
  fi
  grep -E '^#[0-9]+' "$log" | tail -1 || true
  grep -E 'stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" || true
  for f in "$work"/crashes/*; do
    [ -e "$f" ] || continue
    mkdir -p "$here/regressions/$h"
    cp "$f" "$here/regressions/$h/"
    echo "finding kept: tests/fuzz/regressions/$h/$(basename "$f")"
    grep -m3 -E 'ERROR: |runtime error|fuzz invariant' "$log" || true
  done
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (logs under $build/fuzz-work/)"
  exit 1
fi
echo "fuzzing: no findings in ${harnesses[*]}"
