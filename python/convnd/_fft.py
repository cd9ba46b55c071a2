"""Linear convolution by FFT for the Python front ends (convnd.signal's method='fft').

A real convolution over every axis of both inputs (float32 or float64) runs on the core's
`fft` algorithm (docs/fft.md: its own vectorised transforms, about 2-4x pocketfft's speed) as
the correlation of in1 with the reversed in2, padded so that it yields just the outputs the
mode keeps (`core_pads`); the core cuts long axes into overlap-save tiles itself, so
oaconvolve runs there too. Everything else (complex data, `axes` that leave axes to
broadcast, and the overlap-add blocks of those) uses NumPy's
transforms (numpy.fft, pocketfft) or, when SciPy is importable, scipy.fft (the same pocketfft,
but in single precision for float32 and on several threads), called from here. `backend()`
names the library of those; CONVND_FFT=numpy forces numpy.fft and CONVND_FFT=scipy scipy.fft
for every call, the core's included (the tests run all three).

# Sizes

A linear convolution of extents s1 and s2 needs a transform of at least s1 + s2 - 1 samples
per axis; the transform is fastest for lengths with only small prime factors, so each axis is
rounded up to the next 2^a 3^b 5^c (`next_fast_len`), which costs at most a few percent more
samples than a power of two and often fewer.

# Overlap-add (`oa_convolve`)

For a long in1 and a short in2, one transform of s1 + s2 - 1 samples wastes work and memory.
Overlap-add cuts in1 into blocks of B samples per axis, convolves each with in2 in a
transform of L = next_fast_len(B + s2 - 1) samples (all blocks in one batched call), and adds
the blocks' tails (s2 - 1 samples) into the next block's start. B is chosen so that L is
about 8 (s2 - 1), where the log factor of the large transform is saved without paying much
for the tails; axes where in1 is not much longer than in2 are left as one block.
"""

import functools
import os

import numpy as np


