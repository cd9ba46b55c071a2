#!/usr/bin/env python3
"""Measures the error of the core's `fft` algorithm against a float64 reference, on the data
kinds of scripts/winograd_error.py (random and adversarial float32 inputs), with the same
measure max |y - y_exact| / max (sum of |x w|) that Plan.error_bound bounds, and prints it next
to direct summation's error and the plan's stated bound (a markdown table).

    PYTHONPATH=build/python /usr/bin/python3 scripts/fft_error.py
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import winograd_error as we  # noqa: E402  (data kinds and the error measure)

CASES = [((1, 1, 128, 128), (1, 1, 31, 31)), ((1, 4, 48, 48), (4, 4, 9, 9)),
         ((1, 1, 8192), (1, 1, 255)), ((1, 2, 20, 20, 20), (2, 2, 5, 5, 5))]


def main():
    rng = np.random.default_rng(1)
    print("| x | w | " + " | ".join(we.KINDS) + " | direct (normal) | stated bound |")
    print("|---|---|" + "---:|" * (len(we.KINDS) + 2))
    for xs, ws in CASES:
        errs = []
        for kind in we.KINDS:
            x, w = we.data(kind, xs, rng), we.data(kind, ws, rng)
            errs.append(we.scaled_error(x, w, "fft"))
        x, w = we.data("normal", xs, rng), we.data("normal", ws, rng)
        direct = we.scaled_error(x, w, "direct")
        bound = we.plan_bound(x, w, "fft")
        worst = max(errs)
        assert worst <= bound, f"{xs} * {ws}: error {worst} above the stated bound {bound}"
        print(f"| {xs} | {ws} | " + " | ".join(f"{e:.1e}" for e in errs) +
              f" | {direct:.1e} | {bound:.1e} |")


if __name__ == "__main__":
    main()
