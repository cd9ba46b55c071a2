#!/usr/bin/python3
"""Bar chart of a `convnd bench --format json` run: GFLOP/s per case and pass, one bar per layout
for convnd and one for each peer measured in the same run (oneDNN), the FMA peak as a line.

    build/tools/convnd bench --format json > run.json
    /usr/bin/python3 scripts/plot_bench.py run.json bench.png [--peak GFLOPS] [--title TEXT]

`convnd bench --plot FILE.png` runs this same script (compiled into the tool, so it works from
any folder and after install) with the interpreter named by $CONVND_PYTHON, /usr/bin/python3 by
default. Needs matplotlib (Debian: python3-matplotlib). Without --peak the peak is recovered
from the rows (peak = gflops / peak_pct * 100).
"""

import argparse
import json
import sys

MISSING = 3  # exit status when matplotlib cannot be imported; the tool checks it before timing


def load_matplotlib(quiet):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError as e:
        if not quiet:
            print(f"plot_bench: matplotlib is missing for {sys.executable} ({e}); install "
                  "python3-matplotlib, or set CONVND_PYTHON to an interpreter that has it",
                  file=sys.stderr)
        sys.exit(MISSING)


def peer_gflops(row):
    # The peer is timed on the same problem: its GFLOP/s is convnd's scaled by the time ratio.
    ms = row.get("onednn_ms")
    return row["gflops"] * row["ms"] / ms if ms else None


def plot(rows, out, peak, title, plt):
    groups = []                  # (case, pass) in the order of the run
    layouts = []
    for r in rows:
        if (r["case"], r["pass"]) not in groups:
            groups.append((r["case"], r["pass"]))
        if r["layout"] not in layouts:
            layouts.append(r["layout"])
    value = {(r["case"], r["pass"], r["layout"]): r["gflops"] for r in rows}
    onednn = {}
    for r in rows:
        g = peer_gflops(r)
        if g is not None:
            onednn[(r["case"], r["pass"])] = g     # one peer time per case and pass
    series = [(f"convnd {l.replace('_', '-')}", [value.get(g + (l,)) for g in groups])
              for l in layouts]
    if onednn:
        series.append(("oneDNN (its blocked formats)", [onednn.get(g) for g in groups]))

    n = len(series)
    width = 0.8 / n
    fig_w = min(max(7.0, 0.22 * n * len(groups) + 2.0), 40.0)
    fig, ax = plt.subplots(figsize=(fig_w, 5.0), dpi=100)
    blues = ["#2f6ea8", "#8dbcdf", "#1b3f61"]
    for i, (label, ys) in enumerate(series):
        xs = [j + (i - (n - 1) / 2) * width for j in range(len(groups))]
        color = "#e8893b" if label.startswith("oneDNN") else blues[i % len(blues)]
        ax.bar([x for x, y in zip(xs, ys) if y is not None], [y for y in ys if y is not None],
               width, label=label, color=color)
    if peak:
        ax.axhline(peak, color="#c0392b", linestyle="--", linewidth=1.2,
                   label=f"FMA peak, measured: {peak:.0f} GFLOP/s")
    top = max([peak or 0] + [y for _, ys in series for y in ys if y is not None])
    ax.set_ylim(0, top * 1.35)  # room above the bars and the line for the legend
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"{c} {p}" for c, p in groups], rotation=60, ha="right", fontsize=8)
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylabel("GFLOP/s (float32)")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    entries = n + (1 if peak else 0)
    ax.legend(fontsize=8, loc="upper right", ncol=entries if fig_w >= 10 else 1, frameon=False)
    fig.tight_layout()
    try:
        fig.savefig(out)
    except OSError as e:
        print(f"plot_bench: cannot write {out}: {e.strerror or e}", file=sys.stderr)
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser(prog="plot_bench", description=__doc__.splitlines()[0])
    ap.add_argument("json", nargs="?", help="output of `convnd bench --format json`")
    ap.add_argument("png", nargs="?", help="the chart to write (.png)")
    ap.add_argument("--peak", type=float, help="FMA peak in GFLOP/s (default: from the rows)")
    ap.add_argument("--title", default="convnd bench")
    ap.add_argument("--check", action="store_true",
                    help="only check that matplotlib imports (exit status 3 if not)")
    a = ap.parse_args()
    plt = load_matplotlib(quiet=a.check)
    if a.check:
        return 0
    if not a.json or not a.png:
        ap.error("JSON and PNG arguments are required")
    with open(a.json) as f:
        rows = json.load(f)
    if not rows:
        print("plot_bench: no rows to plot", file=sys.stderr)
        return 1
    peak = a.peak
    if peak is None:
        with_pct = [r for r in rows if r.get("peak_pct")]
        peak = with_pct[0]["gflops"] / with_pct[0]["peak_pct"] * 100 if with_pct else None
    return plot(rows, a.png, peak, a.title, plt)


if __name__ == "__main__":
    sys.exit(main())
