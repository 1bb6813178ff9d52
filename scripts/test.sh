#!/usr/bin/env bash
# Sets up (apt-get and npm, only what is missing), builds, and runs every test:
#   1. the Release build (build/): the whole suite, including the real-client tests
#      (curl, Node clients, Chromium, Prometheus, lintian, systemd-analyze)
#   2. the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer
#      (build-asan/, Debug), except tests labelled no-sanitize (they test installed
#      or packaged binaries, which are built without sanitizers)
#   3. the runtime, store and lisp tests under ThreadSanitizer (build-tsan/, Debug;
#      scripts/tsan.sh)
#   4. the libFuzzer targets for a bounded time each (build-fuzz/, clang)
# Usage: scripts/test.sh [--no-sanitize]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="$(nproc 2>/dev/null || echo 2)"

# Tools the tests drive, beyond what building needs (scripts/setup.sh installs those).
# postgresql: the PostgreSQL 15 server tests/support/with-postgres.sh starts for the
# store's PostgreSQL cases (ctest store_postgresql) and the e2e test against it.
# iproute2: `ip netns` and veth links for the partition test (ctest e2e_partition, as root).
export VIGY_SETUP_EXTRA="lua5.4 tmux python3 python3-croniter clang curl chromium prometheus wrk
  dpkg-dev fakeroot lintian systemd man-db zsh clang-format-14 postgresql iproute2"

"$root/scripts/setup.sh" "$root/build"

# npm test clients, exactly as locked (nothing is fetched while the tests run).
step() { echo "== $*" >&2; }
step "npm ci (tests/node)"
(cd "$root/tests/node" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

step "Release suite"
ctest --test-dir "$root/build" --output-on-failure -j"$jobs"

if [ "${1:-}" != "--no-sanitize" ]; then
  step "ASan + UBSan suite"
  "$root/scripts/setup.sh" "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DVIGY_SANITIZE=ON
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$root/build-asan" --output-on-failure -j"$jobs" -LE no-sanitize

  step "ThreadSanitizer suite (runtime, store, lisp)"
  "$root/scripts/tsan.sh" "$root/build-tsan"

  step "fuzzing (30 s per target)"
  "$root/scripts/fuzz.sh" 30
fi
