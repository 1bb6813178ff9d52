#!/usr/bin/env bash
# tests/api/curl_routes.sh — routing, errors and the built-in routes seen by curl:
# problem+json bodies for 400/404/405/415/422/500, HEAD and OPTIONS, percent-decoding,
# merge patch, readiness, the OpenAPI document with its ETag, and 410 for an
# expired watch cursor.
source "$(dirname "$0")/lib.sh"
need curl "apt-get install curl"
start_server --listen 127.0.0.1:0

status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
ctype() { curl -s -o /dev/null -w '%{content_type}' "$@"; }

expect "livez" "$(curl -s "$URL/livez")" '{"status":"ok"}'
expect "unknown route" "$(status "$URL/v1/nothing")" "404"
expect "unknown route type" "$(ctype "$URL/v1/nothing")" "application/problem+json"
expect_contains "404 body" "$(curl -s "$URL/v1/nothing")" '"code":"not-found","detail":"no route for \"/v1/nothing\"","instance":"/v1/nothing"'
expect "wrong method" "$(status -X DELETE "$URL/test/echo/x")" "405"
expect "Allow" "$(curl -s -D - -o /dev/null -X DELETE "$URL/test/echo/x" | tr -d '\r' | grep -i '^allow:')" "Allow: GET, HEAD, OPTIONS"
expect "HEAD" "$(curl -s -I "$URL/livez" | tr -d '\r' | grep -i '^content-length:')" "Content-Length: 15"
expect "OPTIONS" "$(curl -s -D - -o /dev/null -X OPTIONS "$URL/test/doc" | tr -d '\r' | grep -i '^allow:')" "Allow: GET, HEAD, OPTIONS, PATCH"
expect "decoded segment" "$(curl -s "$URL/test/echo/a%2Fb%20%E2%9C%93?k=v%26w&flag")" '{"word":"a/b ✓","route":"/test/echo/{word}","query":[["k","v&w"],["flag",""]]}'
expect "bad encoding" "$(status "$URL/test/echo/a%zz")" "400"
expect "malformed JSON" "$(status -H 'Content-Type: application/json' -d '{"a":' "$URL/test/echo")" "400"
expect_contains "malformed JSON detail" "$(curl -s -H 'Content-Type: application/json' -d '{"a":' "$URL/test/echo")" '"detail":"malformed JSON at offset 5: invalid value"'
expect "form body" "$(status -d 'a=1' "$URL/test/echo")" "415"
expect "validation" "$(status -H 'Content-Type: application/json' -d '{"n":-1}' "$URL/test/validate")" "422"
expect_contains "validation pointers" "$(curl -s -H 'Content-Type: application/json' -d '{"n":-1}' "$URL/test/validate")" '"errors":[{"pointer":"/name","detail":"required"},{"pointer":"/n","detail":"must be an integer >= 0"}]'
expect "internal" "$(status "$URL/test/throw")" "500"
expect "precondition" "$(status "$URL/test/error/failed-precondition?hint=if_match_failed")" "412"
expect "gone" "$(status "$URL/test/error/failed-precondition?hint=cursor_expired")" "410"
expect "unavailable" "$(status "$URL/test/error/unavailable")" "503"
# merge patch over the in-memory document
expect "merge patch" "$(curl -s -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"labels":{"tier":null,"env":"prod"},"limits":null}' "$URL/test/doc")" '{"name":"demo","labels":{"app":"web","env":"prod"}}'
# readiness: ready, then a failing check listed in a 503 problem
expect "ready" "$(curl -s "$URL/readyz")" '{"status":"ready","checks":[{"name":"test","status":"ok"}]}'
curl -s -H 'Content-Type: application/json' -d '{"ready":false,"reason":"store: database is locked"}' "$URL/test/readiness"
expect "unready status" "$(status "$URL/readyz")" "503"
expect_contains "unready body" "$(curl -s "$URL/readyz")" '"detail":"not ready: test: store: database is locked","instance":"/readyz","checks":[{"name":"test","status":"failed","reason":"store: database is locked"}]'
# the OpenAPI document, with an ETag that answers 304
etag="$(curl -s -D - -o "$WORK/openapi.json" "$URL/openapi.json" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')"
expect "openapi is the repo file" "$(cmp -s "$WORK/openapi.json" "$(dirname "$0")/../../api/openapi/vigy.openapi.json" && echo same)" "same"
expect "openapi 304" "$(status -H "If-None-Match: $etag" "$URL/openapi.json")" "304"
# an expired watch cursor is 410 Gone (the counter keeps a bounded history)
expect "watch from 0 is fine while history is complete" "$(status --max-time 1 "$URL/test/events?after=0&close_after=1")" "200"
expect "bad cursor" "$(status -H 'Last-Event-ID: abc' "$URL/test/events")" "400"
stop_server
start_server --listen 127.0.0.1:0 --tick-ms 2 --history 20
for _ in $(seq 1 100); do
    [ "$(status --max-time 2 "$URL/test/events?after=0&close_after=1")" = "410" ] && break
    sleep 0.02
done
expect "expired cursor" "$(status --max-time 2 "$URL/test/events?after=0&close_after=1")" "410"
expect_contains "expired cursor body" "$(curl -s --max-time 2 -H 'Last-Event-ID: 1' "$URL/test/events")" '"status":410,"code":"failed-precondition","detail":"cursor 1 is older than the oldest kept event'
finish
