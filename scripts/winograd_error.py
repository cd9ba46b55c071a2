#!/usr/bin/env python3
"""Measures the error of every Winograd variant (and of direct summation, for scale) against a
float64 reference, over random and adversarial float32 inputs, per rank and channel count.

The measure is the one Plan.error_bound bounds:
    max |y - y_exact| / max (sum over the reduction of |x w|)
i.e. the error relative to the largest magnitude the sums can reach, which does not blow up
when an output happens to cancel to ~0. Prints a markdown table (docs/winograd.md).

    PYTHONPATH=build/python /usr/bin/python3 scripts/winograd_error.py [--trials 3]
"""
import argparse

import numpy as np

import convnd

ALGORITHMS = ["direct", "winograd_f2", "winograd_f4", "winograd_f6"]  # direct: precision highest


def data(kind, shape, rng):
    if kind == "uniform":
        v = rng.uniform(-1, 1, shape)
    elif kind == "normal":
        v = rng.standard_normal(shape)
    elif kind == "log-magnitude":  # magnitudes 2^-8..2^8, random signs
        v = np.sign(rng.uniform(-1, 1, shape)) * np.exp2(rng.uniform(-8, 8, shape))
    elif kind == "offset":  # a large common value: the transforms' differences cancel it
        v = 1000.0 + rng.uniform(-1, 1, shape)
    elif kind == "relu":  # non-negative activations with many exact zeros
        v = np.maximum(rng.standard_normal(shape), 0)
    elif kind == "alternating":  # +-1 checkerboard of large values: worst case for BT's sums
        idx = np.indices(shape).sum(axis=0)
        v = np.where(idx % 2 == 0, 1.0, -1.0) * rng.uniform(100, 1000, shape)
    else:
        raise ValueError(kind)
    return v.astype(np.float32)


KINDS = ["uniform", "normal", "log-magnitude", "offset", "relu", "alternating"]


def scaled_error(x, w, algorithm):
    if algorithm == "direct":
        y = convnd.conv(x, w, padding=1, precision="highest")
    else:
        y = convnd.conv(x, w, padding=1, algorithm=algorithm)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    exact = convnd.conv(x64, w64, padding=1, algorithm="reference")
    scale = convnd.conv(np.abs(x64), np.abs(w64), padding=1, algorithm="reference")
    return float(np.max(np.abs(y - exact)) / np.max(scale))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=2)
    args = ap.parse_args()
    rng = np.random.default_rng(20261201)
    configs = [(1, 64, (257,)), (1, 512, (61,)), (2, 16, (19, 17)), (2, 64, (17, 18)),
               (2, 256, (13, 12)), (2, 512, (9, 9)), (3, 16, (7, 9, 8)), (3, 64, (6, 7, 6))]
    worst, ratio, used = {}, {}, {}
    for rank, c, size in configs:
        for kind in KINDS:
            for _ in range(args.trials):
                x = data(kind, (2, c) + size, rng)
                w = data("normal" if kind == "offset" else kind, (8, c) + (3,) * rank, rng)
                direct = scaled_error(x, w, "direct")
                for a in ALGORITHMS:
                    if a == "winograd_f6" and rank == 3:
                        continue
                    e = direct if a == "direct" else scaled_error(x, w, a)
                    bound = plan_bound(x, w, a)
                    key = (a, rank)
                    row = worst.setdefault(key, {})
                    row[kind] = max(row.get(kind, 0.0), e)
                    used[key] = max(used.get(key, 0.0), e / bound)
                    ratio[key] = max(ratio.get(key, 0.0), e / direct)
    print("| algorithm | rank | " + " | ".join(KINDS) +
          " | max error | max error / Plan.error_bound | max error / direct's |")
    print("|---|---:|" + "---:|" * (len(KINDS) + 3))
    for (a, rank), row in sorted(worst.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        m = max(row[k] for k in KINDS)
        cells = " | ".join(f"{row[k]:.2e}" for k in KINDS)
        print(f"| {a} | {rank} | {cells} | {m:.2e} | {used[(a, rank)]:.3f} | "
              f"{ratio[(a, rank)]:.2f} |")


def plan_bound(x, w, algorithm):
    plan = convnd.Plan(x.shape, w.shape, padding=1,
                       algorithm=None if algorithm == "direct" else algorithm,
                       precision="highest" if algorithm == "direct" else "standard")
    return plan.error_bound


if __name__ == "__main__":
    main()
