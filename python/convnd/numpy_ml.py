"""Drop-in for numpy-ml's convolution helpers (numpy_ml/neural_nets/utils/utils.py).

Migration: replace ``from numpy_ml.neural_nets.utils import conv2D`` (or ``utils.conv2D``)
by ``from convnd.numpy_ml import conv2D``. Same names, arguments and defaults, same layouts:
X is NHWC (NWC for conv1D), W is HWIO ((k, in_ch, out_ch) for conv1D), dilation is 0-based
(0 = dense), pad is an int, a 2-tuple (rows, cols on both sides), a 4-tuple (top, bottom,
left, right), 'same' (numpy-ml's rule: output = input size for any stride, the odd element
of padding on the bottom/right) or, in 1-D, 'causal' (all padding on the left). The
convolutions run on the convnd core reading X and W in place (W is passed as a transposed
view, not a copy).

Deliberate differences from the original (all checked by tests/python/test_numpy_ml.py):
- conv2D_naive returns the dtype of the inputs (float32 stays float32) instead of always
  float64, and col2im returns the dtype of X_col instead of float64: the intent is the input
  precision (the float64 there is a side effect of np.zeros).
- conv2D_naive raises ValueError when the output would be empty, as conv2D does (the
  original returned an empty array for some of these geometries).
- Integer-valued inputs are computed in float64 (the core computes in float32/float64);
  the original kept integer arithmetic. Other dtypes (complex, object) raise TypeError.
- pad may also be a list or NumPy integers; an unknown pad string, or 'same' without the
  kernel shape and stride, raises ValueError (the original failed with UnboundLocalError),
  and a tuple of another length raises ValueError (the original: IndexError or silently
  used its first entries).
- calc_conv_out_dims accepts 'same' and 'causal' (the original failed on them with
  UnboundLocalError although its docstring lists them) and does not allocate a dummy X.
- stride < 1 and negative dilation raise ValueError (the original: ZeroDivisionError or
  silently wrong shapes).
- deconv2D_naive computes the transposed convolution directly (no dilated, padded copy of X)
  but keeps the original's output geometry, including its quirks: the result is the full
  transposed convolution cropped by the padding, with the crop split ceil/floor between the
  low and high side; when the padding exceeds 2 * (effective kernel - 1) on an axis it
  raises as the original does: AssertionError if some axis exceeds by an odd amount, else
  ValueError.
"""

import numpy as np

from . import _api
from ._args import is_int

__all__ = ["conv2D", "conv1D", "deconv2D_naive", "conv2D_naive", "im2col", "col2im",
           "pad1D", "pad2D", "calc_pad_dims_1D", "calc_pad_dims_2D", "calc_conv_out_dims",
           "dilate"]


# ---------------------------------------------------------------------------------------
# dtypes and integer arguments

def _work_dtype(*arrays):
    """float32/float64 as the inputs give them; integers and bools compute in float64."""
    dt = np.result_type(*arrays)
    if dt in (np.float32, np.float64):
        return dt
    if dt.kind in "iub":
        return np.dtype(np.float64)
    if dt.kind == "f" and dt.itemsize < 4:
        return np.dtype(np.float32)
    raise TypeError(f"convnd.numpy_ml: dtype {dt} is not supported (float32 or float64; "
                    f"integers compute in float64)")


def _int_arg(v, name, minimum):
    if not is_int(v):
        raise ValueError(f"convnd.numpy_ml: {name} must be an int, got {v!r}")
    if v < minimum:
        raise ValueError(f"convnd.numpy_ml: {name} must be >= {minimum}, got {v}")
    return int(v)


def _effective(k, d):
    # numpy-ml's dilation d inserts d zeros between taps: extent k*(d+1) - d.
    return k * (d + 1) - d


# ---------------------------------------------------------------------------------------
# padding arithmetic (the original's rules, including its exception types)

