#!/usr/bin/env python3
"""Times the Python API as users call it against torch.nn.functional, on the benchmark suite.

Every row of bench/suite.json (or --suite FILE), every pass it lists, in both layouts, in one
process: convnd.conv / conv_transpose / conv_backward_data / conv_backward_weight (a fresh Plan
per call, new weights every call: a one-off call, as in training) beside PyTorch's
torch.nn.functional.conv{1,2,3}d / conv_transpose{1,2,3}d and, for the gradients, the
aten::convolution_backward that autograd runs. PyTorch runs channels-first (contiguous) and
channels-last (torch.channels_last / channels_last_3d; 1-D has none); the ratio columns are
PyTorch's time over convnd's, against the same layout and against PyTorch's faster layout.

    PYTHONPATH=build/python /usr/bin/python3 scripts/bench_vs_torch.py [--threads 2]
        [--case NAME ...] [--pass fwd|bwd_data|bwd_weights] [--min-time 0.2] [--markdown]
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def filled(shape, sign=1.0):
    n = int(np.prod(shape))
    return (sign * ((np.arange(n) % 17) - 8) / 8).astype(np.float32).reshape(shape)


def median_ms(fn, min_time, min_runs=5, max_runs=100):
    fn()
    times, total = [], 0.0
    while len(times) < max_runs:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        times.append(dt * 1e3)
        total += dt
        if len(times) >= min_runs and total >= min_time:
            break
    return statistics.median(times)


def to_last(a):
    """(N, C, S..) -> (N, S.., C), contiguous."""
    return np.ascontiguousarray(np.moveaxis(a, 1, -1))


class Row:
    def __init__(self, case, pass_, layout):
        self.case, self.pass_, self.layout = case, pass_, layout
        self.convnd_ms = None
        self.torch_ms = {}  # layout -> ms
        self.flops = 0.0


def flops(c, out_spatial):
    big = c["spatial"] if c.get("transposed") else out_spatial
    f = 2.0 * c["N"] * c["C"] * c["K"] / c.get("groups", 1)
    for e in list(big) + list(c["kernel"]):
        f *= e
    return f


def run_case(c, pass_, args, convnd, torch, F):
    d = len(c["spatial"])
    N, C, K, G = c["N"], c["C"], c["K"], c.get("groups", 1)
    kw = dict(stride=tuple(c.get("stride", [1] * d)), padding=tuple(c.get("padding", [0] * d)),
              dilation=tuple(c.get("dilation", [1] * d)), groups=G)
    transposed = c.get("transposed", False)
    x = filled((N, C, *c["spatial"]))
    w_shape = (C, K // G, *c["kernel"]) if transposed else (K, C // G, *c["kernel"])
    ws = [filled(w_shape), filled(w_shape, -1.0)]  # new weights every call: two, alternated
    flip = [0]

    def next_w():
        flip[0] ^= 1
        return ws[flip[0]]

    if transposed:
        y_shape = convnd.output_shape(x.shape, w_shape, transposed=True, **kw)
    else:
        y_shape = convnd.output_shape(x.shape, w_shape, **kw)
    dy = filled(y_shape)
    rows = []
    tconv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[d]
    tconvt = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[d]
    fmts = {2: torch.channels_last, 3: torch.channels_last_3d}

    for layout in ("channels_first", "channels_last"):
        r = Row(c["name"], pass_, layout)
        r.flops = flops(c, y_shape[2:])
        cl = layout == "channels_last"
        xl, dyl = (to_last(x), to_last(dy)) if cl else (x, dy)
        common = dict(kw, layout=layout, threads=args.threads)
        if pass_ == "fwd" and transposed:
            fn = lambda: convnd.conv_transpose(xl, next_w(), **common)  # noqa: E731
        elif pass_ == "fwd":
            fn = lambda: convnd.conv(xl, next_w(), **common)  # noqa: E731
        elif pass_ == "bwd_data":
            fn = lambda: convnd.conv_backward_data(dyl, next_w(), xl.shape, **common)  # noqa: E731
        else:
            fn = lambda: convnd.conv_backward_weight(xl, dyl, w_shape, **common)  # noqa: E731
        r.convnd_ms = median_ms(fn, args.min_time)

        # PyTorch in this row's layout (channels-last only where torch has one: 2-D, 3-D).
        if cl and d not in fmts:
            rows.append(r)
            continue
        fmt = fmts[d] if cl else torch.contiguous_format
        tx = torch.from_numpy(x).contiguous(memory_format=fmt)
        tdy = torch.from_numpy(dy).contiguous(memory_format=fmt)
        tws = [torch.from_numpy(w).contiguous(memory_format=fmt) for w in ws]
        tflip = [0]

        def tw():
            tflip[0] ^= 1
            return tws[tflip[0]]

        s, p, dil = list(kw["stride"]), list(kw["padding"]), list(kw["dilation"])
        with torch.no_grad():
            if pass_ == "fwd" and transposed:
                tfn = lambda: tconvt(tx, tw(), stride=s, padding=p, dilation=dil, groups=G)  # noqa: E731
            elif pass_ == "fwd":
                tfn = lambda: tconv(tx, tw(), stride=s, padding=p, dilation=dil, groups=G)  # noqa: E731
            else:
                mask = [True, False, False] if pass_ == "bwd_data" else [False, True, False]
                tfn = lambda: torch.ops.aten.convolution_backward(  # noqa: E731
                    tdy, tx, tw(), None, s, p, dil, False, [0] * d, G, mask)
            r.torch_ms[layout] = median_ms(tfn, args.min_time)
        rows.append(r)
    # Each row is compared with PyTorch in both of its layouts.
    both = {}
    for r in rows:
        both.update(r.torch_ms)
    for r in rows:
        r.torch_all = dict(both)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--suite", default=os.path.join(HERE, "..", "bench", "suite.json"))
    ap.add_argument("--case", action="append", default=[])
    ap.add_argument("--pass", dest="pass_", choices=["fwd", "bwd_data", "bwd_weights"])
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--min-time", type=float, default=0.2)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args()

    import torch
    import torch.nn.functional as F

    import convnd

    torch.set_num_threads(args.threads)
    cases = json.load(open(args.suite))["cases"]
    if args.case:
        names = {c["name"] for c in cases}
        for n in args.case:
            if n not in names:
                sys.exit(f"no case named {n!r} in {args.suite}")
        cases = [c for c in cases if c["name"] in args.case]
    rows = []
    for c in cases:
        for p in c.get("passes", ["fwd"]):
            if args.pass_ and p != args.pass_:
                continue
            print(f"\r{c['name']:20} {p:12}", end="", file=sys.stderr, flush=True)
            rows.extend(run_case(c, p, args, convnd, torch, F))
    print("\r" + " " * 40 + "\r", end="", file=sys.stderr)

    print(f"# convnd {convnd.__version__ if hasattr(convnd, '__version__') else ''} vs PyTorch "
          f"{torch.__version__}, {args.threads} threads, float32, one-off calls (new weights "
          f"every call); ratio = PyTorch ms / convnd ms\n")
    head = ["case", "pass", "layout", "convnd ms", "GFLOP/s", "torch ms (same layout)",
            "torch best ms", "vs same", "vs best"]
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|---|---|---|" + "---:|" * (len(head) - 3))
    else:
        print(f"{'case':20}{'pass':12}{'layout':16}{'convnd ms':>10}{'GFLOP/s':>9}"
              f"{'torch ms':>10}{'best ms':>10}{'vs same':>9}{'vs best':>9}")
    best_ratios, same_ratios, out = [], [], []
    for r in rows:
        same = r.torch_ms.get(r.layout)
        best = min(r.torch_all.values()) if r.torch_all else None
        gf = r.flops / (r.convnd_ms * 1e6)
        vs_same = same / r.convnd_ms if same else None
        vs_best = best / r.convnd_ms if best else None
        if vs_same:
            same_ratios.append(vs_same)
        if vs_best:
            best_ratios.append(vs_best)
        f = lambda v, n=3: "-" if v is None else f"{v:.{n}f}"  # noqa: E731
        cells = [r.case, r.pass_, r.layout, f(r.convnd_ms), f(gf, 1), f(same), f(best),
                 f(vs_same, 2), f(vs_best, 2)]
        if args.markdown:
            print("| " + " | ".join(cells) + " |")
        else:
            print(f"{cells[0]:20}{cells[1]:12}{cells[2]:16}{cells[3]:>10}{cells[4]:>9}"
                  f"{cells[5]:>10}{cells[6]:>10}{cells[7]:>9}{cells[8]:>9}")
        out.append(dict(case=r.case, pass_=r.pass_, layout=r.layout, convnd_ms=r.convnd_ms,
                        torch_ms=r.torch_ms, torch_best_ms=best))

    def gm(v):
        return math.exp(sum(map(math.log, v)) / len(v)) if v else float("nan")

    print(f"\ngeomean vs PyTorch's faster layout: {gm(best_ratios):.2f}x "
          f"(lowest {min(best_ratios):.2f}x), vs the same layout: {gm(same_ratios):.2f}x, "
          f"over {len(rows)} case-pass-layouts")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
