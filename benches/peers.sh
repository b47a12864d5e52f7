#!/usr/bin/env bash
# brownout against its peers: runs the `peers` criterion bench with short
# warm-up and measurement times, then prints the median ns/op of every
# library on every path, its cost over the bare baseline measured in the same
# run and brownout's speed-up over it; then one row per path: the fastest
# peer, brownout, the ratio, the goal (3x, 10x on the two-thread closed path)
# and a status that flags any path under its goal. Paths no peer offers
# (half-open full, the gates) are informational: brownout next to bare.
#
#   benches/peers.sh                 run the suite (about 5 minutes on 2 cores
#                                    once built), then print the tables
#   benches/peers.sh --table-only    print the table from the last run
#
# Environment: WARM_UP (seconds, default 1), MEASURE (seconds, default 3),
# CARGO_TARGET_DIR (criterion writes under $CARGO_TARGET_DIR/criterion).
# Extra arguments after `--` go to criterion, e.g. `-- peers_two_threads`.
set -euo pipefail
cd "$(dirname "$0")/.."

warm_up="${WARM_UP:-1}"
measure="${MEASURE:-3}"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
criterion_dir="$target_dir/criterion"

run=1
extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --table-only) run=0 ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [[ $run -eq 1 ]]; then
    # The two-thread path needs both cores: on a busy machine the two threads
    # share one core and the contention being measured disappears.
    load_before="$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')"
    # Stale results of a peer that is gone would otherwise show up in the
    # table; a filtered run (`-- peers_two_threads`) keeps the other groups.
    if [[ ${#extra[@]} -eq 0 ]]; then
        rm -rf "$criterion_dir"/peers_*
    fi
    log="$(mktemp)"
    cargo bench -p brownout-benches --bench peers -- \
        --warm-up-time "$warm_up" --measurement-time "$measure" --noplot \
        "${extra[@]}" | tee "$log"
    # "overlap <group>/<lib> <share>" lines: how much of the time both bench
    # threads were on a CPU. Keep the other libraries' values of a filtered run.
    mkdir -p "$criterion_dir"
    touch "$criterion_dir/peers_overlap.txt"
    { grep '^overlap ' "$log" | awk '$3 > 0' || true; cat "$criterion_dir/peers_overlap.txt"; } |
        awk '!seen[$2]++' > "$log.overlap"
    mv "$log.overlap" "$criterion_dir/peers_overlap.txt"
    rm -f "$log"
    echo
    echo "load average before the run: $load_before on $(nproc) cores" \
        "(two-thread figures are only meaningful when it is well below $(nproc))"
fi

python3 - "$criterion_dir" Cargo.lock <<'PY'
import json, os, sys, tomllib

criterion_dir, lock_path = sys.argv[1], sys.argv[2]
# Criterion group suffix -> row label, in the order of the tables.
paths = {
    "closed_success": "closed success",
    "open_rejection": "open rejection",
    "tower_layer": "tower layer",
    "two_threads": "two threads",
    "closed_success_async": "closed success, async",
    "open_rejection_async": "open rejection, async",
    "forced_open": "forced open rejection",
    "forced_open_two_threads": "forced open rejection, two threads",
    "half_open_full": "half-open full",
    "half_open_full_two_threads": "half-open full, two threads",
    "gate": "gate (FeatureGate::is_enabled)",
    "gate_by_name": "gate by name (is_enabled(&str))",
}
goal = {"two_threads": 10.0}  # >= 10x on the two-thread closed path, 3x elsewhere

with open(lock_path, "rb") as f:
    versions = {p["name"]: p["version"] for p in tomllib.load(f).get("package", [])}

overlap = {}
try:
    with open(os.path.join(criterion_dir, "peers_overlap.txt")) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3:
                overlap[parts[1]] = float(parts[2])
except FileNotFoundError:
    pass

def median_ns(group, lib):
    path = os.path.join(criterion_dir, group, lib, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except FileNotFoundError:
        return None

def libs_of(group):
    d = os.path.join(criterion_dir, group)
    if not os.path.isdir(d):
        return []
    found = [n for n in os.listdir(d) if os.path.isfile(os.path.join(d, n, "new", "estimates.json"))]
    order = {"bare": 0, "brownout": 1}
    return sorted(found, key=lambda n: (order.get(n, 2), n))

def fmt(ns):
    return "-" if ns is None else (f"{ns:,.2f}" if ns < 100 else f"{ns:,.0f}")

rows, summary = [], []
for p, label in paths.items():
    group = f"peers_{p}"
    libs = libs_of(group)
    if not libs:
        continue
    two = p.endswith("two_threads")
    bare, ours = median_ns(group, "bare"), median_ns(group, "brownout")
    fastest = None
    for lib in libs:
        ns = median_ns(group, lib)
        over = None if bare is None or lib == "bare" else ns - bare
        speed = "" if lib in ("bare", "brownout") or ours is None else f"{ns / ours:.1f}x"
        ver = versions.get(lib, "") if lib != "bare" else ""
        both = overlap.get(f"{group}/{lib}")
        both = "" if both is None else f"{both:.0%}"
        rows.append((label, lib, ver, fmt(ns), "-" if over is None else fmt(over), speed, both))
        if lib not in ("bare", "brownout") and (fastest is None or ns < fastest[1]):
            fastest = (lib, ns)
    if ours is None:
        continue
    if fastest:
        ratio = fastest[1] / ours
        need = goal.get(p, 3.0)
        status = "met" if ratio >= need else "MISSED"
        cells = (fastest[0], fmt(fastest[1]), f"{ratio:.1f}x", f">= {need:g}x")
        checked = ("brownout", fastest[0])
    else:
        status = "info (no peer)"
        cells = ("-", "-", "-", "-")
        checked = ("brownout",)
    together = [overlap.get(f"{group}/{lib}") for lib in checked]
    if two and any(t is not None and t < 0.9 for t in together):
        status += " (threads shared a core: rerun)"
    summary.append((label, fmt(bare), cells[0], cells[1], fmt(ours), cells[2], cells[3], status))

if not rows:
    sys.exit(f"no peers results under {criterion_dir}: run without --table-only first")

def table(head, body):
    widths = [max(len(str(r[i])) for r in [head] + body) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in body:
        print(line(r))

print()
table(("path", "library", "version", "median ns/op", "over bare ns", "brownout speed-up",
       "threads together"), rows)
print()
print("threads together: share of the wall time both two-thread bench threads were on a CPU")
print("(about 100% = they ran in parallel; about 50% = they shared one core and the")
print("contention being measured did not happen: rerun on a quiet machine).")
print("A library missing from a path has no such API (see its module in benches/benches/peers/).")
print()
table(("path", "bare ns/op", "fastest peer", "its ns/op", "brownout ns/op", "speed-up", "goal",
       "status"), summary)
missed = [r[0] for r in summary if r[7].startswith("MISSED")]
if missed:
    print()
    print("under goal: " + "; ".join(missed))
PY
