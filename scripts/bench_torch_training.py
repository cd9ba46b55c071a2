#!/usr/bin/env python3
"""A training step of small 3-D and 2-D networks, convnd.torch layers against torch's own.

    PYTHONPATH=build/python /usr/bin/python3 scripts/bench_torch_training.py [--reps 15]
        [--threads 2] [--clock wall|cpu] [--nets unet3d,resnet2d] [--format markdown|text]
        [--thread-source openmp|pool]

Each network is built once with torch.nn layers and once with the same layers converted by
convnd.torch.from_torch (the same weights), in both memory formats (contiguous and
channels_last), and one training step (forward, loss, backward with the gradients of every
weight and bias and of the inner activations, SGD update) of each variant is timed in turn, in
one process, so that both see the same machine. The table gives the median time per step and
the ratio torch / convnd (above 1: convnd faster). Both libraries run `--threads` threads
(torch.set_num_threads; convnd.torch follows it). `--clock cpu` times by the process's CPU
time instead of the wall clock: with `--threads 1` that is the work done, whatever else the
machine runs (use it on a shared, busy machine).

Then the per-layer view of the 3-D network's middle layer (N 2, C 16, K 16, 24^3, 3x3x3):
forward, and the weight and input gradients, convnd against torch; and the wrapper's own cost:
convnd.torch.conv against a reused convnd.Plan called on NumPy views of the same tensors
(the least any caller of the NumPy API can pay), and against convnd.conv (the NumPy API,
which plans every call).
"""

import argparse
import copy
import os
import statistics
import sys
import time

import numpy as np
import torch

import convnd
import convnd.torch as ct


