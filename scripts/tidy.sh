#!/usr/bin/env bash
# Run clang-tidy 14 with the repository's .clang-tidy over every translation
# unit in a configured build (compile_commands.json), in parallel.
#   scripts/tidy.sh [BUILD_DIR] [FILE_REGEX]
# BUILD_DIR defaults to build; FILE_REGEX (a Python regex on the file path)
# defaults to every project source outside build directories. Exit status is
# clang-tidy's: non-zero when any check fires (WarningsAsErrors is '*').
# It takes about half an hour on 2 cores; CI does not run it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
regex=${2:-"^${root}/(sdk|host|store|plugins|cli|api|tests|bench|examples)/"}
[[ -f "$build/compile_commands.json" ]] || {
    echo "tidy.sh: $build/compile_commands.json not found: configure first (scripts/setup.sh $build)" >&2
    exit 2
}
runner=$(command -v run-clang-tidy-14 || command -v run-clang-tidy || true)
[[ -n "$runner" ]] || { echo "tidy.sh: run-clang-tidy-14 not found (apt-get install clang-tidy-14)" >&2; exit 2; }
exec "$runner" -quiet -p "$build" -j "$(nproc)" \
    -clang-tidy-binary "$(command -v clang-tidy-14 || command -v clang-tidy)" "$regex"