def _same_pads(in_dim, out_dim, eff, stride):
    """numpy-ml's split of the padding that makes an axis of in_dim give out_dim."""
    # int(x / 2) truncates toward zero, as the original does; it matters for negative totals.
    p = int((stride * (out_dim - 1) + eff - in_dim) / 2)
    got = int(1 + (in_dim + 2 * p - eff) / stride)
    if got == out_dim - 1:
        return p, p + 1
    if got != out_dim:
        raise AssertionError(f"no symmetric padding gives {out_dim} outputs from {in_dim}")
    return p, p


def calc_pad_dims_2D(X_shape, out_dim, kernel_shape, stride, dilation=0):
    """(top, bottom, left, right) padding so that X_shape (n, rows, cols, ch) gives out_dim."""
    for value, name in ((X_shape, "X_shape"), (out_dim, "out_dim"),
                        (kernel_shape, "kernel_shape")):
        if not isinstance(value, tuple):
            raise ValueError(f"`{name}` must be of type tuple")
    if not isinstance(stride, int):
        raise ValueError("`stride` must be of type int")
    fr, fc = kernel_shape
    out_rows, out_cols = out_dim
    _, in_rows, in_cols, _ = X_shape
    pr1, pr2 = _same_pads(in_rows, out_rows, _effective(fr, dilation), stride)
    pc1, pc2 = _same_pads(in_cols, out_cols, _effective(fc, dilation), stride)
    if min(pr1, pr2, pc1, pc2) < 0:
        raise ValueError(f"Padding cannot be less than 0. Got: {(pr1, pr2, pc1, pc2)}")
    return (pr1, pr2, pc1, pc2)


def calc_pad_dims_1D(X_shape, l_out, kernel_width, stride, dilation=0, causal=False):
    """(left, right) padding so that X_shape (n, length, ch) gives l_out outputs."""
    if not isinstance(X_shape, tuple):
        raise ValueError("`X_shape` must be of type tuple")
    for value, name in ((l_out, "l_out"), (kernel_width, "kernel_width"), (stride, "stride")):
        if not isinstance(value, int):
            raise ValueError(f"`{name}` must be of type int")
    _, l_in, _ = X_shape
    eff = _effective(kernel_width, dilation)
    total = int(stride * (l_out - 1) + eff - l_in)
    if causal:
        pw1, pw2 = total, 0
        if int(1 + (l_in + total - eff) / stride) != l_out:
            raise AssertionError(f"no causal padding gives {l_out} outputs from {l_in}")
    else:
        half = total // 2
        got = int(1 + (l_in + 2 * half - eff) / stride)
        if got == l_out - 1:
            pw1, pw2 = half, half + 1
        elif got == l_out:
            pw1, pw2 = half, half
        else:
            raise AssertionError(f"no padding gives {l_out} outputs from {l_in}")
    if min(pw1, pw2) < 0:
        raise ValueError(f"Padding cannot be less than 0. Got: {(pw1, pw2)}")
    return (pw1, pw2)


def _pads_2d(X_shape, pad, kernel_shape=None, stride=None, dilation=0):
    """The (top, bottom, left, right) that `pad` means; no array is touched."""
    if is_int(pad):
        return (int(pad),) * 4
    if isinstance(pad, str):
        if pad == "same" and kernel_shape and stride is not None:
            return calc_pad_dims_2D(tuple(X_shape), tuple(X_shape[1:3]), tuple(kernel_shape),
                                    stride, dilation=dilation)
        raise ValueError(f"convnd.numpy_ml: pad {pad!r} needs to be 'same' with kernel_shape "
                         f"and stride given, an int, a 2-tuple or a 4-tuple")
    p = tuple(pad)
    if not all(is_int(v) for v in p) or len(p) not in (2, 4):
        raise ValueError(f"convnd.numpy_ml: pad must be an int, a 2-tuple, a 4-tuple or "
                         f"'same', got {pad!r}")
    p = tuple(int(v) for v in p)
    return (p[0], p[0], p[1], p[1]) if len(p) == 2 else p


