#!/usr/bin/env bash
# The tree's build and test rules, checked on the sources (issue 9):
#   - no component behind if(EXISTS ...), no include(... OPTIONAL), no file(GLOB) of sources
#   - no Catch2 WARN(...) skip in a test
#   - no sleep_for in unit tests: only tests/e2e (real-time end-to-end tests) and the
#     API fixture routes that simulate a slow handler (/test/slow, /slow) may sleep
#   - every C and C++ file is formatted by .clang-format (clang-format 14; scripts/test.sh
#     installs it)
# Usage: tests/house_rules.sh REPO_ROOT
set -euo pipefail
root="${1:?repository root}"
cd "$root"
fail=0
bad() { echo "house rule broken: $*" >&2; fail=1; }

cmake_files=$(git ls-files '*CMakeLists.txt' '*.cmake' 2>/dev/null || find . -name CMakeLists.txt -o -name '*.cmake')
# if(EXISTS ...) may check a produced file inside a -P script, never gate a component.
for f in $cmake_files; do
  case "$f" in */CMakeLists.txt|CMakeLists.txt) ;; *) continue ;; esac
  if grep -nE '^[^#]*if *\( *(NOT +)?EXISTS' "$f"; then bad "$f: if(EXISTS) in a CMakeLists.txt"; fi
  if grep -nE '^[^#]*include *\([^)]*OPTIONAL' "$f"; then bad "$f: an OPTIONAL include"; fi
  if grep -nE '^[^#]*file *\( *GLOB[^)]*\.(c|cpp)\b' "$f"; then bad "$f: sources globbed (list them)"; fi
done
if grep -rnE '\bWARN *\(' tests --include='*.cpp' --include='*.hpp'; then bad "a WARN() in a test (a skip that hides a failure)"; fi
while IFS= read -r hit; do
  case "$hit" in
    tests/e2e/*|tests/api/api_test_server.cpp:*|tests/api/test_server.cpp:*) ;;
    *) bad "sleep_for in a unit test: $hit" ;;
  esac
done < <(grep -rn 'sleep_for' tests --include='*.cpp' --include='*.hpp' || true)
fmt=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$fmt" ]; then
  bad "clang-format 14 is not installed (apt-get install clang-format-14)"
elif ! "$fmt" --version | grep -q 'version 14\.'; then
  bad "$fmt is not clang-format 14 ($("$fmt" --version)): formatting differs between versions"
else
  unformatted=$(git ls-files '*.c' '*.h' '*.cpp' '*.hpp' | xargs "$fmt" --dry-run 2>&1 | grep -oE '^[^:]+:[0-9]+:[0-9]+: warning' | cut -d: -f1 | sort -u || true)
  [ -z "$unformatted" ] || bad "not formatted by .clang-format (run $fmt -i on them): $(echo $unformatted)"
fi
[ "$fail" = 0 ] && echo "house rules hold"
exit "$fail"
