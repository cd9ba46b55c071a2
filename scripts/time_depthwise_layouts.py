#!/usr/bin/python3
"""Times depthwise convolutions over few channels in both layouts (issue 16's image cliff).

Each case runs convnd.conv on the same data channels-first and channels-last and prints the
median of --repeats timed calls (after one warm-up) and the ratio of the two layouts. Run from
the repository root after a build:

    PYTHONPATH=build/python /usr/bin/python3 scripts/time_depthwise_layouts.py

The default cases: an RGB image (1, 750, 1000, 3) with an 11x11 kernel, groups 3, reflect
'same' (the case of the issue), and 224x224 images with C 1, 4 and 8 and a 5x5 kernel. Then
`convnd filter --kernel gaussian:10`'s work on a 2000x1500 RGB image (a 61x1 and a 1x61
depthwise pass, channels-last) beside PIL's GaussianBlur(10) on the same image, when PIL is
installed. --clock cpu measures process CPU time instead of wall time (with --threads 1, a
fairer measure on a machine that other processes keep busy).
"""
import argparse
import statistics
import time

import numpy as np

import convnd

CASES = [
    # (name, C, (H, W), kernel, padding mode)
    ("rgb750x1000_k11_reflect", 3, (750, 1000), 11, "reflect"),
    ("c1_224_k5_zeros", 1, (224, 224), 5, "zeros"),
    ("c4_224_k5_reflect", 4, (224, 224), 5, "reflect"),
    ("c8_224_k5_zeros", 8, (224, 224), 5, "zeros"),
]


def median_seconds(fn, repeats, clock=time.perf_counter):
    fn()
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = ap.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    rng = np.random.default_rng(0)
    print(f"{'case':28s} {'first ms':>10s} {'last ms':>10s} {'last/first':>10s}")
    for name, c, hw, k, mode in CASES:
        x_first = rng.standard_normal((1, c) + hw).astype(np.float32)
        x_last = np.ascontiguousarray(np.moveaxis(x_first, 1, -1))
        w = rng.standard_normal((c, 1, k, k)).astype(np.float32)
        kw = dict(groups=c, padding="same", padding_mode=mode, threads=args.threads)
        t_first = median_seconds(lambda: convnd.conv(x_first, w, **kw), args.repeats, clock)
        t_last = median_seconds(
            lambda: convnd.conv(x_last, w, layout="channels_last", **kw), args.repeats, clock)
        y_first = convnd.conv(x_first, w, **kw)
        y_last = convnd.conv(x_last, w, layout="channels_last", **kw)
        assert np.allclose(np.moveaxis(y_last, -1, 1), y_first, rtol=1e-4, atol=1e-4), name
        print(f"{name:28s} {t_first * 1e3:10.2f} {t_last * 1e3:10.2f} {t_last / t_first:10.2f}")
    gaussian_vs_pil(rng, args, clock)


def gaussian_vs_pil(rng, args, clock):
    """The filter command's two passes for gaussian:10 (radius 30) against PIL's blur."""
    sigma, r = 10.0, 30
    g = np.exp(-np.arange(-r, r + 1) ** 2 / (2 * sigma ** 2))
    g = (g / g.sum()).astype(np.float32)
    img = rng.integers(0, 256, (1500, 2000, 3), dtype=np.uint8)
    x = img[None].astype(np.float32)
    w_col = np.tile(g.reshape(1, 1, -1, 1), (3, 1, 1, 1))
    w_row = np.tile(g.reshape(1, 1, 1, -1), (3, 1, 1, 1))
    kw = dict(groups=3, padding="same", padding_mode="reflect", layout="channels_last",
              threads=args.threads)

    def separable():
        convnd.conv(convnd.conv(x, w_col, **kw), w_row, **kw)

    t_convnd = median_seconds(separable, args.repeats, clock)
    print(f"gaussian:10 on 2000x1500 RGB, convnd (61x1 + 1x61): {t_convnd * 1e3:.1f} ms")
    try:
        from PIL import Image, ImageFilter
    except ImportError:
        return
    im = Image.fromarray(img)
    t_pil = median_seconds(lambda: im.filter(ImageFilter.GaussianBlur(10)), args.repeats, clock)
    print(f"gaussian:10 on 2000x1500 RGB, PIL GaussianBlur(10): {t_pil * 1e3:.1f} ms "
          f"(convnd / PIL {t_convnd / t_pil:.2f})")


if __name__ == "__main__":
    main()