def unet3d_block():
    """A 3-D U-Net encoder level with a decoder-side output: 8 -> 16 -> 16 -> 8 channels."""
    return torch.nn.Sequential(
        torch.nn.Conv3d(8, 16, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv3d(16, 16, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv3d(16, 8, 3, padding=1))


def resnet2d_block():
    """A 2-D residual-network stage: 16 -> 32 -> 32 -> 16 channels, 3x3."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(32, 32, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(32, 16, 3, padding=1))


NETS = {
    # name: (builder, input shape, memory format of channels_last)
    "unet3d": (unet3d_block, (2, 8, 24, 24, 24), torch.channels_last_3d),
    "resnet2d": (resnet2d_block, (4, 16, 56, 56), torch.channels_last),
}


def to_convnd(net):
    """The same network with every torch convolution replaced by convnd's (same weights)."""
    return torch.nn.Sequential(*[ct.from_torch(m) if isinstance(m, torch.nn.modules.conv._ConvNd)
                                 else m for m in net])


def make_step(net, x, target):
    opt = torch.optim.SGD(net.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(net(x), target)
        loss.backward()
        opt.step()
    return step


CLOCK = time.perf_counter


def median_times(fns, reps, inner=1):
    """Median seconds per call of each function, timed in turn (interleaved), after a warm-up."""
    for f in fns.values():
        f()
    samples = {name: [] for name in fns}
    for _ in range(reps):
        for name, f in fns.items():
            t = CLOCK()
            for _ in range(inner):
                f()
            samples[name].append((CLOCK() - t) / inner)
    return {name: statistics.median(s) for name, s in samples.items()}


def bench_nets(names, reps):
    rows = []
    for name in names:
        build, shape, channels_last = NETS[name]
        torch.manual_seed(0)
        theirs = build()
        fns = {}
        for fmt_name, fmt in (("contiguous", torch.contiguous_format),
                              ("channels_last", channels_last)):
            x = torch.randn(shape).to(memory_format=fmt).requires_grad_(True)
            target = torch.randn(shape).to(memory_format=fmt)
            # Module.to converts in place: a copy per format, weights in that format too
            a = copy.deepcopy(theirs).to(memory_format=fmt)
            b = to_convnd(theirs).to(memory_format=fmt)
            fns[(fmt_name, "torch")] = make_step(a, x, target)
            fns[(fmt_name, "convnd")] = make_step(b, x, target)
        times = median_times(fns, reps)
        for fmt_name in ("contiguous", "channels_last"):
            t_torch, t_ours = times[(fmt_name, "torch")], times[(fmt_name, "convnd")]
            rows.append((f"{name} {tuple(shape)}", fmt_name, t_torch * 1e3, t_ours * 1e3,
                         t_torch / t_ours))
    return rows


def bench_layer(reps):
    """N 2, C 16, K 16, 24^3, 3x3x3, padding 1: forward, weight and input gradients."""
    torch.manual_seed(0)
    x = torch.randn(2, 16, 24, 24, 24, requires_grad=True)
    w = torch.randn(16, 16, 3, 3, 3, requires_grad=True)
    b = torch.randn(16, requires_grad=True)
    # The weight-gradient row uses an input that does not require grad, as a first layer sees:
    # torch's engine skips the input gradient of a native convolution whenever the caller does
    # not ask for it, but a custom autograd.Function only learns which inputs require grad, so
    # with x requiring grad convnd.torch would compute dx too and the row would time unequal work.
    x_const = x.detach()
    rows = []
    for pass_name, inp, wrt in (("forward", x, None), ("forward + weight grad", x_const, (w, b)),
                                ("forward + weight and input grads", x, (x, w, b))):
        def run(fn, inp=inp, wrt=wrt):
            y = fn(inp, w, b, padding=1)
            if wrt is not None:
                torch.autograd.grad(y, wrt, torch.ones_like(y))
        with torch.set_grad_enabled(wrt is not None):
            times = median_times({"torch": lambda: run(torch.nn.functional.conv3d),
                                  "convnd": lambda: run(ct.conv3d)}, reps)
        rows.append((pass_name, times["torch"] * 1e3, times["convnd"] * 1e3,
                     times["torch"] / times["convnd"]))
    return rows


def bench_overhead(reps):
    """convnd.torch.conv against the NumPy API on the same memory, forward and backward."""
    rows = []
    for label, xs, ws in (("N2 C16 K16 24^3 3x3x3", (2, 16, 24, 24, 24), (16, 16, 3, 3, 3)),
                          ("N1 C4 K4 8^2 3x3", (1, 4, 8, 8), (4, 4, 3, 3))):
        torch.manual_seed(0)
        x, w, b = torch.randn(xs), torch.randn(ws), torch.randn(ws[0])
        xa, wa, ba = x.numpy(), w.numpy(), b.numpy()
        kw = dict(padding=1, threads=torch.get_num_threads())
        plan = convnd.Plan(xa.shape, wa.shape, op="forward", bias=True, **kw)
        out = np.empty(plan.output_shape, np.float32)
        inner = 1 if x.numel() > 10000 else 50
        t = median_times({"wrapper": lambda: ct.conv(x, w, b, padding=1),
                          "plan": lambda: plan.forward(xa, wa, ba, out=out),
                          "numpy_api": lambda: convnd.conv(xa, wa, ba, **kw)}, reps, inner)
        rows.append((f"{label} forward", t["wrapper"] * 1e6, t["plan"] * 1e6,
                     t["numpy_api"] * 1e6))
        # backward: both gradients and the bias gradient, through autograd vs two plans
        xg, wg, bg = (v.clone().requires_grad_(True) for v in (x, w, b))
        y = ct.conv(xg, wg, bg, padding=1)
        gy = torch.randn(y.shape)
        gya = gy.numpy()
        pd = convnd.Plan(xa.shape, wa.shape, op="backward_data", **kw)
        pw = convnd.Plan(xa.shape, wa.shape, op="backward_weight", **kw)
        dx, dw, db = np.empty_like(xa), np.empty_like(wa), np.empty_like(ba)

        def plans():
            pd.backward_data(gya, wa, out=dx)
            pw.backward_weight(xa, gya, out=dw, bias_out=db)

        def numpy_api():
            convnd.conv_backward_data(gya, wa, xa.shape, **kw)
            convnd.conv_backward_weight(xa, gya, wa.shape, **kw)
            convnd.conv_backward_bias(gya)

        t = median_times({
            "wrapper": lambda: torch.autograd.grad(y, (xg, wg, bg), gy, retain_graph=True),
            "plan": plans, "numpy_api": numpy_api}, reps, inner)
        rows.append((f"{label} backward", t["wrapper"] * 1e6, t["plan"] * 1e6,
                     t["numpy_api"] * 1e6))
    return rows


def table(header, rows, fmt):
    lines = []
    if fmt == "markdown":
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header)))
                     + "|")
        for r in rows:
            lines.append("| " + " | ".join(c if isinstance(c, str) else f"{c:.3g}" if c < 10
                                           else f"{c:.1f}" for c in r) + " |")
    else:
        widths = [max(len(header[i]), *(len(c if isinstance(c, str) else f"{c:.3g}")
                                        for c in (r[i] for r in rows))) + 2
                  for i in range(len(header))]
        lines.append("".join(h.ljust(wd) for h, wd in zip(header, widths)))
        for r in rows:
            lines.append("".join((c if isinstance(c, str) else f"{c:.3g}").ljust(wd)
                                 for c, wd in zip(r, widths)))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=15, help="timed steps per variant (median)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="threads for torch and convnd (default: all cores)")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall clock, or the process's CPU time (with --threads 1)")
    ap.add_argument("--nets", default=",".join(NETS), help="comma-separated: " + ",".join(NETS))
    ap.add_argument("--no-layer", action="store_true", help="skip the per-layer tables")
    ap.add_argument("--format", choices=("text", "markdown"), default="text")
    ap.add_argument("--thread-source", choices=("openmp", "pool"), default="openmp",
                    help="where convnd's threads come from (convnd.set_thread_source; "
                    "convnd.torch selects openmp)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    convnd.set_thread_source(args.thread_source)
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    print(f"torch {torch.__version__}, convnd {convnd.__version__}, {args.threads} threads "
          f"(convnd's from the {args.thread_source} source), {args.clock} clock, median of "
          f"{args.reps}, float32\n")
    rows = bench_nets([n for n in args.nets.split(",") if n], args.reps)
    print(table(("training step", "format", "torch ms", "convnd ms", "torch/convnd"), rows,
                args.format))
    if not args.no_layer:
        print()
        print(table(("layer N2 C16 K16 24^3 3x3x3", "torch ms", "convnd ms", "torch/convnd"),
                    bench_layer(args.reps), args.format))
        print()
        rows = bench_overhead(args.reps)
        print(table(("convnd.torch overhead", "wrapper us", "reused Plan us", "NumPy API us"),
                    rows, args.format))
        # The wrapper's fixed cost (Python, autograd, allocating the result) is what it adds
        # over a reused Plan on the tiny layer, where the core's time is small and steady; on
        # the large layer the same cost is a fraction of the call, below the timing noise.
        big = {r[0].split()[-1]: r[2] for r in rows[:2]}
        for label, wrapper, plan, _ in rows[2:]:
            pass_name = label.split()[-1]
            print(f"  fixed cost per {pass_name}: {wrapper - plan:.0f} us = "
                  f"{(wrapper - plan) / big[pass_name]:.2%} of the 3-D layer's {pass_name} "
                  f"({big[pass_name] / 1e3:.2f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