def _pads_1d(X_shape, pad, kernel_width=None, stride=None, dilation=0):
    if is_int(pad):
        return (int(pad), int(pad))
    if isinstance(pad, str):
        if pad in ("same", "causal") and kernel_width and stride:
            return calc_pad_dims_1D(tuple(X_shape), X_shape[1], kernel_width, stride,
                                    causal=pad == "causal", dilation=dilation)
        raise ValueError(f"convnd.numpy_ml: pad {pad!r} needs to be 'same' or 'causal' with "
                         f"kernel_width and stride given, an int or a 2-tuple")
    p = tuple(pad)
    if len(p) != 2 or not all(is_int(v) for v in p):
        raise ValueError(f"convnd.numpy_ml: pad must be an int, a 2-tuple, 'same' or "
                         f"'causal', got {pad!r}")
    return (int(p[0]), int(p[1]))


def _np_pad(X, widths):
    if any(lo < 0 or hi < 0 for lo, hi in widths):
        raise ValueError(f"index can't contain negative values (padding {widths})")
    return np.pad(X, widths, mode="constant", constant_values=0)


def pad2D(X, pad, kernel_shape=None, stride=None, dilation=0):
    """Zero-pad NHWC X on rows and cols; returns (X_pad, (top, bottom, left, right))."""
    p = _pads_2d(X.shape, pad, kernel_shape, stride, dilation)
    return _np_pad(X, ((0, 0), (p[0], p[1]), (p[2], p[3]), (0, 0))), p


def pad1D(X, pad, kernel_width=None, stride=None, dilation=0):
    """Zero-pad NWC X along its length; returns (X_pad, (left, right))."""
    p = _pads_1d(X.shape, pad, kernel_width, stride, dilation)
    return _np_pad(X, ((0, 0), (p[0], p[1]), (0, 0))), p


def dilate(X, d):
    """Insert d zero rows/cols between the rows/cols of NHWC X."""
    d = _int_arg(d, "d", 0)
    n, rows, cols, ch = X.shape
    grow = lambda size: size + d * max(size - 1, 0)  # noqa: E731
    out = np.zeros((n, grow(rows), grow(cols), ch), dtype=X.dtype)
    out[:, ::d + 1, ::d + 1, :] = X
    return out


