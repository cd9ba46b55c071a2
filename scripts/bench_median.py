#!/usr/bin/env python3
"""Median of several `convnd bench --format json` runs, per row, and the geomeans against
oneDNN: the machine's timings vary from run to run, so docs/benchmarks.md reports this.

    for i in 1 2 3 4 5; do build/tools/convnd bench --format json > run$i.json; done
    /usr/bin/python3 scripts/bench_median.py run*.json

Prints a markdown table (median ms with the range, oneDNN's median, the ratio) and geomeans:
all rows, per pass, the rows whose kernel is 3 taps stride 1 on every axis, and those of them
that ran on Winograd (a winograd_* algorithm, or bwd_data_phases over Winograd sub-problems).
"""
import json
import math
import statistics
import sys

# The suite's 3-tap stride-1 layers (bench/suite.json).
THREE_TAP = {"r50_res2_3x3_b1", "r50_res4_3x3_b1", "r50_res5_3x3_b1", "r50_res3_3x3_b16",
             "mbv2_dw3x3_b1", "resnext_g32_b1", "aspp_dil6_b1", "c3d_conv2_b1", "unet3d_b2",
             "tcn_dil8_b8"}
WINOGRAD_BWD_DATA = {"r50_res3_3x3_b16", "unet3d_b2"}


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main(paths):
    rows = {}
    for path in paths:
        with open(path) as f:
            for r in json.load(f):
                key = (r["case"], r["pass"], r["layout"])
                row = rows.setdefault(key, {"algorithm": r["algorithm"], "ms": [], "peer": []})
                row["ms"].append(r["ms"])
                if r["onednn_ms"] is not None:
                    row["peer"].append(r["onednn_ms"])
    print("| case | pass | layout | algorithm | median ms (min-max) | oneDNN median ms | vs oneDNN |")
    print("|---|---|---|---|---:|---:|---:|")
    ratios = []
    for (case, pass_, layout), row in rows.items():
        ms = statistics.median(row["ms"])
        peer = statistics.median(row["peer"]) if row["peer"] else None
        ratio = peer / ms if peer else None
        peer_text = f"{peer:.3f}" if peer else "-"
        ratio_text = f"{ratio:.2f}x" if ratio else "-"
        print(f"| {case} | {pass_} | {layout} | {row['algorithm']} | {ms:.3f} "
              f"({min(row['ms']):.3f}-{max(row['ms']):.3f}) | {peer_text} | {ratio_text} |")
        if ratio:
            ratios.append((case, pass_, row["algorithm"], ratio))
    if not ratios:
        return
    print()
    print(f"all {len(ratios)}: {geomean([r[3] for r in ratios]):.2f}x")
    for p in ("fwd", "bwd_data", "bwd_weights"):
        v = [r[3] for r in ratios if r[1] == p]
        if v:
            print(f"{p} {len(v)}: {geomean(v):.2f}x")
    three = [r for r in ratios if r[0] in THREE_TAP]
    wino = [r for r in three if r[2].startswith("winograd") or
            (r[2] == "bwd_data_phases" and r[0] in WINOGRAD_BWD_DATA)]
    if three:
        print(f"3-tap stride-1 {len(three)}: {geomean([r[3] for r in three]):.2f}x")
    if wino:
        print(f"on Winograd {len(wino)}: {geomean([r[3] for r in wino]):.2f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
