#!/usr/bin/env bash
# tests/api/serve_prometheus.sh VIGY — the real `vigy serve` ticking two vigies (one ok that
# emits a vigy-metric, one failing) under a real Prometheus server (Debian's `prometheus`):
#   1. GET /metrics passes `promtool check metrics` and carries the runtime's series;
#   2. Prometheus scrapes serve every second (up == 1), and a query through Prometheus's own
#      HTTP API returns vigy_ticks_total for both vigies, with the ok/error split and a
#      growing counter, and the program's metric as vigy_program_metric.
source "$(dirname "$0")/lib.sh"
need curl "apt-get install curl"
need prometheus "apt-get install prometheus"
need promtool "apt-get install prometheus"
need python3 "apt-get install python3"
start_server --db "$WORK/vigy.db" -o json serve --listen 127.0.0.1:0
PROM_PID=""
stop_prometheus() { [ -n "$PROM_PID" ] && kill "$PROM_PID" 2>/dev/null && wait "$PROM_PID" 2>/dev/null; PROM_PID=""; }
trap 'stop_prometheus; cleanup' EXIT

post() { curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$1" "$URL/v1/vigies"; }
expect "create hello" "$(post '{"name":"hello","program":"(vigy-metric \"depth\" 3)\n(vigy-noop)\n","tick_interval_ms":200}')" "201"
expect "create failing" "$(post '{"name":"failing","program":"(car 5)\n","tick_interval_ms":200}')" "201"
# wait for a few runs of each
for _ in $(seq 1 200); do
    n="$(curl -s "$URL/v1/vigies/failing/runs" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')"
    [ "$n" -ge 3 ] && break
    sleep 0.05
done

# ---- 1. the exposition ----
curl -s -D "$WORK/headers" -o "$WORK/metrics.txt" "$URL/metrics"
expect "content type" "$(tr -d '\r' <"$WORK/headers" | sed -n 's/^[Cc]ontent-[Tt]ype: //p')" "text/plain; version=0.0.4; charset=utf-8"
out="$(promtool check metrics <"$WORK/metrics.txt" 2>&1)"
expect "promtool check metrics" "$?:$out" "0:"
metrics="$(cat "$WORK/metrics.txt")"
for series in 'vigy_build_info{' 'vigy_vigies{enabled="true"} 2' 'vigy_ticks_total{vigy="hello",result="ok",trigger="schedule"}' \
    'vigy_ticks_total{vigy="failing",result="failed",trigger="schedule"}' 'vigy_tick_duration_seconds_bucket{' \
    'vigy_tick_lateness_seconds_bucket{' 'vigy_skipped_slots_total' 'vigy_last_success_timestamp_seconds{vigy="hello"}' \
    'vigy_reconcile_actions_total{vigy="hello",kind="noop"}' 'vigy_program_metric{vigy="hello",name="depth"} 3' \
    'vigy_store_runs_committed_total' 'vigy_store_queue_depth' 'vigy_http_requests_total{method="POST",route="/v1/vigies",code="201"} 2'; do
    expect_contains "series $series" "$metrics" "$series"
done

# ---- 2. a real Prometheus scraping serve ----
hostport="${URL#http://}"
prom_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: vigy
    static_configs:
      - targets: ["$hostport"]
EOF
expect "promtool check config" "$(promtool check config "$WORK/prometheus.yml" >/dev/null 2>&1; echo $?)" "0"
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
PROM="http://127.0.0.1:$prom_port"
query() { curl -s -G --data-urlencode "query=$1" "$PROM/api/v1/query"; }
# field PYEXPR over the query's JSON (d = the parsed answer)
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1" 2>/dev/null; }
up=""
for _ in $(seq 1 300); do
    up="$(query 'up{job="vigy"}' | field 'd["data"]["result"][0]["value"][1]')"
    [ "$up" = "1" ] && break
    kill -0 "$PROM_PID" 2>/dev/null || break
    sleep 0.1
done
expect "Prometheus scrapes serve (up == 1)" "$up" "1"
[ "$up" = "1" ] || tail -20 "$WORK/prometheus.log" >&2

ticks='sum by (vigy, result) (vigy_ticks_total{job="vigy"})'
got=""
for _ in $(seq 1 100); do
    got="$(query "$ticks" | field 'sorted((r["metric"]["vigy"], r["metric"]["result"]) for r in d["data"]["result"])')"
    [ "$got" = "[('failing', 'failed'), ('hello', 'ok')]" ] && break
    sleep 0.1
done
expect "vigy_ticks_total through Prometheus's query API" "$got" "[('failing', 'failed'), ('hello', 'ok')]"
first="$(query 'vigy_ticks_total{job="vigy",vigy="hello",result="ok"}' | field 'float(d["data"]["result"][0]["value"][1])')"
grew=""
for _ in $(seq 1 100); do
    now="$(query 'vigy_ticks_total{job="vigy",vigy="hello",result="ok"}' | field 'float(d["data"]["result"][0]["value"][1])')"
    if python3 -c "import sys; sys.exit(0 if float('$now') > float('$first') else 1)" 2>/dev/null; then grew=yes; break; fi
    sleep 0.2
done
expect "the scraped counter grows ($first → ${now:-?})" "$grew" "yes"
expect "vigy_program_metric through Prometheus" \
    "$(query 'vigy_program_metric{job="vigy",vigy="hello",name="depth"}' | field 'd["data"]["result"][0]["value"][1]')" "3"
expect "a histogram quantile is computable" \
    "$(query 'histogram_quantile(0.99, sum by (le) (vigy_tick_duration_seconds_bucket{job="vigy"})) >= 0' | field 'len(d["data"]["result"])')" "1"
stop_prometheus
finish
