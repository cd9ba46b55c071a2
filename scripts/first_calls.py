"""CPU time of each of the first runs of one layer in a fresh process.

The first runs of a layer used to pay for fresh workspace pages (a fault and a zeroing per
page on first touch); runs now reuse one workspace per calling thread, so only the very first
run is slower. CPU time rather than wall time, so that a busy machine blurs it less.

    PYTHONPATH=build/python /usr/bin/python3 scripts/first_calls.py [--plan] [--threads N]
"""

import argparse
import time

import numpy as np

import convnd


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plan", action="store_true", help="a reused Plan with out= (else convnd.conv)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    x = np.random.default_rng(0).random((1, 64, 56, 56), dtype=np.float32)
    w = np.random.default_rng(1).random((64, 64, 3, 3), dtype=np.float32)
    if a.plan:
        plan = convnd.Plan(x.shape, w.shape, padding=1, threads=a.threads)
        out = np.empty(plan.output_shape, np.float32)
        run = lambda: plan(x, w, out=out)  # noqa: E731
    else:
        run = lambda: convnd.conv(x, w, padding=1, threads=a.threads)  # noqa: E731
    times = []
    for _ in range(a.runs):
        t0 = time.process_time()
        run()
        times.append((time.process_time() - t0) * 1e3)
    print("ms per run:", " ".join(f"{t:.1f}" for t in times))


if __name__ == "__main__":
    main()
