#!/usr/bin/env bash
# tests/api/promtool_check.sh — GET /metrics passes `promtool check metrics`
# (Debian's prometheus package) after traffic of every kind, including label
# values that need escaping and histograms.
source "$(dirname "$0")/lib.sh"
need curl "apt-get install curl"
need promtool "apt-get install prometheus"
start_server --listen 127.0.0.1:0
for path in /livez /readyz /test/echo/a /nope /test/throw "/test/error/not-found" "/test/events?after=0&close_after=3"; do
    curl -s --max-time 2 -o /dev/null "$URL$path"
done
curl -s -X DELETE -o /dev/null "$URL/test/doc"
curl -s -D "$WORK/headers" -o "$WORK/metrics.txt" "$URL/metrics"
expect "content type" "$(tr -d '\r' <"$WORK/headers" | sed -n 's/^[Cc]ontent-[Tt]ype: //p')" "text/plain; version=0.0.4; charset=utf-8"
out="$(promtool check metrics <"$WORK/metrics.txt" 2>&1)"
expect "promtool check metrics" "$?:$out" "0:"
metrics="$(cat "$WORK/metrics.txt")"
expect_contains "request counter" "$metrics" 'vigy_http_requests_total{method="GET",route="/test/echo/{word}",code="200"} 1'
expect_contains "unmatched route" "$metrics" 'vigy_http_requests_total{method="GET",route="unmatched",code="404"} 1'
expect_contains "escaped label" "$metrics" 'vigy_test_escaping_info{text="quote \" backslash \\ newline \n end"} 1'
expect_contains "histogram +Inf" "$metrics" 'vigy_test_observed_seconds_bucket{kind="fixed",le="+Inf"} 5'
expect_contains "stream closed" "$metrics" 'vigy_http_event_streams_closed_total{reason="producer"} 1'
finish
