#!/usr/bin/env python3
"""Measures the error of every Winograd variant (and of direct summation, for scale) against a
float64 reference, over random and adversarial float32 inputs, per rank and channel count.

The measure is the one Plan.error_bound bounds:
    max |y - y_exact| / max (sum over the reduction of |x w|)
(for --pass backward_weight: of dw, whose reduction runs over the batch and output positions
of x and grad_out).
i.e. the error relative to the largest magnitude the sums can reach, which does not blow up
when an output happens to cancel to ~0. Prints a markdown table (docs/winograd.md).

    PYTHONPATH=build/python /usr/bin/python3 scripts/winograd_error.py [--trials 3]
        [--pass forward|backward_weight]
"""
import argparse

import numpy as np

import convnd

ALGORITHMS = ["direct", "winograd_f2", "winograd_f4", "winograd_f6"]  # direct: precision highest
WEIGHT_ALGORITHMS = ["direct", "winograd_wgrad_f2", "winograd_wgrad_f4"]


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


PASS = "forward"


def run(a, b, algorithm, dtype_shape_w=None):
    """forward: conv(a = x, b = w); backward_weight: dw of x = a, grad_out = b."""
    kw = dict(padding=1)
    if algorithm == "direct":
        kw["precision"] = "highest"
    elif algorithm is not None:
        kw["algorithm"] = algorithm
    if PASS == "forward":
        return convnd.conv(a, b, **kw)
    return convnd.conv_backward_weight(a, b, dtype_shape_w, **kw)


def scaled_error(x, w, algorithm):
    """Error of `algorithm` on x and w (forward) or x and grad_out w (backward_weight)."""
    wshape = None if PASS == "forward" else (w.shape[1], x.shape[1]) + (3,) * (x.ndim - 2)
    y = run(x, w, algorithm, wshape)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    exact = run(x64, w64, "reference", wshape)
    scale = run(np.abs(x64), np.abs(w64), "reference", wshape)
    return float(np.max(np.abs(y - exact)) / np.max(scale))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=2)
    ap.add_argument("--pass", dest="pass_", default="forward",
                    choices=["forward", "backward_weight"])
    args = ap.parse_args()
    global PASS, ALGORITHMS
    PASS = args.pass_
    if PASS == "backward_weight":
        ALGORITHMS = WEIGHT_ALGORITHMS
    rng = np.random.default_rng(20261201)
    configs = [(1, 64, (257,)), (1, 512, (61,)), (2, 16, (19, 17)), (2, 64, (17, 18)),
               (2, 256, (13, 12)), (2, 512, (9, 9)), (3, 16, (7, 9, 8)), (3, 64, (6, 7, 6))]
    worst, ratio, used = {}, {}, {}
    for rank, c, size in configs:
        for kind in KINDS:
            for _ in range(args.trials):
                x = data(kind, (2, c) + size, rng)
                if PASS == "forward":
                    w = data("normal" if kind == "offset" else kind, (8, c) + (3,) * rank, rng)
                else:  # grad_out, the shape of y
                    w = data("normal" if kind == "offset" else kind, (2, 16) + size, rng)
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
    if PASS == "forward":
        wshape, op = w.shape, "forward"
    else:
        wshape, op = (w.shape[1], x.shape[1]) + (3,) * (x.ndim - 2), "backward_weight"
    plan = convnd.Plan(x.shape, wshape, op=op, padding=1,
                       algorithm=None if algorithm == "direct" else algorithm,
                       precision="highest" if algorithm == "direct" else "standard")
    return plan.error_bound


if __name__ == "__main__":
    main()
