#!/usr/bin/env bash
# bench/api/wrk.sh — HTTP throughput and tail latency of one URL with wrk (Debian `wrk`).
#   bench/api/wrk.sh URL [DURATION_S] [CONNECTIONS] [THREADS] [-- extra wrk args, e.g. -H "Authorization: Bearer T"]
# Prints wrk's report and one summary line:
#   wrk URL: N requests/s, p50 X, p99 Y (C connections, T threads, D s)
# Defaults: 10 s, 64 connections, 2 threads. Run on an idle machine for numbers that count.
set -euo pipefail
url="${1:?usage: $0 URL [DURATION_S] [CONNECTIONS] [THREADS] [-- wrk args]}"
duration="${2:-10}"
connections="${3:-64}"
threads="${4:-2}"
shift $(( $# < 4 ? $# : 4 ))
[ "${1:-}" = "--" ] && shift
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
out="$(wrk --latency -d "${duration}s" -c "$connections" -t "$threads" "$@" "$url")"
echo "$out"
rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
errors="$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")"
echo "wrk $url: ${rps} requests/s, p50 ${p50}, p99 ${p99} (${connections} connections, ${threads} threads, ${duration} s${errors:+, $errors non-2xx})"
