#!/usr/bin/env bash
# Installs what vigy needs on Debian 12 (only what is missing) and builds it.
# Idempotent and fast on a second run (dpkg check, ccache, incremental build).
#   scripts/setup.sh [BUILD_DIR] [extra cmake args...]
# BUILD_DIR defaults to build/ (Release). VIGY_BUILD_TARGET=product builds only the
# binary and the plugins (no tests); VIGY_BUILD_TARGET="a b" builds targets a and b;
# the default builds everything.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
shift || true

# What building and running vigy needs. scripts/test.sh adds the tools the tests drive
# (VIGY_SETUP_EXTRA: more packages to install the same way).
packages=(build-essential cmake pkgconf libboost-dev libsoci-dev libsqlite3-dev libpq-dev rapidjson-dev libspdlog-dev
          catch2 libcli11-dev libssl-dev libhowardhinnant-date-dev tzdata ccache sqlite3)
# shellcheck disable=SC2206
packages+=(${VIGY_SETUP_EXTRA:-})
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export CCACHE_BASEDIR="$root"
jobs="$(nproc 2>/dev/null || echo 2)"
# Configure every time (a second run takes about a second): new targets and options apply.
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
else
  cmake -S "$root" -B "$build" "$@" >/dev/null
fi
targets=()
[ -z "${VIGY_BUILD_TARGET:-}" ] || read -r -a targets <<<"$VIGY_BUILD_TARGET"
cmake --build "$build" -j"$jobs" ${targets[@]:+--target "${targets[@]}"}
