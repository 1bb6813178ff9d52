#!/usr/bin/env bash
# ThreadSanitizer: builds the runtime, store and lisp tests (and what they load: the host
# library and every built-in plugin) with -fsanitize=thread in build-tsan/ (Debug), and
# runs them through ctest (labels runtime, store, lisp). Any data race or lock-order
# inversion fails the run (halt_on_error).
#   scripts/tsan.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build-tsan}"
jobs="$(nproc 2>/dev/null || echo 2)"

VIGY_BUILD_TARGET="vigy_runtime_tests vigy_store_tests vigy_lisp_tests vigy_lisp_broken_prelude_tests vigy_lisp_plugin_tests" \
  "$root/scripts/setup.sh" "$build" -DCMAKE_BUILD_TYPE=Debug -DVIGY_SANITIZE=thread

TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$root/tests/support/tsan.supp ${TSAN_OPTIONS:-}" \
  ctest --test-dir "$build" --output-on-failure -j"$jobs" -L '^(runtime|store|lisp)$'
