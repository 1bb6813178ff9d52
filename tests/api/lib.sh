# tests/api/lib.sh — shared helpers for the API's shell tests (sourced, not run).
# start_server ARGS...  starts api_test_server ($SERVER) in the background, waits for its
#                       "ready" line and sets URL (the first listener) and SERVER_PID
# need TOOL HINT        fails the test (never skips) when TOOL is not on PATH
# expect NAME GOT WANT  compares, counting failures; finish prints "N passed, N failed"
set -uo pipefail
SERVER="${1:?usage: $0 path/to/api_test_server}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/vigy-api-test.XXXXXX")"
SERVER_PID=""
URL=""
passed=0
failed=0

cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

need() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "FAIL: $1 is not installed ($2)" >&2
        exit 1
    fi
}

start_server() {
    "$SERVER" "$@" >"$WORK/server.out" 2>"$WORK/server.err" &
    SERVER_PID=$!
    for _ in $(seq 1 200); do
        if grep -q '"event":"ready"' "$WORK/server.out" 2>/dev/null; then
            URL="$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$WORK/server.out" | head -n1)"
            return 0
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "FAIL: the server exited: $(cat "$WORK/server.err")" >&2
            exit 1
        fi
        sleep 0.05
    done
    echo "FAIL: the server did not become ready: $(cat "$WORK/server.err")" >&2
    exit 1
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
}

expect() {
    if [ "$2" = "$3" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $1: got [$2], want [$3]" >&2
    fi
}

# expect_contains NAME HAYSTACK NEEDLE
expect_contains() {
    case "$2" in
    *"$3"*) passed=$((passed + 1)) ;;
    *)
        failed=$((failed + 1))
        echo "FAIL: $1: [$2] does not contain [$3]" >&2
        ;;
    esac
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
