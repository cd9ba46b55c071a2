"""convnd.dask: convolutions of dask arrays, lazily and block by block (for arrays larger than
memory, the way dask-image runs scipy.ndimage filters).

    import dask.array as da, convnd.dask
    x = da.from_npy_stack("volume/")[None, None]         # (1, 1, D, H, W), chunked along D
    y = convnd.dask.conv(x, w, padding="same", padding_mode="reflect")   # lazy, same chunks
    da.to_npy_stack("out/", y[0, 0])                     # computes block by block

`conv` and `conv_transpose` take the keywords of `convnd.conv` and `convnd.conv_transpose`
(no `out`) and return a dask array equal to the in-memory call on `x.compute()`. x is a dask
array (anything else goes through dask.array.asarray), w and bias are NumPy arrays (a dask
weight is computed: it is small). `threads` is the core's thread count per block, 1 by default:
dask supplies the parallelism, one block per dask thread or worker.

# How a block is computed: halos from global coordinates

Each output block is one task that runs the in-memory convolution with padding 0 ("valid")
on exactly the input box it needs, cut from the neighbouring chunks; no global padded copy is
made and no chunk sizes are imposed on the input. Per spatial axis, forward:

    output block [o0, o1)  needs padded positions  [o0*stride, (o1-1)*stride + ke)
    padded position p      reads input index       map(p - lo, S, mode)

with ke = dilation*(k-1) + 1, (lo, hi) from the core's resolve_padding, and `map` the core's
own boundary rule (src/algo/problem.h map_padded_index: -1 for zeros, periodic reflection for
reflect and symmetric, so any padding width works, wider than a chunk or than the input). The
halo is therefore whatever the global coordinates say: stride needs no chunk alignment (the
box of a block starts at o0*stride in padded coordinates, wherever the input chunks end),
asymmetric padding and padding larger than a chunk need no special case. A block whose box lies
entirely in zero padding reads nothing and is the bias alone.

Transposed convolution is the adjoint of a padded forward convolution on the output: with z
the transposed convolution at padding 0 (length P = O + lo + hi per axis, the padded extent),
y[o] = sum of z[p] over every p with map(p - lo, O, mode) = o. For zeros that is
y[o] = z[o + lo]; for the other modes the padded ends fold back onto the interior. An output
block [o0, o1) collects the p that map into it (one contiguous run for zeros and interior
blocks; a few runs at the edges for the other modes), and for each run [q0, q1) of p computes
z over it from the input range i in [ceil((q0 - ke + 1)/stride), floor((q1 - 1)/stride)],
then adds it in (reversed for reflect and symmetric runs, summed for replicate ones). Transposed blocks are chunked over
batch and every spatial axis, like forward ones; each z position is computed by one block only.

Blocks and chunks: the batch axis keeps x's chunks; the channel axis is read whole by each
block (one output chunk of all K channels; x's channel chunks need not be merged first);
output chunk boundaries along a spatial axis are x's boundaries scaled by O/S (with stride 1
and 'same' padding the output has x's chunks). Each block depends on a slice task per
neighbouring chunk that holds only the halo it needs, so a distributed worker receives halos,
not whole neighbour chunks.
"""

import functools
import itertools
import operator

import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from . import _api
from ._args import as_input, check_dtype, layout_arg

__all__ = ["conv", "conv_transpose"]


# ---------------------------------------------------------------------------------------------
# Geometry per axis


def map_padded_index(i, S, mode):
    """The core's boundary rule (src/algo/problem.h), vectorised: padded position i (may be
    < 0 or >= S) -> input index in [0, S), or -1 for a zero sample."""
    i = np.asarray(i, dtype=np.int64)
    inside = (i >= 0) & (i < S)
    if mode == "zeros":
        out = np.full(i.shape, -1, np.int64)
    elif mode == "replicate":
        out = np.where(i < 0, 0, S - 1)
    elif mode == "circular":
        out = np.mod(i, S)
    elif mode == "reflect":  # period 2(S-1), edge not repeated
        if S == 1:
            out = np.zeros(i.shape, np.int64)
        else:
            period = 2 * (S - 1)
            m = np.mod(i, period)
            out = np.where(m < S, m, period - m)
    elif mode == "symmetric":  # period 2S, edge repeated
        m = np.mod(i, 2 * S)
        out = np.where(m < S, m, 2 * S - 1 - m)
    else:
        raise AssertionError(mode)
    return np.where(inside, i, out).astype(np.int64)


