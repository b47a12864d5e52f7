"""Plots of the chaos harness: goodput, latency and level over time,
brownout and no-brownout on the same axes, one PNG per scenario.

    python plot.py RESULTS_DIR PLOTS_DIR

Reads RESULTS_DIR/<scenario>-<mode>.csv (one row a second) and
<scenario>-<mode>.json (the fault window); writes PLOTS_DIR/<scenario>.png.
Needs matplotlib only (its bundled fonts: no system fonts).
"""

import csv
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LEVELS = ["EMERGENCY", "MINIMAL", "LIMITED", "DEGRADED", "OPTIMAL"]
COLOURS = {"brownout": "tab:blue", "no-brownout": "tab:red"}


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def num(row, key):
    try:
        return float(row[key])
    except (KeyError, ValueError):
        return float("nan")


def main(results, plots):
    os.makedirs(plots, exist_ok=True)
    summary = os.path.join(results, "summary.json")
    if os.path.exists(summary):
        # Only the scenarios of the last run, not older results in the same directory.
        with open(summary) as f:
            scenarios = sorted({run["scenario"] for run in json.load(f)["runs"]})
    else:
        scenarios = sorted(
            {
                name[: -len("-brownout.csv")]
                for name in os.listdir(results)
                if name.endswith("-brownout.csv") and not name.endswith("-no-brownout.csv")
            }
        )
    for scenario in scenarios:
        fig, (goodput, latency, level) = plt.subplots(
            3, 1, figsize=(10, 8.5), sharex=True, gridspec_kw={"height_ratios": [3, 3, 2]}
        )
        window = None
        for mode in ("brownout", "no-brownout"):
            base = os.path.join(results, f"{scenario}-{mode}")
            if not os.path.exists(base + ".csv"):
                continue
            rows = read(base + ".csv")
            with open(base + ".json") as f:
                summary = json.load(f)
            window = (summary["fault_at_s"], summary["restore_at_s"])
            t = [num(r, "second") for r in rows]
            colour = COLOURS[mode]
            goodput.plot(t, [num(r, "ok") for r in rows], color=colour, label=f"{mode}: 2xx/s")
            goodput.plot(
                t,
                [num(r, "unavailable") for r in rows],
                color=colour,
                linestyle=":",
                label=f"{mode}: 503/s",
            )
            goodput.plot(
                t,
                [num(r, "other") for r in rows],
                color=colour,
                linestyle="--",
                label=f"{mode}: other errors/s",
            )
            latency.plot(t, [num(r, "p99_ms") for r in rows], color=colour, label=f"{mode}: p99")
            latency.plot(
                t,
                [num(r, "p50_ms") for r in rows],
                color=colour,
                linestyle=":",
                label=f"{mode}: p50",
            )
            if mode == "brownout":
                points = [
                    (x, LEVELS.index(r["level"]))
                    for x, r in zip(t, rows)
                    if r.get("level") in LEVELS
                ]
                if points:
                    xs, ys = zip(*points)
                    level.step(xs, ys, where="post", color=colour, label="brownout level")
        for ax in (goodput, latency, level):
            if window:
                ax.axvspan(window[0], window[1], color="grey", alpha=0.15, lw=0)
            ax.grid(alpha=0.3)
        goodput.set_ylabel("requests / s")
        goodput.legend(fontsize=7, ncol=2, loc="lower left")
        latency.set_yscale("log")
        latency.set_ylabel("latency (ms, log)")
        latency.legend(fontsize=7, ncol=2, loc="upper left")
        level.set_yticks(range(len(LEVELS)))
        level.set_yticklabels(LEVELS, fontsize=7)
        level.set_ylim(-0.3, len(LEVELS) - 0.7)
        level.set_xlabel("seconds (grey: the fault)")
        level.legend(fontsize=7, loc="lower left")
        fig.suptitle(f"{scenario}: brownout vs no-brownout (same load, same timeouts)")
        fig.tight_layout()
        out = os.path.join(plots, f"{scenario}.png")
        fig.savefig(out, dpi=90)
        plt.close(fig)
        print(f"wrote {out}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