def next_fast_len(n):
    """The smallest 2^a 3^b 5^c >= n (n >= 1)."""
    n = int(n)
    if n <= 6:
        return max(n, 1)
    best = 1 << (n - 1).bit_length()  # a power of two always works
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            # the smallest p35 * 2^a >= n
            q = -(-n // p35)
            cand = p35 * (1 << (q - 1).bit_length())
            best = min(best, cand)
            p35 *= 3
        p5 *= 5
    return best


def core_pads(k, mode):
    """(lo, hi) padding of one axis that makes the core's correlation of in1 with the reversed
    in2 (k taps) yield exactly scipy's `mode` cut of the full convolution: 'full' k - 1 on each
    side; 'valid' none; 'same' lo = k // 2, hi = (k - 1) // 2, since scipy's 'same' starts at
    full index (k - 1) // 2, which is the correlation's index n - lo + k - 1 (even kernels put
    the extra sample on the low side)."""
    if mode == "full":
        return (k - 1, k - 1)
    if mode == "valid":
        return (0, 0)
    return (k // 2, (k - 1) // 2)


def _core_convolve(a, b, dt, mode):
    """The `mode` convolution of real a and b over all axes on the core's fft algorithm, or
    None where the core turns it down (spectra over its workspace bound). Only the kept
    outputs are computed: the padding gives the core the cut (core_pads), so 'same' and
    'valid' transform smaller boxes than 'full' and nothing is copied out of a larger result."""
    if os.environ.get("CONVND_FFT", "") in ("numpy", "scipy"):
        return None
    from . import _api  # noqa: PLC0415  (the binding, loaded on first use)
    w = np.ascontiguousarray(b[(slice(None, None, -1),) * b.ndim], dtype=dt)
    try:
        y = _api.conv(a.astype(dt, copy=False)[None, None], w[None, None],
                      padding=[core_pads(k, mode) for k in b.shape], algorithm="fft")
    except ValueError:
        return None
    return y[0, 0]


def core_convolve(a, b, axes, mode):
    """scipy's `mode` convolution on the core where it applies (real data, every axis
    convolved, in2 no larger than in1 on any axis for 'valid': the caller swaps), else None."""
    dt = result_dtype(a, b)
    if dt.kind != "f" or not a.ndim == b.ndim == len(axes) or a.ndim < 1:
        return None
    return _core_convolve(a, b, dt, mode)


@functools.lru_cache(maxsize=None)
def _scipy_fft():
    if os.environ.get("CONVND_FFT", "") == "numpy":
        return None
    try:
        import scipy.fft as sfft
    except ImportError:
        return None
    return sfft


def backend():
    """'scipy.fft' or 'numpy.fft': which library computes the transforms."""
    return "scipy.fft" if _scipy_fft() is not None else "numpy.fft"


def _transforms(real):
    sfft = _scipy_fft()
    if sfft is not None:
        kw = {"workers": os.cpu_count() or 1}
        if real:
            return (functools.partial(sfft.rfftn, **kw), functools.partial(sfft.irfftn, **kw))
        return functools.partial(sfft.fftn, **kw), functools.partial(sfft.ifftn, **kw)
    if real:
        return np.fft.rfftn, np.fft.irfftn
    return np.fft.fftn, np.fft.ifftn


def result_dtype(a, b):
    """float32/complex64 stay single, everything else (integers too) is double."""
    dt = np.result_type(a.dtype, b.dtype, np.float32)
    return dt if dt.kind in "fc" else np.dtype(np.float64)


def full_convolve(a, b, axes):
    """Full linear convolution of a and b along `axes` (other axes broadcast), by one FFT of
    numpy.fft or scipy.fft (the core is tried first by the callers: core_convolve)."""
    dt = result_dtype(a, b)
    real = dt.kind == "f"
    shape = [a.shape[ax] + b.shape[ax] - 1 for ax in axes]
    fshape = [next_fast_len(s) for s in shape]
    fwd, inv = _transforms(real)
    fa = fwd(a.astype(dt, copy=False), s=fshape, axes=axes)
    fb = fwd(b.astype(dt, copy=False), s=fshape, axes=axes)
    y = inv(fa * fb, s=fshape, axes=axes)  # not in place: the other axes may broadcast
    y = y[tuple(slice(0, shape[axes.index(i)]) if i in axes else slice(None)
                for i in range(y.ndim))]
    return y.astype(dt, copy=False)


def _block_plan(s1, s2):
    """(block, transform length, block count) for one axis of overlap-add."""
    if s2 == 1 or s1 <= 2 * s2:
        return s1, next_fast_len(s1 + s2 - 1), 1
    target = max(8 * (s2 - 1), 64)
    L = next_fast_len(target)
    B = L - s2 + 1
    if B >= s1:
        return s1, next_fast_len(s1 + s2 - 1), 1
    return B, L, -(-s1 // B)


def oa_convolve(a, b, axes):
    """Full linear convolution along `axes` by overlap-add (module docstring); equal to
    full_convolve to rounding. Requires a.shape[ax] >= b.shape[ax] on `axes` (the caller
    swaps)."""
    dt = result_dtype(a, b)
    real = dt.kind == "f"
    plans = [_block_plan(a.shape[ax], b.shape[ax]) for ax in axes]
    if all(n == 1 for _, _, n in plans):
        return full_convolve(a, b, axes)
    fwd, inv = _transforms(real)
    nd = a.ndim
    # Pad a to whole blocks and split each conv axis into (block index, position): the
    # block indices go in front, the positions stay at the axis' place (batched transform).
    width = [(0, 0)] * nd
    for (B, _, n), ax in zip(plans, axes):
        width[ax] = (0, B * n - a.shape[ax])
    ap = np.pad(a.astype(dt, copy=False), width)
    split_shape, k = [], len(axes)
    for i in range(nd):
        if i in axes:
            B, _, n = plans[axes.index(i)]
            split_shape += [n, B]
        else:
            split_shape.append(ap.shape[i])
    blocks = ap.reshape(split_shape)
    # Move the block indices in front: positions of the split axes in split_shape.
    pos, block_axes, rest = 0, [], []
    for i in range(nd):
        if i in axes:
            block_axes.append(pos)
            rest.append(pos + 1)
            pos += 2
        else:
            rest.append(pos)
            pos += 1
    blocks = blocks.transpose(block_axes + rest)
    t_axes = [k + ax for ax in axes]
    fshape = [L for _, L, _ in plans]
    fa = fwd(blocks, s=fshape, axes=t_axes)
    fb = fwd(b.astype(dt, copy=False), s=fshape, axes=axes)
    y = inv(fa * fb, s=fshape, axes=t_axes)  # (n_0.., ...L..): each block's full convolution
    # Overlap-add, one axis at a time (the last block axis first, so that the indices of the
    # others do not move): block j's sample t lands at j * B + t.
    for i in reversed(range(k)):
        B, L, n = plans[i]
        y = _fold_blocks(y, i, i + 1 + axes[i], B, L, n)
    out_shape = [a.shape[i] + b.shape[i] - 1 if i in axes else y.shape[i] for i in range(nd)]
    return y[tuple(slice(0, s) for s in out_shape)].astype(dt, copy=False)


def _fold_blocks(y, block_axis, pos_axis, B, L, n):
    """Sum blocks into one axis: out[j*B + t] = sum of y[j, .., t, ..] (block_axis < pos_axis).

    The position axis becomes n*B + L - B long and block_axis disappears; the tail of a block
    may be longer than B, so it is added in B-wide pieces.
    """
    y = np.moveaxis(y, (block_axis, pos_axis), (0, 1))  # (n, L, rest...)
    rest = y.shape[2:]
    total = n * B + (L - B)
    out = np.zeros((-(-total // B) * B + B,) + rest, y.dtype)
    for off in range(0, L, B):
        piece = y[:, off:off + B]
        if piece.shape[1] < B:
            piece = np.concatenate([piece, np.zeros((n, B - piece.shape[1]) + rest, y.dtype)],
                                   axis=1)
        out[off:off + n * B] += piece.reshape((n * B,) + rest)
    return np.moveaxis(out[:total], 0, pos_axis - 1)