def _bounds(chunks):
    return np.concatenate([[0], np.cumsum(chunks)]).astype(np.int64)


def _scaled_chunks(chunks, S, O):
    """Output chunks along one axis: x's chunk boundaries scaled by O/S, empty ones dropped."""
    b = _bounds(chunks)
    ob = sorted({0, int(O)} | {int(v) * int(O) // int(S) for v in b[1:-1]})
    return tuple(int(e - s) for s, e in zip(ob[:-1], ob[1:]) if e > s)


def _touched(bounds, a0, a1):
    """(chunk index, start, stop within that chunk) for the chunks overlapping [a0, a1)."""
    out = []
    if a0 >= a1:
        return out
    first = int(np.searchsorted(bounds, a0, side="right")) - 1
    for j in range(first, len(bounds) - 1):
        c0, c1 = int(bounds[j]), int(bounds[j + 1])
        if c0 >= a1:
            break
        if c1 > a0:
            out.append((j, max(a0, c0) - c0, min(a1, c1) - c0))
    return out


def _forward_axis(o0, o1, S, lo, stride, ke, mode):
    """What output block [o0, o1) reads along one spatial axis.

    Returns (a0, a1, gather): the input range [a0, a1) it needs, and how the padded box is
    made from x[a0:a1]: ("pad", lz, rz) = that range with lz, rz zeros around it, or
    ("take", idx) = x[a0:a1][idx] (reflect, symmetric, replicate, circular at the edges).
    """
    start = o0 * stride - lo
    stop = (o1 - 1) * stride + ke - lo
    if mode == "zeros" or (start >= 0 and stop <= S):
        a0, a1 = min(max(start, 0), S), min(max(stop, 0), S)
        if a0 >= a1:
            return 0, 0, ("pad", stop - start, 0)
        return a0, a1, ("pad", a0 - start, stop - a1)
    idx = map_padded_index(np.arange(start, stop), S, mode)
    a0, a1 = int(idx.min()), int(idx.max()) + 1
    idx = idx - a0
    if len(idx) == a1 - a0 and np.array_equal(idx, np.arange(a1 - a0)):
        return a0, a1, ("pad", 0, 0)
    return a0, a1, ("take", idx)


def _runs(m):
    """Split a sequence of ints into runs of step +1, -1 or 0: [(start, stop, m[start], step)]."""
    runs, j, n = [], 0, len(m)
    while j < n:
        step = int(m[j + 1] - m[j]) if j + 1 < n else 1
        if step not in (-1, 0, 1):
            step = 1
        e = j + 1
        while e < n and m[e] - m[e - 1] == step:
            e += 1
        runs.append((j, e, int(m[j]), step))
        j = e
    return runs


def _transposed_axis(o0, o1, S, O, lo, stride, ke, mode, order_m):
    """What transposed output block [o0, o1) needs along one spatial axis.

    Returns (a0, a1, pieces): the input range [a0, a1), and per run of padded positions that
    fold into the block a piece (xs0, xs1, zs0, zs1, moff, mlen, runs): conv_transpose of
    x[a0+xs0 : a0+xs1] at padding 0, cut to [zs0, zs1), is added to the block at [moff,
    moff+mlen) by `runs` (see _fold).
    """
    if mode == "zeros":
        ps = [np.arange(o0 + lo, o1 + lo)]
    else:
        order, sorted_m = order_m
        sel = np.sort(order[np.searchsorted(sorted_m, o0):np.searchsorted(sorted_m, o1)])
        cut = np.flatnonzero(np.diff(sel) != 1) + 1
        ps = np.split(sel, cut)
    raw = []
    for p in ps:
        q0, q1 = int(p[0]), int(p[-1]) + 1
        i0 = max(0, -((ke - 1 - q0) // stride))  # ceil((q0 - ke + 1) / stride)
        i1 = min(S - 1, (q1 - 1) // stride)
        if i0 > i1:
            continue  # no input reaches these positions: they add 0
        z0 = i0 * stride
        c0, c1 = max(q0, z0), min(q1, z0 + (i1 - i0) * stride + ke)
        m = map_padded_index(np.arange(c0, c1) - lo, O, mode) - o0
        mmin = int(m.min())
        raw.append((i0, i1 + 1, c0 - z0, c1 - z0, mmin, int(m.max()) + 1 - mmin,
                    _runs(m - mmin)))
    if not raw:
        return 0, 0, []
    a0 = min(r[0] for r in raw)
    a1 = max(r[1] for r in raw)
    return a0, a1, [(r[0] - a0, r[1] - a0) + r[2:] for r in raw]


# ---------------------------------------------------------------------------------------------
# Running one block


def _assemble(pieces):
    """Nested lists of arrays (one level per axis) -> one array; no copy for a single piece."""
    def depth_one(p):
        return not isinstance(p, list)

    def go(p, axis):
        if depth_one(p):
            return p
        parts = [go(q, axis + 1) for q in p]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=axis)
    return go(pieces, 0)


def _fold(z, axis, mlen, runs):
    """Sum z's positions along `axis` into mlen positions: z[p0:p1] goes to m0, m0+step, ..."""
    n = z.shape[axis]
    if len(runs) == 1 and runs[0] == (0, n, 0, 1) and mlen == n:
        return z
    shape = list(z.shape)
    shape[axis] = mlen
    out = np.zeros(shape, z.dtype)

    def sl(a, b, step=1):
        s = [slice(None)] * z.ndim
        s[axis] = slice(a, b, step) if step == 1 else slice(b - 1, (a - 1) if a else None, -1)
        return tuple(s)
    for p0, p1, m0, step in runs:
        if step == 1:
            out[sl(m0, m0 + p1 - p0)] += z[sl(p0, p1)]
        elif step == -1:
            out[sl(m0 - (p1 - p0) + 1, m0 + 1)] += z[sl(p0, p1, -1)]
        else:
            out[sl(m0, m0 + 1)] += z[sl(p0, p1)].sum(axis=axis, keepdims=True)
    return out


def _add_bias(y, bias, channel_axis):
    if bias is not None:
        shape = [1] * y.ndim
        shape[channel_axis] = -1
        y += bias.reshape(shape)
    return y


def _forward_block(info, w, bias, pieces):
    out_shape, channel_axis, spatial, gathers, kw = info
    if pieces is None:  # the box lies in zero padding: conv of zeros is the bias
        return _add_bias(np.zeros(out_shape, w.dtype), bias, channel_axis)
    box = _assemble(pieces)
    pad = [(0, 0)] * box.ndim
    for axis, g in zip(spatial, gathers):
        if g[0] == "take":
            box = np.take(box, g[1], axis=axis)
        else:
            pad[axis] = (g[1], g[2])
    if any(p != (0, 0) for p in pad):
        box = np.pad(box, pad)
    y = _api.conv(box, w, bias, padding=0, **kw)
    assert y.shape == out_shape, (y.shape, out_shape)
    return y


def _transposed_block(info, w, bias, pieces):
    out_shape, channel_axis, spatial, axes, kw = info
    y = np.zeros(out_shape, w.dtype)
    if pieces is not None:
        x = _assemble(pieces)
        for combo in itertools.product(*axes):
            xs = [slice(None)] * x.ndim
            zs = [slice(None)] * x.ndim
            for axis, piece in zip(spatial, combo):
                xs[axis] = slice(piece[0], piece[1])
                zs[axis] = slice(piece[2], piece[3])
            z = _api.conv_transpose(x[tuple(xs)], w, padding=0, **kw)[tuple(zs)]
            ys = [slice(None)] * x.ndim
            for axis, piece in zip(spatial, combo):
                moff, mlen, runs = piece[4:]
                z = _fold(z, axis, mlen, runs)
                ys[axis] = slice(moff, moff + mlen)
            y[tuple(ys)] += z
    return _add_bias(y, bias, channel_axis)


# ---------------------------------------------------------------------------------------------
# The graph


def _as_dask(x):
    if isinstance(x, da.Array):
        return x
    a = np.asarray(x)
    if a.dtype.kind in "iub":  # as the main API: a list of ints means numbers
        a = a.astype(np.float64)
    return da.asarray(a)


def _prepare(x, w, bias, layout):
    """x as a dask array, w and bias as ndarrays: checked here, at graph construction, with
    the messages of the in-memory call, so that a bad call fails before anything computes."""
    x = _as_dask(x)
    layout = layout_arg(layout)
    check_dtype(x.dtype, "x")
    if any(np.isnan(c) for cs in x.chunks for c in cs):
        raise ValueError("convnd.dask: argument 'x': chunk sizes must be known (call "
                         "x.compute_chunk_sizes() first)")
    _api._check_input_rank(tuple(x.shape), layout, "x")
    w = as_input(np.asarray(w), "w")
    _api._same_dtype(x, w, "'x' and 'w'")
    if w.ndim != x.ndim:
        raise ValueError(f"convnd: arguments 'x' and 'w': must have the same number of "
                         f"dimensions, got {x.ndim} ({x.shape}) and {w.ndim} ({w.shape})")
    if bias is not None:
        bias = as_input(np.asarray(bias), "bias")
        _api._same_dtype(x, bias, "'x' and 'bias'")
    return x, w, bias, layout


def _mode_of(plan):
    """The canonical padding mode name of a Plan (its problem string ends in ' mode=NAME')."""
    for word in plan.spec.split():
        if word.startswith("mode="):
            return word[len("mode="):]
    return "zeros"


def _build(kind, x, w, bias, spec, out_shape, out_chunks, axis_info, block_fn, static):
    """One task per output block: block_fn(static info, w, bias, nested halo pieces)."""
    channel_axis, spatial = _layout_parts(static["layout"], x.ndim)
    # x's name fixes its shape and chunks, the problem string the rest of the geometry.
    token = tokenize(kind, x.name, w, bias, spec, out_chunks, static)
    name = f"convnd-{kind}-{token}"
    halo = f"convnd-{kind}-halo-{token}"
    wkey, bkey = f"convnd-{kind}-w-{token}", f"convnd-{kind}-bias-{token}"
    dsk = {wkey: w, bkey: bias}
    xb = [_bounds(c) for c in x.chunks]
    grid = [range(len(c)) for c in out_chunks]
    for block in itertools.product(*grid):
        out_block_shape = tuple(out_chunks[a][i] for a, i in enumerate(block))
        # Per x axis: the chunks this block reads and the part of each.
        reads = [None] * x.ndim
        reads[0] = [(block[0], 0, x.chunks[0][block[0]])]
        reads[channel_axis] = [(j, 0, c) for j, c in enumerate(x.chunks[channel_axis])]
        per_axis = []
        for k, axis in enumerate(spatial):
            a0, a1, what = axis_info[k][block[axis]]
            reads[axis] = _touched(xb[axis], a0, a1)
            per_axis.append(what)
        info = (out_block_shape, channel_axis, spatial, per_axis, static)
        fn = functools.partial(block_fn, info)
        if any(not r for r in reads):
            dsk[(name,) + block] = (fn, wkey, bkey, None)
            continue

        def nest(axis, idx):
            if axis == x.ndim:
                key = (x.name,) + tuple(r[0] for r in idx)
                whole = all(r[1] == 0 and r[2] == x.chunks[a][r[0]] for a, r in enumerate(idx))
                if whole:
                    return key
                hkey = (halo,) + block + key[1:]
                dsk[hkey] = (operator.getitem, key, tuple(slice(r[1], r[2]) for r in idx))
                return hkey
            return [nest(axis + 1, idx + [r]) for r in reads[axis]]
        dsk[(name,) + block] = (fn, wkey, bkey, nest(0, []))
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=[x])
    return da.Array(graph, name, out_chunks, dtype=x.dtype,
                    meta=np.empty((0,) * len(out_shape), x.dtype))


def _layout_parts(layout, ndim):
    d = ndim - 2
    channel_axis = ndim - 1 if layout == "channels_last" else 1
    spatial = list(range(1, d + 1)) if layout == "channels_last" else list(range(2, d + 2))
    return channel_axis, spatial


def _per_axis_ints(v, d):
    return [int(v)] * d if np.ndim(v) == 0 else [int(a) for a in v]


def conv(x, w, bias=None, *, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros",
         same_policy=None, layout="channels_first", strict=False, algorithm=None,
         threads=1):
    """convnd.conv of a dask array x: a lazy dask array equal to convnd.conv(x.compute(), ...).

    The batch axis keeps x's chunks, the channel axis is one chunk, spatial chunks are x's
    scaled by O/S. Every argument is checked here, at graph construction, with the messages
    of the in-memory call.

    Parameters
    ----------
    x : dask.array.Array (or array_like), (N, C, S0, ..) or channels-last
    w : array_like, (K, C/groups, k0, ..)
    bias : array_like, (K,), optional
    stride, padding, dilation, groups, padding_mode, same_policy, layout, strict, algorithm
        As for convnd.conv (no `out`).
    threads : int, optional
        Threads per block (default 1: dask supplies the parallelism).

    Returns
    -------
    dask.array.Array
        Lazy; one task per output block.

    Raises
    ------
    ValueError, TypeError
        As convnd.conv would for the same shapes and arguments.

    Examples
    --------
    >>> import numpy as np, dask.array as da, convnd, convnd.dask
    >>> x = np.arange(40.0).reshape(1, 1, 40)
    >>> y = convnd.dask.conv(da.from_array(x, chunks=(1, 1, 8)), np.ones((1, 1, 3)),
    ...                      padding="same", padding_mode="reflect")
    >>> bool(np.array_equal(y.compute(), convnd.conv(x, np.ones((1, 1, 3)), padding="same",
    ...                                              padding_mode="reflect")))
    True
    """
    x, w, bias, layout = _prepare(x, w, bias, layout)
    # The core validates everything and resolves the padding, on the full shapes.
    plan = _api.Plan(x.shape, w.shape, op="forward", dtype=x.dtype, bias=bias is not None,
                     stride=stride, padding=padding, dilation=dilation, groups=groups,
                     padding_mode=padding_mode, same_policy=same_policy, layout=layout,
                     strict=strict, algorithm=algorithm, _names=_api._ARRAY_NAMES)
    out_shape = tuple(plan.output_shape)
    mode = _mode_of(plan)
    channel_axis, spatial = _layout_parts(layout, x.ndim)
    d = len(spatial)
    strides, dils = _per_axis_ints(stride, d), _per_axis_ints(dilation, d)
    out_chunks = [None] * x.ndim
    out_chunks[0] = x.chunks[0]
    out_chunks[channel_axis] = (out_shape[channel_axis],)
    axis_info = []
    for k, axis in enumerate(spatial):
        S, O = x.shape[axis], out_shape[axis]
        lo = plan.padding()[k][0]
        ke = dils[k] * (w.shape[2 + k] - 1) + 1
        out_chunks[axis] = _scaled_chunks(x.chunks[axis], S, O)
        bounds = _bounds(out_chunks[axis])
        axis_info.append([_forward_axis(int(o0), int(o1), S, lo, strides[k], ke, mode)
                          for o0, o1 in zip(bounds[:-1], bounds[1:])])
    static = dict(stride=strides, dilation=dils, groups=int(groups), layout=layout,
                  algorithm=algorithm, threads=int(threads))
    return _build("conv", x, w, bias, plan.spec, out_shape, tuple(out_chunks),
                  axis_info, _forward_block, static)


def conv_transpose(x, w, bias=None, *, stride=1, padding=0, output_padding=0, dilation=1,
                   groups=1, output_size=None, padding_mode="zeros", layout="channels_first",
                   algorithm=None, threads=1):
    """convnd.conv_transpose of a dask array x: lazy, equal to the in-memory call.

    Chunked over batch and spatial axes: spatial output chunks are x's boundaries scaled by
    O/S.

    Parameters
    ----------
    x : dask.array.Array (or array_like), (N, C, S0, ..) or channels-last
    w : array_like, (C, K/groups, k0, ..)
    bias : array_like, (K,), optional
    stride, padding, output_padding, dilation, groups, output_size, padding_mode, layout,
    algorithm
        As for convnd.conv_transpose (no `out`).
    threads : int, optional
        Threads per block (default 1).

    Returns
    -------
    dask.array.Array

    Raises
    ------
    ValueError, TypeError
        As convnd.conv_transpose would.

    Examples
    --------
    >>> import numpy as np, dask.array as da, convnd, convnd.dask
    >>> x = np.ones((1, 1, 6))
    >>> y = convnd.dask.conv_transpose(da.from_array(x, chunks=(1, 1, 2)), np.ones((1, 1, 3)),
    ...                                stride=2)
    >>> y.compute()[0, 0]
    array([1., 1., 2., 1., 2., 1., 2., 1., 2., 1., 2., 1., 1.])
    """
    x, w, bias, layout = _prepare(x, w, bias, layout)
    plan = _api.Plan(x.shape, w.shape, op="forward", dtype=x.dtype, bias=bias is not None,
                     transposed=True, stride=stride, padding=padding, dilation=dilation,
                     groups=groups, padding_mode=padding_mode, layout=layout,
                     output_padding=output_padding, output_size=output_size,
                     algorithm=algorithm, _names=_api._ARRAY_NAMES)
    out_shape = tuple(plan.output_shape)
    mode = _mode_of(plan)
    channel_axis, spatial = _layout_parts(layout, x.ndim)
    d = len(spatial)
    strides, dils = _per_axis_ints(stride, d), _per_axis_ints(dilation, d)
    out_chunks = [None] * x.ndim
    out_chunks[0] = x.chunks[0]
    out_chunks[channel_axis] = (out_shape[channel_axis],)
    axis_info = []
    for k, axis in enumerate(spatial):
        S, O = x.shape[axis], out_shape[axis]
        lo, hi = plan.padding()[k]
        ke = dils[k] * (w.shape[2 + k] - 1) + 1
        out_chunks[axis] = _scaled_chunks(x.chunks[axis], S, O)
        bounds = _bounds(out_chunks[axis])
        order_m = None
        if mode != "zeros":  # where each padded position folds to, sorted once per axis
            m = map_padded_index(np.arange(O + lo + hi) - lo, O, mode)
            order = np.argsort(m, kind="stable")
            order_m = (order, m[order])
        axis_info.append([_transposed_axis(int(o0), int(o1), S, O, lo, strides[k], ke, mode,
                                           order_m)
                          for o0, o1 in zip(bounds[:-1], bounds[1:])])
    static = dict(stride=strides, dilation=dils, groups=int(groups), layout=layout,
                  algorithm=algorithm, threads=int(threads))
    return _build("conv_transpose", x, w, bias, plan.spec, out_shape,
                  tuple(out_chunks), axis_info, _transposed_block, static)


# scipy.ndimage-style filters on dask arrays (convnd.dask.ndimage.correlate, ...); imported
# last, as that module builds on conv above.
from . import dask_ndimage as ndimage  # noqa: E402
