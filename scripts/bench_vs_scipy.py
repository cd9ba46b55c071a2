#!/usr/bin/env python3
"""Time convnd.ndimage / convnd.signal against scipy on the calls of the scipy issue's
targets, in one process, and print a table of medians and ratios.

    PYTHONPATH=build/python /usr/bin/python3 scripts/bench_vs_scipy.py [--repeats 7]
        [--dask] [--format markdown|json]

Each row runs convnd's call and scipy's alternately `repeats` times (after one warm-up
each) and reports the medians; ratio = scipy / convnd (above 1: convnd is faster). Both
results are compared first (max |difference| / max |scipy|), so only equal results are
timed. --dask adds the 4k x 4k image through convnd.dask.ndimage.gaussian_filter on a
dask.distributed LocalCluster, checked equal to the in-memory result (timed, no scipy row).
Timings on a shared machine vary: compare the ratios of one run, and medians of runs.
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

try:
    import scipy.ndimage as snd
    import scipy.signal as ssig
except ImportError:
    sys.exit("bench_vs_scipy: needs scipy (Debian: python3-scipy)")

import convnd
from convnd import _fft
from convnd import ndimage as cnd
from convnd import signal as csig


def cases(rng):
    img512 = rng.standard_normal((512, 512)).astype(np.float32)
    k31 = rng.standard_normal((31, 31)).astype(np.float32)
    k7 = rng.standard_normal((7, 7)).astype(np.float32)
    img2k = rng.standard_normal((2000, 1500)).astype(np.float32)
    vol = rng.standard_normal((128, 128, 128)).astype(np.float32)
    k5 = rng.standard_normal((5, 5, 5)).astype(np.float32)
    return [
        ("512x512 f32, 31x31, fftconvolve 'same'",
         lambda: csig.fftconvolve(img512, k31, mode="same"),
         lambda: ssig.fftconvolve(img512, k31, mode="same")),
        ("512x512 f32, 31x31, convolve 'same' auto (vs scipy fftconvolve)",
         lambda: csig.convolve(img512, k31, mode="same"),
         lambda: ssig.fftconvolve(img512, k31, mode="same")),
        ("512x512 f32, 31x31, oaconvolve 'same'",
         lambda: csig.oaconvolve(img512, k31, mode="same"),
         lambda: ssig.oaconvolve(img512, k31, mode="same")),
        ("512x512 f32, 7x7 'reflect', ndimage.correlate",
         lambda: cnd.correlate(img512, k7, mode="reflect"),
         lambda: snd.correlate(img512, k7, mode="reflect")),
        ("2000x1500 f32, gaussian_filter sigma 5",
         lambda: cnd.gaussian_filter(img2k, 5),
         lambda: snd.gaussian_filter(img2k, 5)),
        ("128^3 f32, 5x5x5, ndimage.correlate",
         lambda: cnd.correlate(vol, k5),
         lambda: snd.correlate(vol, k5)),
    ]


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench_row(name, ours, theirs, repeats):
    a, b = ours(), theirs()  # warm-up, and the check that both compute the same thing
    err = float(np.abs(a.astype(np.float64) - b).max() / max(np.abs(b).max(), 1e-300))
    ts_ours, ts_theirs = [], []
    for _ in range(repeats):
        ts_ours.append(timed(ours))
        ts_theirs.append(timed(theirs))
    mo, mt = statistics.median(ts_ours), statistics.median(ts_theirs)
    return dict(case=name, convnd_ms=mo * 1e3, scipy_ms=mt * 1e3, ratio=mt / mo, rel_err=err)


def dask_row(rng, repeats):
    import dask.array as da
    import distributed
    import convnd.dask
    x = rng.standard_normal((4096, 4096)).astype(np.float32)
    want = cnd.gaussian_filter(x, 5)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        lazy = convnd.dask.ndimage.gaussian_filter(da.from_array(x, chunks=1024), 5)
        got = lazy.compute()
        ts = [timed(lazy.compute) for _ in range(max(1, repeats // 2))]
    err = float(np.abs(got - want).max() / np.abs(want).max())
    return dict(case="4096x4096 f32 gaussian sigma 5, convnd.dask.ndimage on a LocalCluster "
                     "(2 workers), 1024^2 chunks, vs in-memory",
                convnd_ms=statistics.median(ts) * 1e3, scipy_ms=float("nan"),
                ratio=float("nan"), rel_err=err)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--dask", action="store_true")
    ap.add_argument("--format", choices=["markdown", "json"], default="markdown")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = [bench_row(name, o, t, args.repeats) for name, o, t in cases(rng)]
    if args.dask:
        rows.append(dask_row(rng, args.repeats))
    if args.format == "json":
        print(json.dumps(rows, indent=1))
        return
    print(f"convnd {convnd.__version__}, FFT backend {_fft.backend()}, {os.cpu_count()} CPUs, "
          f"median of {args.repeats}")
    print()
    print("| case | convnd ms | scipy ms | scipy / convnd | max rel. diff |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['case']} | {r['convnd_ms']:.2f} | {r['scipy_ms']:.2f} | "
              f"{r['ratio']:.2f}x | {r['rel_err']:.1e} |")


if __name__ == "__main__":
    main()
