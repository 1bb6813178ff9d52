#!/usr/bin/env bash
# tests/api/serve_curl.sh VIGY — curl against the real `vigy serve`: every REST route and
# its error statuses (400 404 405 409 410 412 413 415 422 431 503 304 201 204), label
# selectors, paging, merge patch with preconditions, forced ticks, the dashboard files,
# the token rule (none, missing, wrong, right; /livez and the page without it), a Unix
# socket, a bind failure (exit 1 naming the address), a non-loopback address refused
# without a token, and `--listen none`.
source "$(dirname "$0")/lib.sh"
need curl "apt-get install curl"
VIGY="$SERVER"
DB="$WORK/vigy.db"
start_server --db "$DB" -o json serve --listen 127.0.0.1:0

status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
header() { # header NAME curl-args...
    local name="$1"
    shift
    curl -s -D - -o /dev/null "$@" | tr -d '\r' | sed -n "s/^$name: //Ip" | head -n1
}
json() { curl -s -H 'Content-Type: application/json' "$@"; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

HELLO='(vigy-log "info" "hi")\n(vigy-set "n" (+ 1 (or (vigy-get "n") 0)))\n(vigy-metric "depth" 3)\n(vigy-condition "Ready" #t "Ticking" "fine")\n(vigy-event "Hello" "said hello")\n(vigy-noop)\n'
FAILING='(define x 1)\n  (frobnicate x)\n'
# The programs as JSON string literals (quotes escaped, \n kept as the JSON escape).
HELLO="$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1].replace("\\n", "\n")))' "$HELLO")"
FAILING="$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1].replace("\\n", "\n")))' "$FAILING")"

# ---- apply: create, unchanged, update; dry run; validation ----
expect "create" "$(json -o /dev/null -w '%{http_code}' -d "{\"name\":\"hello\",\"program\":$HELLO,\"tick_interval_ms\":200,\"labels\":{\"app\":\"demo\",\"tier\":\"web\"}}" "$URL/v1/vigies")" "201"
expect "Location" "$(header Location -H 'Content-Type: application/json' -d "{\"name\":\"failing\",\"program\":$FAILING,\"tick_interval_ms\":200,\"labels\":{\"app\":\"demo\",\"tier\":\"batch\"}}" "$URL/v1/vigies")" "/v1/vigies/failing"
expect "unchanged" "$(json -d "{\"name\":\"hello\",\"program\":$HELLO,\"tick_interval_ms\":200,\"labels\":{\"app\":\"demo\",\"tier\":\"web\"}}" "$URL/v1/vigies" | field 'd["outcome"]')" "unchanged"
expect "noop kind" "$(json -o /dev/null -w '%{http_code}' -d '{"name":"paused","kind":"noop","config":{},"tick_interval_ms":5000,"enabled":false,"labels":{"app":"other"}}' "$URL/v1/vigies")" "201"
expect "updated" "$(json -d '{"name":"paused","kind":"noop","config":{},"tick_interval_ms":6000,"labels":{"app":"other"}}' "$URL/v1/vigies" | field 'd["outcome"], d["vigy"]["enabled"]')" "('updated', False)"
expect "dry run ok" "$(json -d '{"name":"x","program":"(vigy-noop)"}' "$URL/v1/vigies?dry_run=true")" '{"outcome":"valid","dry_run":true}'
expect "dry run compile error" "$(json -o /dev/null -w '%{http_code}' -d '{"name":"x","program":"(vigy-noop"}' "$URL/v1/vigies?dry_run=true")" "422"
expect_contains "dry run line:col" "$(json -d '{"name":"x","program":"(vigy-noop)\n  (foo"}' "$URL/v1/vigies?dry_run=true")" '"errors":[{"pointer":"/program","detail":"x:2:3: '
expect "dry run stores nothing" "$(status "$URL/v1/vigies/x")" "404"
expect "malformed JSON" "$(json -o /dev/null -w '%{http_code}' -d '{"name":' "$URL/v1/vigies")" "400"
expect "not JSON" "$(status -d 'name=x' "$URL/v1/vigies")" "415"
out="$(json -d '{"name":"Bad Name","program":1,"tick_interval_ms":5,"labels":{"ok":"x","bad key!":"v"},"limits":{"fuel":-1},"extra":true}' "$URL/v1/vigies")"
expect "validation status" "$(field 'd["status"], d["code"]' <<<"$out")" "(422, 'invalid-argument')"
expect "validation pointers" "$(field '[e["pointer"] for e in d["errors"]]' <<<"$out")" "['/extra', '/name', '/program', '/tick_interval_ms', '/labels/bad key!', '/limits/fuel']"
expect "unknown kind" "$(json -d '{"name":"k","kind":"nope","config":{}}' "$URL/v1/vigies" | field 'd["errors"][0]["pointer"]')" "/kind"
expect "invalid schedule" "$(json -d '{"name":"k","program":"(vigy-noop)","schedule":{"kind":"cron","cron":"0 25 * * *"}}' "$URL/v1/vigies" | field 'd["status"], d["errors"][0]["pointer"], "field 2 (hour)" in d["errors"][0]["detail"]')" "(422, '/schedule', True)"

# ---- list: selectors, paging, bad selector ----
names() { field '[v["name"] for v in d["items"]]'; }
expect "list" "$(curl -s "$URL/v1/vigies" | names)" "['failing', 'hello', 'paused']"
expect "k=v" "$(curl -s "$URL/v1/vigies?label_selector=app%3Ddemo" | names)" "['failing', 'hello']"
expect "k!=v" "$(curl -s "$URL/v1/vigies?label_selector=tier!%3Dweb" | names)" "['failing', 'paused']"
expect "in" "$(curl -s -G --data-urlencode 'label_selector=tier in (web,batch)' "$URL/v1/vigies" | names)" "['failing', 'hello']"
expect "notin" "$(curl -s -G --data-urlencode 'label_selector=tier notin (web)' "$URL/v1/vigies" | names)" "['failing', 'paused']"
expect "exists" "$(curl -s "$URL/v1/vigies?label_selector=tier" | names)" "['failing', 'hello']"
expect "not exists" "$(curl -s "$URL/v1/vigies?label_selector=!tier" | names)" "['paused']"
expect "bad selector" "$(status -G --data-urlencode 'label_selector=a in (b' "$URL/v1/vigies")" "400"
expect "bad limit" "$(status "$URL/v1/vigies?limit=0")" "400"
page1="$(curl -s "$URL/v1/vigies?limit=2")"
expect "page 1" "$(names <<<"$page1")" "['failing', 'hello']"
cont="$(field 'd["metadata"]["continue"]' <<<"$page1")"
expect "page 2" "$(curl -s -G --data-urlencode "continue=$cont" "$URL/v1/vigies?limit=2" | field '[v["name"] for v in d["items"]], "continue" in d["metadata"]')" "(['paused'], False)"
expect "bad continue" "$(status "$URL/v1/vigies?continue=garbage")" "400"

# ---- one vigy: ETag, 304, states, 404 ----
etag="$(header ETag "$URL/v1/vigies/hello")"
expect "304" "$(status -H "If-None-Match: $etag" "$URL/v1/vigies/hello")" "304"
expect "by id" "$(curl -s "$URL/v1/vigies/$(curl -s "$URL/v1/vigies/hello" | field 'd["id"]')" | field 'd["name"]')" "hello"
# GET answers from rendered responses while nothing changed: a change by another
# process (the CLI, on the same database) is seen by the very next GET.
expect "cached GET" "$(curl -s "$URL/v1/vigies/hello" | field 'd["enabled"]')" "True"
"$VIGY" --db "$DB" disable hello >/dev/null
expect "GET after a CLI write" "$(curl -s "$URL/v1/vigies/hello" | field 'd["enabled"]')" "False"
expect "304 after a CLI write" "$(status -H "If-None-Match: $etag" "$URL/v1/vigies/hello")" "200"
"$VIGY" --db "$DB" enable hello >/dev/null
expect "GET after the CLI enables" "$(curl -s "$URL/v1/vigies/hello" | field 'd["enabled"]')" "True"
etag="$(header ETag "$URL/v1/vigies/hello")"
expect "unknown vigy" "$(status "$URL/v1/vigies/nope")" "404"
for sub in runs kv conditions events state; do expect "unknown vigy /$sub" "$(status "$URL/v1/vigies/nope/$sub")" "404"; done
expect "unknown vigy tick" "$(status -X POST "$URL/v1/vigies/nope/tick")" "404"
expect "unknown run" "$(status "$URL/v1/runs/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")" "404"
expect "malformed run id" "$(status "$URL/v1/runs/0190-none")" "400"
expect "wrong method" "$(status -X DELETE "$URL/v1/vigies/hello/runs")" "405"
expect "Allow" "$(header Allow -X DELETE "$URL/v1/vigies/hello/runs")" "GET, HEAD, OPTIONS"

# ---- ticks and the sub-resources ----
run="$(curl -s -X POST "$URL/v1/vigies/hello/tick")"
expect "forced tick" "$(field 'd["result"], d["trigger"], d["vigy_name"]' <<<"$run")" "('ok', 'forced', 'hello')"
run_id="$(field 'd["id"]' <<<"$run")"
expect "GET run" "$(curl -s "$URL/v1/runs/$run_id" | field 'd["seq"]')" "$(field 'd["seq"]' <<<"$run")"
expect "failing tick" "$(curl -s -X POST "$URL/v1/vigies/failing/tick" | field 'd["result"], d["error"].split(chr(10))[0]')" "('failed', 'failing:2:4: unbound symbol: frobnicate (in (frobnicate x))')"
for _ in $(seq 1 100); do [ "$(curl -s "$URL/v1/vigies/hello/runs?limit=1" | field 'len(d["items"])')" = 1 ] && break; sleep 0.05; done
# one failed run does not degrade a vigy: supervision needs 5 failures within 1m (docs/schedules.md)
expect "state after one failure" "$(curl -s "$URL/v1/vigies/failing" | field 'd["state"]')" "Enabled"
expect "trigger queued" "$(json -d '{"payload":{"v":1}}' "$URL/v1/vigies/hello/trigger" | field 'd["outcome"], d["vigy"]')" "('queued', 'hello')"
expect "trigger bad body" "$(status -X POST -H 'Content-Type: application/json' -d '{"nope":1}' "$URL/v1/vigies/hello/trigger")" "400"
expect "state Enabled" "$(curl -s "$URL/v1/vigies/hello" | field 'd["state"]')" "Enabled"
expect "state Disabled" "$(curl -s "$URL/v1/vigies/paused" | field 'd["state"]')" "Disabled"
expect "kv" "$(curl -s "$URL/v1/vigies/hello/kv" | field '[e["key"] for e in d["items"]]')" "['n']"
expect "conditions" "$(curl -s "$URL/v1/vigies/hello/conditions" | field '[(c["type"], c["status"]) for c in d["items"]]')" "[('Ready', 'True')]"
expect "events" "$(curl -s "$URL/v1/vigies/hello/events?limit=5" | field 'd["items"][0]["reason"]')" "Hello"
expect "state" "$(curl -s "$URL/v1/vigies/hello/state" | field 'd["name"], d["last_run"]["result"], [c["type"] for c in d["conditions"]]')" "('hello', 'ok', ['Ready'])"
asc="$(curl -s "$URL/v1/vigies/hello/runs?limit=2")"
expect "runs asc" "$(field 'd["items"][0]["seq"] < d["items"][1]["seq"]' <<<"$asc")" "True"
next="$(field 'd["metadata"]["continue"]' <<<"$asc")"
expect "runs continue" "$(curl -s "$URL/v1/vigies/hello/runs?limit=2&continue=$next" | N="$next" field 'd["items"][0]["seq"] > int(__import__("os").environ["N"])')" "True"
expect "runs desc" "$(curl -s "$URL/v1/vigies/hello/runs?order=desc&limit=3" | field 'len(d["items"]), d["items"][0]["seq"] > d["items"][1]["seq"]')" "(3, True)"
expect "runs after_seq" "$(curl -s "$URL/v1/vigies/hello/runs?after_seq=999999" | field 'd["items"]')" "[]"
expect "bad order" "$(status "$URL/v1/vigies/hello/runs?order=up")" "400"
expect "bad after_seq" "$(status "$URL/v1/vigies/hello/runs?after_seq=x")" "400"

# ---- writes with preconditions: PATCH, PUT, enable/disable, DELETE ----
rv="$(curl -s "$URL/v1/vigies/paused" | field 'd["resource_version"]')"
patched="$(curl -s -X PATCH -H 'Content-Type: application/merge-patch+json' -H "If-Match: \"$rv\"" -d '{"labels":{"env":"prod"},"tick_interval_ms":7000}' "$URL/v1/vigies/paused")"
expect "merge patch" "$(field 'd["labels"], d["tick_interval_ms"], d["enabled"]' <<<"$patched")" "({'app': 'other', 'env': 'prod'}, 7000, False)"
expect "stale If-Match" "$(status -X PATCH -H 'Content-Type: application/merge-patch+json' -H "If-Match: \"$rv\"" -d '{"labels":null}' "$URL/v1/vigies/paused")" "412"
expect "stale body resource_version" "$(status -X PATCH -H 'Content-Type: application/merge-patch+json' -d "{\"resource_version\":\"$rv\",\"labels\":null}" "$URL/v1/vigies/paused")" "409"
expect "nothing changed by the refused writes" "$(curl -s "$URL/v1/vigies/paused" | field 'd["labels"]')" "{'app': 'other', 'env': 'prod'}"
expect "patch remove" "$(curl -s -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"labels":{"env":null}}' "$URL/v1/vigies/paused" | field 'd["labels"]')" "{'app': 'other'}"
expect "patch validation" "$(status -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"tick_interval_ms":1}' "$URL/v1/vigies/paused")" "422"
expect "patch program" "$(curl -s -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"program":"(vigy-noop)\n"}' "$URL/v1/vigies/failing" | field 'repr(d["config"]["program"])')" "'(vigy-noop)\\n'"
expect "patch unknown" "$(status -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{}' "$URL/v1/vigies/nope")" "404"
expect "put create" "$(json -o /dev/null -w '%{http_code}' -X PUT -d '{"program":"(vigy-noop)","tick_interval_ms":1000}' "$URL/v1/vigies/put-me")" "201"
expect "put update" "$(json -o /dev/null -w '%{http_code}' -X PUT -d '{"program":"(vigy-noop)","tick_interval_ms":2000}' "$URL/v1/vigies/put-me")" "200"
expect "put name mismatch" "$(json -o /dev/null -w '%{http_code}' -X PUT -d '{"name":"other","program":"(vigy-noop)"}' "$URL/v1/vigies/put-me")" "422"
rv="$(curl -s "$URL/v1/vigies/paused" | field 'd["resource_version"]')"
expect "enable" "$(curl -s -X POST -H "If-Match: \"$rv\"" "$URL/v1/vigies/paused/enable" | field 'd["enabled"], d["state"]')" "(True, 'Enabled')"
expect "enable stale" "$(status -X POST -H "If-Match: \"$rv\"" "$URL/v1/vigies/paused/disable")" "412"
expect "disable" "$(curl -s -X POST "$URL/v1/vigies/paused/disable" | field 'd["enabled"]')" "False"
expect "bad If-Match" "$(status -X POST -H 'If-Match: nope' "$URL/v1/vigies/paused/disable")" "400"
expect "delete stale" "$(status -X DELETE -H 'If-Match: "1"' "$URL/v1/vigies/put-me")" "412"
expect "delete" "$(status -X DELETE "$URL/v1/vigies/put-me")" "204"
expect "delete again" "$(status -X DELETE "$URL/v1/vigies/put-me")" "404"

