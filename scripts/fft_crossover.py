#!/usr/bin/env python3
"""Measures where the FFT convolution beats direct summation on this machine: a grid of float32
forward 'same' layers (1-D, 2-D, 3-D; kernel sizes 3..1023; dense with 1..256 channels and
depthwise), each timed by `convnd bench` with `fft` forced and with every direct forward
algorithm forced (the best of those that accept the layer is "direct"), 2 threads. Prints one
markdown row per layer with both times, the rule's estimates (fft_costs) and its choice; the rule
in src/algo/fft_crossover.cc is fitted to this table (docs/fft.md).

    scripts/fft_crossover.py [--convnd build/tools/convnd] [--quick] [--layout channels_last]
                             [--per-call] [--start N]
    PYTHONPATH=build/python scripts/fft_crossover.py --rule TABLE.md

--rule re-reads a table this script printed and asks the current build (its Python module)
which algorithm the rule picks for each layer, without timing anything: the rule's choice
against the measured times, with the layers where it loses marked.

Plans are reused with constant weights (convnd bench's default: the kernel spectra are made
once); --per-call times one-off calls instead (new weights and a new Plan every call).
"""
import argparse
import json
import os
import re
import subprocess

DIRECT = ["depthwise", "padded_igemm", "implicit_gemm", "winograd_f2", "winograd_f4",
          "winograd_f6", "pointwise"]


def grid(quick):
    cases = []
    ks2 = [3, 5, 7, 9, 11, 15, 21, 31, 45, 63]
    for k in ks2:
        for c in [1, 16, 64, 256] if k <= 15 else [1, 16, 64]:  # 256 past 15: hours of direct
            s = 128 if c <= 16 else 56
            cases.append(f"n1c{c}k{c}s{s}x{s}k{k}x{k}p{k // 2}")
        for c in [16, 128]:
            cases.append(f"n1c{c}k{c}g{c}s56x56k{k}x{k}p{k // 2}")
    for k in [15, 31, 63, 127, 255, 1023]:
        for c in [1, 16, 64]:
            cases.append(f"n1c{c}k{c}s16384k{k}p{k // 2}")
        cases.append(f"n1c64k64g64s16384k{k}p{k // 2}")
    for k in [3, 5, 7, 9, 13]:
        for c in [1, 16]:
            cases.append(f"n1c{c}k{c}s24x24x24k{k}x{k}x{k}p{k // 2}")
        cases.append(f"n1c16k16g16s24x24x24k{k}x{k}x{k}p{k // 2}")
    if quick:
        cases = cases[::7]
    return cases


def bench(convnd, spec, algo, layout, per_call=False):
    """(algorithm, ms) of one forward run; algo None: dispatch's own choice."""
    env = dict(os.environ)
    env.pop("CONVND_ALGO", None)
    if algo:
        env["CONVND_ALGO"] = algo
    r = subprocess.run([convnd, "bench", "--spec", spec, "--pass", "fwd", "--no-peer",
                        "--threads", "2", "--layout", layout, "--format", "json",
                        "--min-time", "0.2"] + (["--per-call"] if per_call else []),
                       env=env, capture_output=True, text=True)
    if r.returncode != 0:
        return None, None
    row = json.loads(r.stdout)[0]
    return row["algorithm"], row["ms"]


SPEC = re.compile(r"n(\d+)c(\d+)k(\d+)(?:g(\d+))?s([\dx]+)k([\dx]+)p(\d+)$")


def rule_choice(spec, layout, per_call):
    import convnd  # noqa: PLC0415  (only for --rule)
    n, c, k, g, s, ks, p = SPEC.match(spec).groups()
    n, c, k, g, p = int(n), int(c), int(k), int(g or 1), int(p)
    s = [int(v) for v in s.split("x")]
    ks = [int(v) for v in ks.split("x")]
    x = (n, *s, c) if layout == "channels_last" else (n, c, *s)
    plan = convnd.Plan(x, (k, c // g, *ks), padding=p, groups=g, layout=layout,
                       constant_weights=not per_call)
    return plan.algorithm


def rule_table(path, layout, per_call):
    print("| layer | fft ms | direct ms | best direct | fft / direct | rule | rule loses |")
    print("|---|---:|---:|---|---:|---|---|")
    for line in open(path):
        cells = [v.strip() for v in line.strip().strip("|").split("|")]
        if len(cells) < 5 or not SPEC.match(cells[0]):
            continue
        spec, fft, direct, best = cells[0], float(cells[1]), float(cells[2]), cells[3]
        chosen = rule_choice(spec, layout, per_call)
        loses = ""
        if chosen == "fft" and fft > direct:
            loses = f"fft chosen, {fft / direct:.2f}x slower"
        elif chosen != "fft" and fft * 1.5 < direct:
            loses = f"fft missed, {direct / fft:.2f}x faster"
        print(f"| {spec} | {fft:.3f} | {direct:.3f} | {best} | {fft / direct:.2f} | {chosen} | "
              f"{loses} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convnd", default="build/tools/convnd")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--layout", default="channels_first")
    ap.add_argument("--per-call", action="store_true")
    ap.add_argument("--start", type=int, default=0, help="skip the first N layers")
    ap.add_argument("--rule", metavar="TABLE", help="the rule's choices for a measured table")
    args = ap.parse_args()
    if args.rule:
        rule_table(args.rule, args.layout, args.per_call)
        return
    print("| layer | fft ms | direct ms | best direct | fft / direct | chosen, ms |")
    print("|---|---:|---:|---|---:|---|")
    for spec in grid(args.quick)[args.start:]:
        _, fft = bench(args.convnd, spec, "fft", args.layout, args.per_call)
        best, best_ms = None, None
        for algo in DIRECT:
            _, ms = bench(args.convnd, spec, algo, args.layout, args.per_call)
            if ms is not None and (best_ms is None or ms < best_ms):
                best, best_ms = algo, ms
        chosen, chosen_ms = bench(args.convnd, spec, None, args.layout, args.per_call)
        ratio = fft / best_ms if fft and best_ms else float("nan")
        print(f"| {spec} | {fft or float('nan'):.3f} | {best_ms or float('nan'):.3f} | {best} | "
              f"{ratio:.2f} | {chosen} {chosen_ms or float('nan'):.3f} |", flush=True)


if __name__ == "__main__":
    main()
