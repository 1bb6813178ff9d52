#!/usr/bin/env bash
# tests/api/curl_security.sh — the API's security defaults seen by curl: the token
# (401 without or with a wrong one, /livez open), a non-loopback listener refused
# without a token, a token file others can read refused, Host/Origin refusals,
# 413 and 431, a Unix socket with mode 0600.
source "$(dirname "$0")/lib.sh"
need curl "apt-get install curl"

token="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$token" >"$WORK/token"
chmod 600 "$WORK/token"

# a non-loopback address without a token is refused, naming the address
out="$("$SERVER" --listen 0.0.0.0:0 2>&1)"
expect "non-loopback without token exit" "$?" "1"
expect_contains "non-loopback without token message" "$out" "refusing to listen on 0.0.0.0:0 without a bearer token"
# a token file others can read is refused, naming the file and its mode
cp "$WORK/token" "$WORK/open-token" && chmod 644 "$WORK/open-token"
out="$("$SERVER" --listen 0.0.0.0:0 --token-file "$WORK/open-token" 2>&1)"
expect "world-readable token exit" "$?" "1"
expect_contains "world-readable token message" "$out" "token file $WORK/open-token has mode 0644: it must be readable only by its owner"
# a bind failure names the address
start_server --listen 127.0.0.1:0
taken="${URL#http://}"
out="$("$SERVER" --listen "$taken" 2>&1)"
expect "bind failure exit" "$?" "1"
expect "bind failure message" "$out" "error: cannot listen on $taken: Address already in use"
stop_server

start_server --listen 127.0.0.1:0 --listen "unix:$WORK/api.sock" --token-file "$WORK/token"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

expect "no token" "$(code "$URL/test/echo/x")" "401"
hdr="$(curl -s -D - -o /dev/null "$URL/metrics" | tr -d '\r' | grep -i '^www-authenticate:')"
expect "WWW-Authenticate" "$hdr" 'WWW-Authenticate: Bearer realm="vigy"'
expect "wrong token" "$(code -H "Authorization: Bearer not-the-right-token-at-all" "$URL/test/echo/x")" "401"
expect "right token" "$(code -H "Authorization: Bearer $token" "$URL/test/echo/x")" "200"
expect "livez without token" "$(code "$URL/livez")" "200"
expect "unknown route without token" "$(code "$URL/nope")" "401"
body="$(curl -s "$URL/readyz")"
expect_contains "401 body is a problem" "$body" '"code":"unauthenticated"'

auth=(-H "Authorization: Bearer $token")
# DNS rebinding: a foreign Host is refused, IPs and localhost are fine
expect "foreign Host" "$(code "${auth[@]}" -H 'Host: evil.example' "$URL/test/echo/x")" "403"
expect "localhost Host" "$(code "${auth[@]}" -H 'Host: localhost' "$URL/test/echo/x")" "200"
expect "cross-site Origin" "$(code "${auth[@]}" -H 'Origin: http://evil.example' "$URL/test/echo/x")" "403"
# limits
head -c 2097152 /dev/zero | tr '\0' ' ' >"$WORK/big.json"
expect "2 MiB body" "$(code "${auth[@]}" -H 'Content-Type: application/json' --data-binary "@$WORK/big.json" "$URL/test/echo")" "413"
big_header="X-Big: $(head -c 20000 /dev/zero | tr '\0' a)"
expect "20 KB header" "$(code "${auth[@]}" -H "$big_header" "$URL/test/echo/x")" "431"
expect "still serving" "$(code "${auth[@]}" "$URL/test/echo/x")" "200"
# the Unix socket: owner-only, same token rule
expect "socket mode" "$(stat -c %a "$WORK/api.sock")" "600"
expect "unix without token" "$(code --unix-socket "$WORK/api.sock" http://localhost/test/echo/x)" "401"
expect "unix with token" "$(code "${auth[@]}" --unix-socket "$WORK/api.sock" http://localhost/test/echo/x)" "200"
stop_server
expect "socket removed on stop" "$(test -e "$WORK/api.sock" && echo present || echo gone)" "gone"

# with a token, a non-loopback listener starts (bound to every interface; only loopback is contacted)
start_server --listen 0.0.0.0:0 --token-file "$WORK/token"
port="${URL##*:}"
expect "non-loopback with token" "$(code "${auth[@]}" "http://127.0.0.1:$port/test/echo/x")" "200"
stop_server
finish
