#!/usr/bin/env bash
# bench/api/serve_bench.sh — issue 10's API benchmark against the real `vigy serve`:
#   1. serve ticks N vigies (default 1,000, every 1 s each, so ~N runs/s);
#   2. wrk on GET /v1/vigies/{name} and on GET /v1/vigies?limit=100 (requests/s, p50, p99);
#   3. W concurrent EventSource watchers (default 100) on /v1/watch/runs: every run to
#      every watcher (gaps and duplicates counted), with serve's CPU and RSS.
# Run on an idle machine; it is a benchmark, not a test.
#   bench/api/serve_bench.sh [--vigy build/bin/vigy] [--vigies N] [--interval-ms MS]
#                            [--seconds S] [--watchers W] [--connections C]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
vigy="$root/build/bin/vigy"
vigies=1000
interval=1000
seconds=10
watchers=100
connections=64
while [ $# -gt 0 ]; do
    case "$1" in
    --vigy) vigy="$2"; shift 2 ;;
    --vigies) vigies="$2"; shift 2 ;;
    --interval-ms) interval="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --watchers) watchers="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "serve_bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[ -x "$vigy" ] || { echo "no vigy binary at $vigy (build first, or pass --vigy)" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/vigy-serve-bench.XXXXXX")"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
"$vigy" --db "$work/vigy.db" -o json serve --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
for _ in $(seq 1 400); do
    grep -q '"event":"ready"' "$work/serve.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
    sleep 0.05
done
url="$(sed -n 's/.*"event":"listening".*"url":"\([^"]*\)".*/\1/p' "$work/serve.out" | head -n1)"
echo "serve pid $pid at $url; registering $vigies vigies (every $interval ms)" >&2
python3 - "$url" "$vigies" "$interval" <<'EOF'
import http.client, json, sys, urllib.parse
url, n, interval = urllib.parse.urlparse(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
c = http.client.HTTPConnection(url.hostname, url.port)
prog = '(vigy-set "n" (+ 1 (or (vigy-get "n") 0)))\n(vigy-condition "Ready" #t "Ticking" "ok")\n(vigy-noop)\n'
for i in range(n):
    body = json.dumps({"name": f"v{i:05d}", "program": prog, "tick_interval_ms": interval, "labels": {"bench": "api"}})
    c.request("POST", "/v1/vigies", body, {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    if r.status != 201: sys.exit(f"POST v{i:05d}: {r.status}")
EOF
sleep 3  # let every vigy tick at least once and the schedule settle
echo "== GET /v1/vigies/{name} while serve ticks $vigies vigies" >&2
"$root/bench/api/wrk.sh" "$url/v1/vigies/v00042" "$seconds" "$connections" 2 | tail -n1
echo "== GET /v1/vigies?limit=100" >&2
"$root/bench/api/wrk.sh" "$url/v1/vigies?limit=100" "$seconds" "$connections" 2 | tail -n1
echo "== $watchers EventSource watchers on /v1/watch/runs" >&2
node "$root/bench/api/sse_watchers.mjs" "$url/v1/watch/runs" --watchers "$watchers" --seconds "$seconds" --pid "$pid" --event run
persisted="$(curl -s "$url/metrics" | awk '/^vigy_store_runs_committed_total/ {print $2}')"
echo "serve committed $persisted runs in all; RSS $(awk '/VmRSS/ {print $2, $3}' "/proc/$pid/status")"
