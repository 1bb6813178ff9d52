#!/usr/bin/env bash
# The main job: set up (apt-get only what is missing), build, register the
# example vigies into a demo database, and run a live `vigy serve` on them.
# Ctrl-C stops it cleanly. The database is SQLite embedded in the process:
# $VIGY_DB if set, else build/demo/vigy.db.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VIGY_BUILD_TARGET=product "$root/scripts/setup.sh" "$root/build"

vigy="$root/build/bin/vigy"
export VIGY_DB="${VIGY_DB:-$root/build/demo/vigy.db}"
mkdir -p "$(dirname "$VIGY_DB")"
echo "demo database: $VIGY_DB" >&2

"$vigy" register "$root/examples/hello-vigy.tatara" --name hello --every 1000
"$vigy" register "$root/examples/tear-mirror.tatara" --name tear-mirror --every 500 --label app=mado
"$vigy" list
exec "$vigy" serve "$@"
