#!/usr/bin/env bash
# The chaos harness of the reference service: real PostgreSQL and Redis, two
# fake HTTP upstreams, constant-rate load over a mix of routes, dependencies
# broken and repaired under load, each scenario with and without brownout.
#
#   bash examples/reference/chaos.sh --short   # CI: two scenarios, both modes (~4 min + build)
#   bash examples/reference/chaos.sh           # all six scenarios, both modes (~12 min + build)
#   bash examples/reference/chaos.sh --docs    # full run, then docs/resilience.md and its plots
#
# Options: --short, --docs (rewrite the results in docs/resilience.md and the
# plots in docs/resilience/), --no-plots, --no-oha, --scenarios a,b, --rate N,
# --out DIR (default: <target>/chaos). Installs what is missing (Debian
# postgresql and redis-server with apt-get; oha with cargo install for a full
# run; matplotlib in a venv for the plots), builds the binaries (release), starts a throwaway PostgreSQL
# cluster and Redis on loopback, and stops everything on exit, failure or
# Ctrl-C. Exits non-zero when an assertion fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

short=0 docs=0 plots=1 oha=1 out="" pass=()
while (($#)); do
    case "$1" in
        --short) short=1; pass+=(--short) ;;
        --docs) docs=1 ;;
        --no-plots) plots=0 ;;
        --no-oha) oha=0; pass+=(--no-oha) ;;
        --out) out="$2"; shift ;;
        --scenarios|--rate) pass+=("$1" "$2"); shift ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "chaos.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
sudo_() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }

# 1. What is missing.
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
need=()
[[ -n "$pg_bin" && -x "$pg_bin/initdb" ]] || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if ((${#need[@]})); then
    say "installing ${need[*]} (apt-get)"
    sudo_ apt-get update -qq
    sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    # Debian starts its own servers; the harness runs its own on free ports.
    sudo_ service redis-server stop >/dev/null 2>&1 || true
    pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
fi

# oha (constant-rate load on GET /stock beside the harness's own mix): built
# from crates.io for a full run; a --short run uses it only if installed.
if ((oha)) && ! command -v oha >/dev/null 2>&1; then
    if ((short)); then
        echo "chaos.sh: oha is not installed: the short run goes without it (cargo install --locked oha)"
    else
        say "installing oha (cargo install --locked oha)"
        cargo install --locked -q oha
    fi
fi

# 2. The binaries (release: the numbers are measured).
say "building (release)"
cargo build --release -q -p brownout-reference --bins
target_dir="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}"
bin="$target_dir/release"
out="${out:-$target_dir/chaos}"
mkdir -p "$out"

# 3. A throwaway work directory, cleaned up whatever happens.
work="$(mktemp -d -t brownout-chaos.XXXXXX)"
chmod 755 "$work"
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    for pidfile in "$work"/pids/*.pid; do
        [[ -e "$pidfile" ]] || continue
        kill -CONT "$(cat "$pidfile")" 2>/dev/null || true
        kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
    done
    if [[ -x "$work/pg-ctl" ]]; then "$work/pg-ctl" stop >/dev/null 2>&1 || true; fi
    if ((status != 0)) && [[ -d "$work/logs" ]]; then
        mkdir -p "$out/logs" && cp -r "$work"/logs/. "$out/logs/" 2>/dev/null || true
        echo "chaos.sh: logs kept in $out/logs" >&2
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 4. PostgreSQL: initdb into the work directory; postgres refuses to run as
#    root, so as root it runs as the `postgres` user (created if missing).
as_pg=()
if [[ $(id -u) == 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    as_pg=(runuser -u postgres --)
fi
pg_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$work/pg" "$work/logs"
[[ $(id -u) == 0 ]] && chown postgres "$work/pg"
"${as_pg[@]}" "$pg_bin/initdb" -D "$work/pg/data" -U postgres --auth=trust -E UTF8 --no-sync >"$work/logs/initdb.log" 2>&1 \
    || { cat "$work/logs/initdb.log" >&2; exit 1; }
cat >"$work/pg-ctl" <<EOF
#!/bin/sh
# pg_ctl on the throwaway cluster, as the right user.
case "\$1" in
    start) exec ${as_pg[*]} "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/postgres.log" -w -t 30 \
               -o "-p $pg_port -c listen_addresses=127.0.0.1 -k $work/pg -c fsync=off -c max_connections=200" start >/dev/null ;;
    stop)  exec ${as_pg[*]} "$pg_bin/pg_ctl" -D "$work/pg/data" -m fast -w -t 30 stop >/dev/null ;;
    *) echo "usage: pg-ctl start|stop" >&2; exit 2 ;;
esac
EOF
chmod 755 "$work/pg-ctl"

# 5. The scenarios.
say "chaos (results in $out)"
status=0
"$bin/chaos" --work "$work" --pg-port "$pg_port" --out "$out" --bin-dir "$bin" "${pass[@]}" || status=$?
cp "$work/pg/postgres.log" "$work/logs/postgres.log" 2>/dev/null || true
if grep -l "panicked" "$work"/logs/*.log >/dev/null 2>&1; then
    echo "chaos.sh: a panic in the logs" >&2
    status=1
fi
((status == 2)) && exit 2

# 6. Plots (and, with --docs, the results in docs/resilience.md).
if ((plots)); then
    venv="$target_dir/chaos-venv"
    if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
        say "installing matplotlib (venv)"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q matplotlib
    fi
    plots_dir="$out"
    ((docs)) && plots_dir="$root/docs/resilience"
    mkdir -p "$plots_dir"
    "$venv/bin/python" examples/reference/plot.py "$out" "$plots_dir"
fi
if ((docs)); then
    python3 - "$out/results.md" "$root/docs/resilience.md" <<'EOF'
import sys
results, doc = open(sys.argv[1]).read(), open(sys.argv[2]).read()
start, end = "<!-- results:start -->", "<!-- results:end -->"
head, rest = doc.split(start, 1)
_, tail = rest.split(end, 1)
open(sys.argv[2], "w").write(f"{head}{start}\n{results}{end}{tail}")
EOF
    echo "docs/resilience.md and docs/resilience/*.png updated"
fi
exit "$status"
