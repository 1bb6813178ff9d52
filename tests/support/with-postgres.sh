#!/usr/bin/env bash
# tests/support/with-postgres.sh CMD [ARGS...] — runs CMD against a real PostgreSQL 15
# started for it: initdb + pg_ctl in a temp directory on a free port (as user postgres
# when run as root: the server refuses root), VIGY_TEST_PG_URL exported as
# postgresql://postgres@127.0.0.1:PORT/postgres; the server is stopped and the
# directory removed at exit. Fails (exit 2) when PostgreSQL is not installed: a test
# run against PostgreSQL never passes without one.
set -euo pipefail
bin=${VIGY_PG_BIN:-/usr/lib/postgresql/15/bin}
if [[ ! -x $bin/initdb || ! -x $bin/pg_ctl ]]; then
  echo "with-postgres.sh: PostgreSQL 15 is not installed ($bin/initdb missing): apt-get install postgresql" >&2
  exit 2
fi
dir=$(mktemp -d /tmp/vigy-pg-XXXXXX)
as=()
if [[ $(id -u) == 0 ]]; then
  chown postgres: "$dir"
  as=(runuser -u postgres --)
fi
cleanup() {
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 2; }
# Partition tests (with-netns.sh): also listen on VIGY_TEST_PG_LISTEN, trusting only
# VIGY_TEST_PG_HBA there; VIGY_TEST_PG_NETNS_URL is the server at that address.
listen=127.0.0.1
if [[ -n ${VIGY_TEST_PG_LISTEN:-} ]]; then
  listen="127.0.0.1,$VIGY_TEST_PG_LISTEN"
  echo "host all all ${VIGY_TEST_PG_HBA:?with VIGY_TEST_PG_LISTEN} trust" >>"$dir/data/pg_hba.conf"
fi
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=$listen -c fsync=off -c max_connections=200" start >/dev/null ||
  { cat "$dir/server.log" >&2; exit 2; }
export VIGY_TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/postgres"
if [[ -n ${VIGY_TEST_PG_LISTEN:-} ]]; then
  export VIGY_TEST_PG_NETNS_URL="postgresql://postgres@$VIGY_TEST_PG_LISTEN:$port/postgres"
fi
"$@"
