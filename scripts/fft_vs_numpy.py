#!/usr/bin/env python3
"""Times convnd's FFT transforms (build/bench/kernel_bench, the Fft benchmarks) against numpy.fft
(pocketfft, one thread) on the same float32 arrays: 16 real rows of length L (numpy.fft.rfft
along the rows) and a complex transform of length n over 256 columns (numpy.fft.fft along axis
0). Prints a markdown table of microseconds per transform.

    /usr/bin/python3 scripts/fft_vs_numpy.py [--kernel-bench build/bench/kernel_bench]
"""
import argparse
import json
import subprocess
import timeit

import numpy as np


def numpy_us(fn, count):
    t = timeit.Timer(fn)
    n, _ = t.autorange()
    best = min(t.repeat(5, n)) / n
    return best / count * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel-bench", default="build/bench/kernel_bench")
    args = ap.parse_args()
    out = subprocess.run([args.kernel_bench, "--benchmark_filter=Fft", "--benchmark_format=json",
                          "--benchmark_min_time=0.3"],
                         check=True, capture_output=True, text=True).stdout
    ours = {}
    for b in json.loads(out)["benchmarks"]:
        ours[b["name"]] = 1e6 / b["items_per_second"]
    print("| transform | convnd us | numpy.fft us | ratio |")
    print("|---|---:|---:|---:|")
    for name, us in ours.items():
        kind, arg = name.split("/")
        n = int(arg)
        if kind == "BM_FftReal16Rows":
            x = np.random.rand(16, n).astype(np.float32)
            ref = numpy_us(lambda: np.fft.rfft(x, axis=1), 16)
            label = f"real, length {n} (16 rows)"
        else:
            x = (np.random.rand(n, 256) + 1j * np.random.rand(n, 256)).astype(np.complex64)
            ref = numpy_us(lambda: np.fft.fft(x, axis=0), 256)
            label = f"complex, length {n} (256 columns)"
        print(f"| {label} | {us:.3f} | {ref:.3f} | {ref / us:.1f}x |")


if __name__ == "__main__":
    main()
