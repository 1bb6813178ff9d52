#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and runs each one for a
# bounded time over its seed corpus (tests/fuzz/corpus/<target>, read-only) plus a working
# corpus in build-fuzz/corpus/<target> (where new inputs go).
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# SECONDS_PER_TARGET defaults to 60; TARGET defaults to every target. Exits non-zero if
# a target crashes, leaks, times out or runs out of memory; the input that did it is kept
# in build-fuzz/artifacts/ (add it to the seed corpus with a regression test). Set
# VIGY_FUZZ_JOBS to run targets in parallel (default 1: the machine may be shared).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(reader eval value_json selector)
build="${VIGY_FUZZ_BUILD:-$root/build-fuzz}"

command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (apt-get install clang)" >&2; exit 1; }
export CCACHE_BASEDIR="$root"
if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIGY_FUZZ=ON \
    -DBUILD_TESTING=OFF -DVIGY_WERROR=OFF >/dev/null
fi
cmake --build "$build" -j"${VIGY_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}" \
  --target $(printf 'fuzz_%s ' "${targets[@]}")

mkdir -p "$build/artifacts"
status=0
run_one() {
  local t="$1" work="$build/corpus/$1"
  mkdir -p "$work"
  echo "fuzz: fuzz_$t for ${seconds}s" >&2
  # -rss_limit_mb: an input must never need more than the limits allow (8 MiB per run).
  if ! "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" \
      "$work" "$root/tests/fuzz/corpus/$t" 2>"$build/fuzz_$t.log"; then
    echo "fuzz: fuzz_$t FAILED (see $build/fuzz_$t.log and $build/artifacts/)" >&2
    return 1
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE" "$build/fuzz_$t.log" >&2 || true
}
jobs_max="${VIGY_FUZZ_JOBS:-1}"
pids=()
for t in "${targets[@]}"; do
  if [ "$jobs_max" -le 1 ]; then
    run_one "$t" || status=1
  else
    run_one "$t" & pids+=($!)
    if [ ${#pids[@]} -ge "$jobs_max" ]; then wait "${pids[0]}" || status=1; pids=("${pids[@]:1}"); fi
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