# ---- eval, plugins, kinds ----
expect "eval" "$(json -d '{"program":"(vigy-set \"n\" (+ 1 (or (vigy-get \"n\") 0)))\n(vigy-noop)","ticks":3,"kv":{"n":40}}' "$URL/v1/eval" | field 'len(d["ticks"]), d["kv"]')" "(3, {'n': 43})"
expect "eval compile error" "$(json -o /dev/null -w '%{http_code}' -d '{"program":"(oops"}' "$URL/v1/eval")" "422"
expect "eval bad ticks" "$(json -d '{"program":"(vigy-noop)","ticks":0}' "$URL/v1/eval" | field 'd["errors"][0]["pointer"]')" "/ticks"
expect "kinds" "$(curl -s "$URL/v1/kinds" | field 'sorted(k["kind"] for k in d["items"])')" "['chain', 'lisp', 'noop']"
expect "plugins" "$(curl -s "$URL/v1/plugins" | field '"vigy.lisp" in [p["id"] for p in d["items"]]')" "True"

# ---- watch: a new watch starts with a bookmark; an old cursor is fine; garbage is 400 ----
expect_contains "runs watch bookmark" "$(curl -s -N --max-time 1 "$URL/v1/watch/runs")" "event: bookmark"
expect_contains "runs watch backfill" "$(curl -s -N --max-time 1 -H 'Last-Event-ID: 0' "$URL/v1/watch/runs?vigy=hello")" "event: run"
expect "bad Last-Event-ID" "$(status -H 'Last-Event-ID: x' "$URL/v1/watch/runs")" "400"
expect "watch unknown vigy" "$(status "$URL/v1/watch/runs?vigy=nope")" "404"
expect_contains "vigies watch" "$(curl -s -N --max-time 1 "$URL/v1/vigies?watch=true&resource_version=0")" "event: ADDED"
expect "vigies watch bad selector" "$(status -G --data-urlencode 'label_selector=!' "$URL/v1/vigies?watch=true")" "400"

# ---- operations and the dashboard ----
expect "livez" "$(curl -s "$URL/livez")" '{"status":"ok"}'
expect "readyz" "$(curl -s "$URL/readyz" | field 'd["status"], [c["name"] for c in d["checks"]]')" "('ready', ['store', 'lease', 'writer', 'kinds'])"
expect_contains "metrics" "$(curl -s "$URL/metrics")" 'vigy_ticks_total{vigy="hello",result="ok",trigger="forced"} 1'
expect "openapi" "$(curl -s "$URL/openapi.json" | field 'd["openapi"]')" "3.1.0"
expect "dashboard" "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$URL/")" "200 text/html; charset=utf-8"
expect_contains "dashboard CSP" "$(header Content-Security-Policy "$URL/app.js")" "default-src 'none'; script-src 'self'"
expect "dashboard cache" "$(header Cache-Control "$URL/app.css")" "no-cache"
etag="$(header ETag "$URL/app.js")"
expect "dashboard 304" "$(status -H "If-None-Match: $etag" "$URL/app.js")" "304"
expect "dashboard unknown file" "$(status "$URL/nope.js")" "404"