def calc_conv_out_dims(X_shape, W_shape, stride=1, pad=0, dilation=0):
    """Output shape of conv1D (3-tuples) or conv2D (4-tuples), floor division as the original."""
    s, d = stride, dilation
    if len(X_shape) == 3:
        fw, _, out_ch = W_shape
        n_ex, length, _ = X_shape
        p1, p2 = _pads_1d(X_shape, pad, fw, s, d)
        return (n_ex, (length + p1 + p2 - _effective(fw, d)) // s + 1, out_ch)
    if len(X_shape) == 4:
        fr, fc, _, out_ch = W_shape
        n_ex, rows, cols, _ = X_shape
        pr1, pr2, pc1, pc2 = _pads_2d(X_shape, pad, (fr, fc), s, d)
        return (n_ex, (rows + pr1 + pr2 - _effective(fr, d)) // s + 1,
                (cols + pc1 + pc2 - _effective(fc, d)) // s + 1, out_ch)
    raise ValueError(f"Unrecognized number of input dims: {len(X_shape)}")


# ---------------------------------------------------------------------------------------
# im2col / col2im: pure data movement, one strided slice per kernel tap

def _check_4d(X, name="X"):
    if np.ndim(X) != 4:
        raise ValueError(f"convnd.numpy_ml: {name} must be 4-D (n_ex, rows, cols, ch), got "
                         f"shape {np.shape(X)}")


def _tap_slices(p, fr, fc, s, d, out_rows, out_cols):
    """For each tap (r, c): the slices of the padded image that the tap reads."""
    step = d + 1
    for r in range(fr):
        for c in range(fc):
            yield r, c, (slice(r * step, r * step + s * (out_rows - 1) + 1, s),
                         slice(c * step, c * step + s * (out_cols - 1) + 1, s))


def _out_dims(rows, cols, p, fr, fc, s, d):
    pr1, pr2, pc1, pc2 = p
    out_rows = (rows + pr1 + pr2 - _effective(fr, d)) // s + 1
    out_cols = (cols + pc1 + pc2 - _effective(fc, d)) // s + 1
    if out_rows <= 0 or out_cols <= 0:
        raise ValueError(f"Dimension mismatch during convolution: out_rows = {out_rows}, "
                         f"out_cols = {out_cols}")
    return out_rows, out_cols


def im2col(X, W_shape, pad, stride, dilation=0):
    """Columns of the windows of NHWC X: shape (fr*fc*in_ch, n_ex*out_rows*out_cols).

    Rows are ordered (channel, kernel row, kernel col); columns (out row, out col, example).
    Returns (X_col, pad as a 4-tuple).
    """
    _check_4d(X)
    fr, fc = W_shape[0], W_shape[1]
    s = _int_arg(stride, "stride", 1)
    d = _int_arg(dilation, "dilation", 0)
    n_ex, rows, cols, ch = X.shape
    X_pad, p = pad2D(X, pad, (fr, fc), s, d)
    out_rows, out_cols = _out_dims(rows, cols, p, fr, fc, s, d)
    cols6 = np.empty((ch, fr, fc, out_rows, out_cols, n_ex), dtype=X.dtype)
    planar = X_pad.transpose(3, 1, 2, 0)  # (ch, rows, cols, n): the column order's last axis
    for r, c, (rs, cs) in _tap_slices(p, fr, fc, s, d, out_rows, out_cols):
        cols6[:, r, c] = planar[:, rs, cs, :]
    return cols6.reshape(ch * fr * fc, out_rows * out_cols * n_ex), p


def col2im(X_col, X_shape, W_shape, pad, stride, dilation=0):
    """Sum the columns of X_col back into an NCHW image (the adjoint of im2col).

    Returns shape (n_ex, in_ch, in_rows, in_cols), channels first, as the original does.
    """
    if not (isinstance(pad, tuple) and len(pad) == 4):
        raise TypeError(f"pad must be a 4-tuple, but got: {pad}")
    s = _int_arg(stride, "stride", 1)
    d = _int_arg(dilation, "dilation", 0)
    fr, fc = W_shape[0], W_shape[1]
    n_ex, rows, cols, ch = X_shape
    pr1, pr2, pc1, pc2 = pad
    out_rows, out_cols = _out_dims(rows, cols, pad, fr, fc, s, d)
    dtype = _work_dtype(X_col)
    taps = np.asarray(X_col, dtype=dtype).reshape(ch, fr, fc, out_rows, out_cols, n_ex)
    img = np.zeros((ch, rows + pr1 + pr2, cols + pc1 + pc2, n_ex), dtype=dtype)
    for r, c, (rs, cs) in _tap_slices(pad, fr, fc, s, d, out_rows, out_cols):
        img[:, rs, cs, :] += taps[:, r, c]
    img = img[:, pr1:pr1 + rows, pc1:pc1 + cols, :]
    return np.ascontiguousarray(img.transpose(3, 0, 1, 2))


# ---------------------------------------------------------------------------------------
# convolutions on the convnd core

def _conv_nhwc(X, W, stride, pads, dilation):
    """NHWC X, HWIO W, pads ((lo, hi) per spatial axis), 0-based dilation -> NHWC result."""
    dtype = _work_dtype(X, W)
    X = np.asarray(X, dtype=dtype)
    W = np.asarray(W, dtype=dtype)
    if X.ndim != W.ndim or X.shape[-1] != W.shape[-2]:
        raise ValueError(f"convnd.numpy_ml: X {X.shape} and W {W.shape} do not match "
                         f"(W must be (k.., in_ch, out_ch) with in_ch = X.shape[-1])")
    nd = X.ndim - 2
    # HWIO -> the core's logical (out, in, k..), as a view.
    w_view = W.transpose(nd + 1, nd, *range(nd))
    return _api.conv(X, w_view, stride=stride, padding=[tuple(p) for p in pads],
                     dilation=dilation + 1, layout="channels_last")


def conv2D(X, W, stride, pad, dilation=0):
    """Cross-correlation of NHWC X with HWIO W; returns (n_ex, out_rows, out_cols, out_ch)."""
    _check_4d(X)
    _check_4d(W, "W")
    s = _int_arg(stride, "stride", 1)
    d = _int_arg(dilation, "dilation", 0)
    pr1, pr2, pc1, pc2 = _pads_2d(X.shape, pad, W.shape[:2], s, d)
    return _conv_nhwc(X, W, s, ((pr1, pr2), (pc1, pc2)), d)


def conv2D_naive(X, W, stride, pad, dilation=0):
    """Same result as conv2D (the original's loop version); see the module notes on dtype."""
    return conv2D(X, W, stride, pad, dilation)


def conv1D(X, W, stride, pad, dilation=0):
    """Cross-correlation of NWC X with (k, in_ch, out_ch) W; returns (n_ex, l_out, out_ch)."""
    if np.ndim(X) != 3 or np.ndim(W) != 3:
        raise ValueError(f"convnd.numpy_ml: conv1D needs 3-D X (n_ex, l_in, in_ch) and W "
                         f"(k, in_ch, out_ch), got {np.shape(X)} and {np.shape(W)}")
    s = _int_arg(stride, "stride", 1)
    d = _int_arg(dilation, "dilation", 0)
    p = _pads_1d(X.shape, pad, W.shape[0], s, d)
    return _conv_nhwc(X, W, s, (p,), d)


def deconv2D_naive(X, W, stride, pad, dilation=0):
    """Transposed convolution of NHWC X with HWIO W (in_ch = X's channels), numpy-ml's way.

    Output extent per axis: (S - 1) * stride + effective kernel - (pad lo + pad hi).
    """
    _check_4d(X)
    _check_4d(W, "W")
    if not is_int(stride):
        raise ValueError(f"convnd.numpy_ml: stride must be an int, got {stride!r}")
    s = int(stride)
    if s < 1:
        raise ValueError(f"convnd.numpy_ml: stride must be >= 1, got {s}")
    d = _int_arg(dilation, "dilation", 0)
    n_ex, rows, cols, _ = X.shape
    grown = (n_ex, rows + (s - 1) * max(rows - 1, 0), cols + (s - 1) * max(cols - 1, 0),
             X.shape[3])
    # The original pads the stride-dilated X as a stride-1 convolution would.
    pr1, pr2, pc1, pc2 = _pads_2d(grown, pad, W.shape[:2], 1, d)
    crops, excesses = [], []
    for k, total in ((W.shape[0], pr1 + pr2), (W.shape[1], pc1 + pc2)):
        full = 2 * (_effective(k, d) - 1)
        excesses.append((total - full, total, full))
        crops.append(((total + 1) // 2, total // 2))
    # What the original's second calc_pad_dims_2D call raises: its per-axis AssertionError
    # (odd excess) comes before its ValueError for negative padding (even excess).
    for excess, total, full in excesses:
        if excess > 0 and excess % 2:
            raise AssertionError(f"padding {total} exceeds the full transposed convolution's "
                                 f"{full} by an odd amount")
    for excess, total, full in excesses:
        if excess > 0:
            raise ValueError(f"Padding cannot be less than 0 (padding {total} exceeds {full})")
    dtype = _work_dtype(X, W)
    X = np.asarray(X, dtype=dtype)
    W = np.asarray(W, dtype=dtype)
    if X.shape[3] != W.shape[2]:
        raise ValueError(f"convnd.numpy_ml: X has {X.shape[3]} channels but W expects "
                         f"{W.shape[2]}")
    # HWIO -> the core's transposed weight (in_ch, out_ch, k..), as a view.
    return _api.conv_transpose(X, W.transpose(2, 3, 0, 1), stride=s, padding=crops,
                               dilation=d + 1, layout="channels_last")
