"""A 3-D convolution of a volume larger than the memory of the workers that compute it.

Writes a float32 volume of --gb gigabytes as an .npy stack (one file per slab of slices),
reads it back lazily with dask.array.from_npy_stack, convolves it with convnd.dask on a
dask.distributed LocalCluster whose workers together have less memory than the volume, writes
the result as another .npy stack, checks two slabs of it against the in-memory convnd.conv,
and prints the throughput.

    PYTHONPATH=build/python /usr/bin/python3 examples/dask_large_volume.py --gb 4 --dir /tmp/vol

The blocks are the files' slabs (--slab slices of H x W, 50 MB by default), each read with a
one-slice halo from its neighbours. --chunks D,H,W tiles them further (e.g. 12,512,512, where
the core's depthwise kernel applies, about 5x faster per block than the GEMM algorithms on a
single-channel 3x3x3 filter); on a 2-core machine the extra rechunking tasks cost more than
that gains.
"""

import argparse
import os
import shutil
import tempfile
import time

import dask.array as da
import distributed
import numpy as np

import convnd
import convnd.dask


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gb", type=float, default=4.0, help="volume size in GB (10^9 bytes)")
    ap.add_argument("--dir", default=None,
                    help="folder for the input and output stacks (default: a new temporary "
                         "folder, removed at the end)")
    ap.add_argument("--keep", action="store_true", help="keep the stacks")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="1GB", help="per worker, as dask writes it")
    ap.add_argument("--width", type=int, default=1024, help="H = W of the volume")
    ap.add_argument("--slab", type=int, default=12, help="slices per .npy file")
    ap.add_argument("--chunks", default=None, help="block shape D,H,W (default: the slabs)")
    ap.add_argument("--kernel", type=int, default=3, help="k of the k x k x k kernel")
    ap.add_argument("--mode", default="reflect", help="padding mode ('same' padding)")
    args = ap.parse_args()

    width = args.width
    depth = max(1, int(round(args.gb * 1e9 / (4 * width * width))))
    shape = (depth, width, width)
    nbytes = 4 * depth * width * width
    chunks = (tuple(int(c) for c in args.chunks.split(",")) if args.chunks
              else (args.slab, width, width))
    root = args.dir or tempfile.mkdtemp(prefix="convnd-dask-")
    os.makedirs(root, exist_ok=True)
    src, dst = os.path.join(root, "input"), os.path.join(root, "output")
    for d in (src, dst):
        shutil.rmtree(d, ignore_errors=True)

    cluster = distributed.LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True,
        memory_limit=args.memory_limit, dashboard_address=None,
        local_directory=os.path.join(root, "dask-worker-space"))
    client = distributed.Client(cluster)
    limit = sum(w["memory_limit"] for w in client.scheduler_info()["workers"].values())
    print(f"volume {shape} float32 = {nbytes / 1e9:.2f} GB; {args.workers} workers x "
          f"{args.memory_limit} = {limit / 1e9:.2f} GB of worker memory")
    if limit >= nbytes:
        print("note: the volume fits in the workers' memory; use a larger --gb")

    try:
        # 1. The volume, written slab by slab (each slab is one .npy file).
        t0 = time.perf_counter()
        vol = da.random.random(shape, chunks=(args.slab, width, width)).astype(np.float32)
        da.to_npy_stack(src, vol, axis=0)
        t_write = time.perf_counter() - t0
        print(f"wrote input stack in {t_write:.1f} s ({nbytes / 1e9 / t_write:.2f} GB/s)")

        # 2. Read lazily, convolve block by block, write the result.
        k = args.kernel
        w = (np.arange(k ** 3, dtype=np.float32).reshape(1, 1, k, k, k) % 7 - 3) / 10
        t0 = time.perf_counter()
        x = da.from_npy_stack(src).rechunk(chunks)[None, None]    # (1, 1, D, H, W)
        y = convnd.dask.conv(x, w, padding="same", padding_mode=args.mode)[0, 0]
        da.to_npy_stack(dst, y, axis=0)
        t_conv = time.perf_counter() - t0
        flops = 2.0 * k ** 3 * depth * width * width
        print(f"convolved {k}x{k}x{k} 'same' {args.mode}: read + conv + write in "
              f"{t_conv:.1f} s: {nbytes / 1e9 / t_conv:.2f} GB/s of input, "
              f"{flops / 1e9 / t_conv:.1f} GFLOP/s ({len(y.__dask_graph__())} tasks)")

        # 3. Four slices at the top (padded there) and four inside, against the in-memory
        #    call: the slices they read along D (the padding rule picks them), padded along H, W
        #    by the core.
        h = (k - 1) // 2
        inp, out = da.from_npy_stack(src), da.from_npy_stack(dst)
        worst = 0.0
        for z0 in (0, depth // 2):
            z1 = min(depth, z0 + 4)
            zi = convnd.dask.map_padded_index(np.arange(z0 - h, z1 + k - 1 - h), depth, args.mode)
            part = np.asarray(inp[np.maximum(zi, 0)])
            part[zi < 0] = 0
            want = convnd.conv(part[None, None], w, padding=(0, (h, k - 1 - h), (h, k - 1 - h)),
                               padding_mode=args.mode)[0, 0]
            worst = max(worst, float(np.max(np.abs(np.asarray(out[z0:z1]) - want))))
        print(f"check against convnd.conv on slices [0, 4) and [{depth // 2}, {depth // 2 + 4}): "
              f"max |diff| = {worst:.3g}")
    finally:
        client.close()
        cluster.close()
        if not args.keep:
            for d in ([root] if args.dir is None
                      else [src, dst, os.path.join(root, "dask-worker-space")]):
                shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
