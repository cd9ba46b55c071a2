#!/usr/bin/env python3
"""Measures where Winograd beats direct convolution on this machine: a grid of float32 3x3
stride-1 'same' layers (channels, spatial size, batch; 2-D and 3-D), each timed by
`convnd bench` with the direct algorithm (padded_igemm) and every Winograd variant forced,
2 threads, both layouts. Prints one markdown row per layer with the times and the winner; the
rule in src/algo/winograd_crossover.cc is fitted to this table (docs/winograd.md).

    scripts/winograd_crossover.py [--convnd build/tools/convnd] [--quick] [--pass bwd_weights]

With --pass bwd_weights the weight gradient: bwd_weights_as_fwd against the F(3, m) variants.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

VARIANTS = ["padded_igemm", "winograd_f2", "winograd_f4", "winograd_f6"]
WEIGHT_VARIANTS = ["bwd_weights_as_fwd", "winograd_wgrad_f2", "winograd_wgrad_f4"]


def grid(quick, pass_):
    channels = [16, 32, 64, 128, 256, 512]
    sizes = [7, 14, 28, 56]
    batches = [1, 8]
    if quick:
        channels, sizes, batches = [32, 128], [14, 28], [1]
    cases = []
    for c in channels:
        for s in sizes:
            for n in batches:
                if c * c * s * s * n > 512 * 512 * 28 * 28:  # keep each timing short
                    continue
                cases.append({"name": f"n{n}_c{c}_s{s}", "N": n, "C": c, "K": c,
                              "spatial": [s, s], "kernel": [3, 3], "stride": [1, 1],
                              "padding": [1, 1], "dilation": [1, 1], "groups": 1,
                              "passes": [pass_]})
    for c in ([16, 32, 64] if not quick else [32]):
        for s in ([8, 16, 32] if not quick else [16]):
            cases.append({"name": f"n1_c{c}_s{s}^3", "N": 1, "C": c, "K": c,
                          "spatial": [s, s, s], "kernel": [3, 3, 3], "stride": [1, 1, 1],
                          "padding": [1, 1, 1], "dilation": [1, 1, 1], "groups": 1,
                          "passes": [pass_]})
    return cases


def run(convnd, suite, algorithm, rank):
    if algorithm == "winograd_f6" and rank == 3:
        return {}
    env = dict(os.environ, CONVND_ALGO=algorithm)
    out = subprocess.run([convnd, "bench", "--suite", suite, "--no-peer", "--threads", "2",
                          "--format", "json", "--min-time", "0.2"],
                         env=env, check=True, capture_output=True, text=True).stdout
    return {(r["case"], r["layout"]): r["ms"] for r in json.loads(out)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convnd", default="build/tools/convnd")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--pass", dest="pass_", default="fwd", choices=["fwd", "bwd_weights"])
    args = ap.parse_args()
    variants = VARIANTS if args.pass_ == "fwd" else WEIGHT_VARIANTS
    cases = grid(args.quick, args.pass_)
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rank in (2, 3):
            sub = [c for c in cases if len(c["spatial"]) == rank]
            path = os.path.join(tmp, f"grid{rank}.json")
            with open(path, "w") as f:
                json.dump({"cases": sub}, f)
            for v in variants:
                for key, ms in run(args.convnd, path, v, rank).items():
                    times.setdefault(key, {})[v] = ms
                print(f"  measured {v} for rank {rank}", file=sys.stderr)
    print("| layer | layout | " + " | ".join(f"{v} ms" for v in variants) + " | best | vs direct |")
    print("|---|---|" + "---:|" * (len(variants) + 2))
    for (name, layout), t in times.items():
        best = min(t, key=t.get)
        cells = " | ".join(f"{t[v]:.3f}" if v in t else "-" for v in variants)
        print(f"| {name} | {layout} | {cells} | {best} | {t[variants[0]] / t[best]:.2f}x |")


if __name__ == "__main__":
    main()
