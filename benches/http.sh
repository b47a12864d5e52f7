#!/usr/bin/env bash
# What brownout costs per request over real HTTP: starts the `http_bench`
# example (release build), drives each of its routes in turn with wrk, and
# prints requests/s and latency (p50, p99) per route, with each brownout
# route against its bare counterpart measured in the same run:
#
#   /gated           the trivial handler behind a feature gate (feature on)   vs /bare
#   /shed            a gate whose feature is off: 503 problem+json            vs /bare
#   /shed-static     the bytes /shed answers, from a static handler (no brownout work) vs /bare
#   /client/breaker  an in-process tower client behind a BreakerLayer         vs /client/bare
#   /full            /client/breaker behind a feature gate (both layers)      vs /client/bare
#
# A ratio of 1.00 means as fast as the bare route; the server and wrk share
# the machine, so expect a few percent of noise between runs (ROUNDS > 1
# interleaves the routes and keeps the median of each).
#
#   benches/http.sh
#
# Environment: ROUTES (space-separated, default all of the above), DURATION
# per wrk run in s (default 5), THREADS (wrk -t, default 2), CONNECTIONS (wrk
# -c, default 32), ROUNDS (default 1), WARM_UP in s per route before
# measuring (default 1, 0 for none), ADDR (default 127.0.0.1:0, a free
# port), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${DURATION:-5}"
threads="${THREADS:-2}"
connections="${CONNECTIONS:-32}"
rounds="${ROUNDS:-1}"
warm_up="${WARM_UP:-1}"
addr="${ADDR:-127.0.0.1:0}"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
read -r -a routes <<<"${ROUTES:-/bare /gated /shed /shed-static /client/bare /client/breaker /full}"

case "${1:-}" in
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    "") ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac

if ! command -v wrk >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq wrk
fi

cargo build --release -q -p brownout-examples --example http_bench

out="$(mktemp)"
server=""
cleanup() {
    if [[ -n "$server" ]]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -f "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$target_dir/release/examples/http_bench" "$addr" >"$out" &
server=$!
base=""
for _ in $(seq 1 100); do
    base="$(sed -n 's/^listening on //p' "$out")"
    [[ -n "$base" ]] && break
    kill -0 "$server" 2>/dev/null || { echo "http_bench exited before listening" >&2; exit 1; }
    sleep 0.1
done
[[ -n "$base" ]] || { echo "http_bench did not start listening" >&2; exit 1; }

# A latency as wrk prints it (850.00us, 1.23ms, 2.00s) in microseconds.
micros() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000;
        else if (v ~ /s$/) print n * 1000000; else print "?"
    }'
}

# Drives one route; prints "requests/s p50 p99 non2xx errors", latencies in µs.
load() {
    local path="$1" seconds="$2" result rps p50 p99 non2xx errors
    result="$(wrk -t"$threads" -c"$connections" -d"${seconds}s" --timeout 2s --latency "$base$path")"
    rps="$(awk '/^Requests\/sec/ {print $2}' <<<"$result")"
    p50="$(micros "$(awk '$1 == "50%" {print $2}' <<<"$result")")"
    p99="$(micros "$(awk '$1 == "99%" {print $2}' <<<"$result")")"
    non2xx="$(awk '/Non-2xx or 3xx responses/ {print $5}' <<<"$result")"
    errors="$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$result")"
    echo "$rps $p50 $p99 ${non2xx:-0} ${errors:-0}"
}

echo "wrk -t$threads -c$connections -d${duration}s against $base, $rounds round(s), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
if [[ "$warm_up" != 0 ]]; then
    for path in "${routes[@]}"; do load "$path" "$warm_up" >/dev/null; done
fi

declare -A samples
for round in $(seq 1 "$rounds"); do
    for path in "${routes[@]}"; do
        read -r rps p50 p99 non2xx errors < <(load "$path" "$duration")
        samples[$path]+="$rps $p50 $p99"$'\n'
        if [[ "$path" == /shed || "$path" == /shed-static ]]; then
            [[ "$non2xx" != 0 ]] || echo "warning: /shed answered 2xx (round $round)" >&2
        elif [[ "$non2xx" != 0 ]]; then
            echo "warning: $path answered $non2xx non-2xx (round $round)" >&2
        fi
        [[ "$errors" == 0 ]] || echo "warning: $path: $errors socket errors or timeouts (round $round)" >&2
    done
done

# The median of column $2 of the samples in $1.
median() {
    sort -g -k"$2","$2" <<<"$1" | awk -v c="$2" 'NF { v[++n] = $c }
        END { print (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'
}

declare -A rps p50 p99
for path in "${routes[@]}"; do
    rps[$path]="$(median "${samples[$path]}" 1)"
    p50[$path]="$(median "${samples[$path]}" 2)"
    p99[$path]="$(median "${samples[$path]}" 3)"
done

declare -A bare=([/gated]=/bare [/shed]=/bare [/shed-static]=/bare [/client/breaker]=/client/bare [/full]=/client/bare)
echo
printf '%-16s %12s %9s %9s   %s\n' route requests/s "p50 µs" "p99 µs" "vs bare (requests/s ratio)"
for path in "${routes[@]}"; do
    versus=""
    if [[ -n "${bare[$path]:-}" ]]; then
        versus="$(awk -v a="${rps[$path]}" -v b="${rps[${bare[$path]}]}" -v n="${bare[$path]}" \
            'BEGIN { printf "%.2fx %s", a / b, n }')"
    fi
    printf '%-16s %12.0f %9.0f %9.0f   %s\n' "$path" "${rps[$path]}" "${p50[$path]}" "${p99[$path]}" "$versus"
done
