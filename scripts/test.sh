#!/usr/bin/env bash
# Sets up (apt-get if needed), builds, and runs every test with ctest:
#   1. the Release build (build/)
#   2. the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/, Debug)
# Usage: scripts/test.sh [--no-sanitize]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="$(nproc 2>/dev/null || echo 2)"

"$root/scripts/setup.sh" "$root/build"
ctest --test-dir "$root/build" --output-on-failure -j"$jobs"

if [ "${1:-}" != "--no-sanitize" ]; then
  "$root/scripts/setup.sh" "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DVIGY_SANITIZE=ON
  # Plugins stay loaded until exit so LeakSanitizer can symbolize them.
  VIGY_NO_UNLOAD=1 ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$root/build-asan" --output-on-failure -j"$jobs" -LE no-sanitize
fi
