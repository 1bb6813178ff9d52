#!/usr/bin/env bash
# Builds the web dashboard: npm ci (the versions pinned in api/dashboard/package-lock.json)
# and esbuild, writing api/dashboard/dist/ — the files the C++ build embeds. Commit dist/
# with the sources it was built from.
#   scripts/build-dashboard.sh            install, build into api/dashboard/dist/
#   scripts/build-dashboard.sh --check    install, build into a temporary directory and
#                                         fail unless it is byte-identical to dist/
# Needs node (>= 20.19) and npm; nothing else is fetched.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/api/dashboard"
check=0
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-dashboard: unknown argument $arg (usage: scripts/build-dashboard.sh [--check])" >&2; exit 2 ;;
  esac
done
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "build-dashboard: $tool not found: install Node.js 20 and npm (apt-get install nodejs npm)" >&2; exit 1; }
done

# --ignore-scripts: esbuild finds its platform binary (@esbuild/linux-x64) without its
# install script; no package runs code at install time.
(cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

if [ "$check" -eq 0 ]; then
  node "$dir/build.mjs"
  echo "build-dashboard: wrote $dir/dist (commit it with the sources)"
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
node "$dir/build.mjs" --out "$tmp/dist" >/dev/null
if ! diff -r "$tmp/dist" "$dir/dist" >"$tmp/diff" 2>&1; then
  echo "build-dashboard: the committed bundle api/dashboard/dist differs from what the sources build to:" >&2
  head -c 2000 "$tmp/diff" | cut -c1-300 >&2
  echo >&2
  echo "build-dashboard: run scripts/build-dashboard.sh and commit api/dashboard/dist" >&2
  exit 1
fi
echo "build-dashboard: api/dashboard/dist is byte-identical to a fresh build of the sources ($(ls "$dir/dist" | wc -l) files)"
