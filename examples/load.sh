#!/usr/bin/env bash
# The demo service under load from a real HTTP load
# generator (wrk), with a dependency failing.
#
# Starts the `axum_server` example (release build), then with wrk:
#   1. OPTIMAL: /suggestions (feature ai_suggestions, needs openai) answers 200;
#   2. takes openai down: the level falls to MINIMAL, every /suggestions
#      request is answered 503 (fast: latency percentiles printed), /stock
#      (a MINIMAL feature) still answers 200, and nothing hangs (no timeouts,
#      no socket errors);
#   3. brings openai back: its probe closes the breaker once the recovery
#      timeout (30 s) has passed, with no user traffic to openai, and the
#      level returns to OPTIMAL; /suggestions answers 200 again.
# Exits non-zero if any of that does not hold.
#
#   examples/load.sh          PORT (default 3917), DURATION per wrk run in s (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."

port="${PORT:-3917}"
duration="${DURATION:-5}"
base="http://127.0.0.1:$port"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"

if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk is not installed (Debian: apt-get install wrk)" >&2
    exit 2
fi

cargo build --release -q -p brownout-examples --example axum_server
PORT="$port" "$target_dir/release/examples/axum_server" >/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
    curl -fs "$base/health/live" >/dev/null 2>&1 && break
    sleep 0.1
done

fail() { echo "FAIL: $*" >&2; exit 1; }

level() { curl -s "$base/health" | grep -o '"level":"[A-Z]*"' | cut -d'"' -f4; }

# Runs wrk on a path; prints a summary line; sets TOTAL, NON2XX, ERRORS, P50, P99.
load() {
    local path="$1" out
    out="$(wrk -t2 -c32 -d"${duration}s" --timeout 2s --latency "$base$path")"
    TOTAL="$(awk '/requests in/ {print $1}' <<<"$out")"
    NON2XX="$(awk '/Non-2xx or 3xx responses/ {print $5}' <<<"$out")"
    NON2XX="${NON2XX:-0}"
    ERRORS="$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out")"
    ERRORS="${ERRORS:-0}"
    P50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
    P99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    printf '%-14s %-10s %9s requests, %9s non-2xx, %s socket errors, latency p50 %s p99 %s\n' \
        "$path" "$(level)" "$TOTAL" "$NON2XX" "$ERRORS" "$P50" "$P99"
}

echo "== 1. all dependencies up"
[[ "$(level)" == OPTIMAL ]] || fail "expected OPTIMAL at start, got $(level)"
load /suggestions
[[ "$NON2XX" == 0 && "$ERRORS" == 0 ]] || fail "/suggestions should answer 200 at OPTIMAL"

echo "== 2. openai down"
curl -fs -X POST "$base/admin/fail/openai"
[[ "$(level)" == MINIMAL ]] || fail "expected MINIMAL with openai open, got $(level)"
load /suggestions
[[ "$NON2XX" == "$TOTAL" ]] || fail "every /suggestions request should be shed (503): $NON2XX of $TOTAL"
[[ "$ERRORS" == 0 ]] || fail "socket errors or timeouts while shedding: $ERRORS"
status="$(curl -s -o /dev/null -w '%{http_code}' "$base/suggestions")"
[[ "$status" == 503 ]] || fail "/suggestions answered $status, expected 503"
load /stock
[[ "$NON2XX" == 0 && "$ERRORS" == 0 ]] || fail "/stock (MINIMAL) should still answer 200"

echo "== 3. openai back: its probe closes the breaker after the recovery timeout"
curl -fs -X POST "$base/admin/recover/openai"
start=$SECONDS
until [[ "$(level)" == OPTIMAL ]]; do
    (( SECONDS - start < 60 )) || fail "level did not return to OPTIMAL within 60 s (still $(level))"
    sleep 0.5
done
echo "back to OPTIMAL $(( SECONDS - start )) s after openai came back"
load /suggestions
[[ "$NON2XX" == 0 && "$ERRORS" == 0 ]] || fail "/suggestions should answer 200 again"

echo "load test passed"