# ---- limits ----
head -c 1100000 /dev/zero | tr '\0' ' ' >"$WORK/big.json"
expect "413" "$(status -H 'Content-Type: application/json' --data-binary @"$WORK/big.json" "$URL/v1/vigies")" "413"
expect "431" "$(status -H "X-Big: $(head -c 17000 /dev/zero | tr '\0' a)" "$URL/v1/vigies")" "431"
stop_server

# ---- the token rule ----
TOKEN="serve-curl-token-0123456789abcdef"
(umask 077 && echo "$TOKEN" >"$WORK/token")
start_server --db "$DB" -o json serve --listen 127.0.0.1:0 --listen "unix:$WORK/api.sock" --token-file "$WORK/token"
expect "401 without token" "$(status "$URL/v1/vigies")" "401"
expect "WWW-Authenticate" "$(header WWW-Authenticate "$URL/v1/vigies")" 'Bearer realm="vigy"'
expect "401 wrong token" "$(status -H 'Authorization: Bearer wrong-token-0123456789' "$URL/v1/vigies")" "401"
expect "200 with token" "$(status -H "Authorization: Bearer $TOKEN" "$URL/v1/vigies")" "200"
expect "livez without token" "$(status "$URL/livez")" "200"
expect "metrics need the token" "$(status "$URL/metrics")" "401"
expect "page without token" "$(status "$URL/")" "200"
expect "unix socket with token" "$(curl -s --unix-socket "$WORK/api.sock" -H "Authorization: Bearer $TOKEN" http://localhost/v1/vigies | names)" "['failing', 'hello', 'paused']"
expect "unix socket without token" "$(status --unix-socket "$WORK/api.sock" http://localhost/v1/vigies)" "401"
expect "unix socket mode" "$(stat -c %a "$WORK/api.sock")" "600"
# the same address again: the bind fails, exit 1 naming the address
port="${URL##*:}"
"$VIGY" --db "$WORK/other.db" serve --listen "127.0.0.1:$port" >"$WORK/bind.out" 2>"$WORK/bind.err"
expect "bind failure exit" "$?" "1"
expect_contains "bind failure message" "$(cat "$WORK/bind.err")" "127.0.0.1:$port"
stop_server

# ---- non-loopback without a token is refused; --listen none serves no API ----
"$VIGY" --db "$WORK/other.db" serve --listen 0.0.0.0:0 >"$WORK/nl.out" 2>"$WORK/nl.err"
expect "non-loopback refused" "$?" "1"
expect_contains "non-loopback message" "$(cat "$WORK/nl.err")" "without a bearer token"
"$VIGY" --db "$WORK/other.db" serve --listen bogus >/dev/null 2>"$WORK/usage.err"
expect "bad --listen is a usage error" "$?" "2"
start_server --db "$DB" -o json serve --listen none
expect "--listen none prints no URL" "$(grep -c '"listening"' "$WORK/server.out")" "0"
stop_server
finish
