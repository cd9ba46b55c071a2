"""Drop-in for MyGrad's mygrad.nnet.layers.conv_nd, on NumPy arrays.

Migration: replace ``from mygrad.nnet import conv_nd`` by ``from convnd.mygrad import
conv_nd``. Same signature (keyword-only stride, padding=0, dilation=1), same layouts
(x (N, C, X0, ...), filter_bank (F, C, W0, ...)), any number of spatial axes, zero padding
on both ends, 1-based dilation, and MyGrad's strict rule: a geometry whose last window does
not end exactly on the padded input raises ValueError("Stride and kernel dimensions are
incompatible: ...") with the same details. Gradients: ``conv_nd_backward(x, filter_bank,
grad, ...)`` returns (dx, dw), the gradients of sum(conv_nd(x, w) * grad).

Deliberate differences from the original (checked by tests/python/test_mygrad.py):
- Returns a numpy.ndarray, not a mygrad.Tensor, so there is no autograd graph and the
  `constant` argument is accepted and ignored; use conv_nd_backward for the gradients.
- x and filter_bank may be any array-likes (the original needed objects with .ndim).
- Invalid stride, padding or dilation (non-int, wrong length, stride < 1, padding < 0,
  dilation < 1) raise an exception that is both a ValueError and an AssertionError (the
  original used bare asserts, which python -O removes).
- Integer inputs compute in float64; float16 in float32. float32/float64 keep their dtype
  (result_type of x and filter_bank, as the original's tensordot gives); the gradients of
  conv_nd_backward have the dtype of their own tensor (dx: x's, dw: filter_bank's), as
  MyGrad's .grad does.
- A float stride, padding or dilation raises TypeError, as MyGrad does.
- Kept on purpose: like MyGrad (its sliding_window_view), a geometry where kernel * dilation
  exceeds the padded input on some axis raises ValueError, even when the dilated kernel
  (kernel - 1) * dilation + 1 would fit.
- MyGrad's documentation example for the 3-D case uses a kernel of shape (2, 1, 3, 1, 32),
  which cannot give its stated output (1, 2, 8, 12, 9); a (2, 1, 3, 1, 2) kernel does, and
  that is what the tests check.
"""

from numbers import Integral

import numpy as np

from . import _api

__all__ = ["conv_nd", "conv_nd_backward"]


class ConvArgumentError(ValueError, AssertionError):
    """A bad stride/padding/dilation: ValueError for new code, AssertionError for code that
    caught what MyGrad's asserts raised."""


def _dtype(*arrays):
    dt = np.result_type(*arrays)
    if dt in (np.float32, np.float64):
        return dt
    if dt.kind in "iub":
        return np.dtype(np.float64)
    if dt.kind == "f" and dt.itemsize < 4:
        return np.dtype(np.float32)
    raise TypeError(f"convnd.mygrad: dtype {dt} is not supported (float32 or float64)")


def _per_axis(value, n, name, minimum):
    if isinstance(value, Integral) and not isinstance(value, bool):
        values = (int(value),) * n
    elif isinstance(value, (float, np.floating)) or (
            isinstance(value, (tuple, list)) and
            any(isinstance(v, (float, np.floating)) for v in value)):
        # MyGrad raises TypeError for a float here (it builds slices from the values).
        raise TypeError(f"`{name}` must be an int or a tuple of ints, got {value!r}")
    else:
        try:
            values = tuple(np.asarray(value, dtype=int).reshape(-1).tolist())
        except (TypeError, ValueError):
            raise ConvArgumentError(f"`{name}` must be an int or a tuple of ints, got "
                                    f"{value!r}") from None
    if len(values) != n or any(v < minimum for v in values):
        raise ConvArgumentError(f"`{name}` must be an int >= {minimum} or {n} of them, got "
                                f"{value!r}")
    return values


def _check(x, w, stride, padding, dilation):
    if x.ndim < 3:
        raise ValueError(f"`x` must possess at least three dimensions, got {x.ndim} "
                         f"dimensions")
    if x.ndim != w.ndim:
        raise ValueError(f"`x` ({x.ndim}-dimensions) must have the same dimensionality as "
                         f"`filter_bank` ({w.ndim}-dimensions)")
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"`x.shape[1]` ({x.shape[1]}) must match `filter_bank.shape[1]` "
                         f"({w.shape[1]})")
    n = x.ndim - 2
    dilation = _per_axis(dilation, n, "dilation", 1)
    padding = _per_axis(padding, n, "padding", 0)
    stride = _per_axis(stride, n, "stride", 1)
    sizes, kernel = x.shape[2:], w.shape[2:]
    # MyGrad accepts a geometry only when every window fits exactly and there is at least one.
    ok = all((s + 2 * p - (k - 1) * d - 1) % t == 0 and s + 2 * p - (k - 1) * d - 1 >= 0
             for s, k, t, p, d in zip(sizes, kernel, stride, padding, dilation))
    if not ok:
        raise ValueError("Stride and kernel dimensions are incompatible: \n"
                         f"Input dimensions: {tuple(sizes)}\n"
                         f"Stride dimensions: {stride}\n"
                         f"Kernel dimensions: {tuple(kernel)}\n"
                         f"Padding dimensions: {padding}\n"
                         f"Dilation dimensions: {dilation}\n")
    # MyGrad's sliding_window_view also insists that kernel * dilation (not the dilated
    # extent (kernel - 1) * dilation + 1) fits in the padded input; kept for compatibility.
    padded = [s + 2 * p for s, p in zip(sizes, padding)]
    if any(k * d > s for k, d, s in zip(kernel, dilation, padded)):
        raise ValueError(f"The dilated window "
                         f"({tuple(k * d for k, d in zip(kernel, dilation))}) must fit "
                         f"within the trailing dimensions of `arr` ({tuple(padded)})")
    return stride, padding, dilation


def _arrays(x, w):
    x, w = np.asarray(x), np.asarray(w)
    dtype = _dtype(x, w)
    return x.astype(dtype, copy=False), w.astype(dtype, copy=False)


def conv_nd(x, filter_bank, *, stride, padding=0, dilation=1, constant=None):
    """N-D cross-correlation: (N, C, X0, ...) * (F, C, W0, ...) -> (N, F, G0, ...)."""
    x, w = _arrays(x, filter_bank)
    stride, padding, dilation = _check(x, w, stride, padding, dilation)
    return _api.conv(x, w, stride=stride, padding=padding, dilation=dilation)


def conv_nd_backward(x, filter_bank, grad, *, stride, padding=0, dilation=1):
    """(dx, dw): gradients of sum(conv_nd(x, filter_bank) * grad) w.r.t. x and filter_bank."""
    x_in = x
    x, w = _arrays(x, filter_bank)
    stride, padding, dilation = _check(x, w, stride, padding, dilation)
    grad = np.asarray(grad).astype(x.dtype, copy=False)
    kw = dict(stride=stride, padding=padding, dilation=dilation)
    dx = _api.conv_backward_data(grad, w, x.shape, **kw)
    dw = _api.conv_backward_weight(x, grad, w.shape, **kw)
    # Like MyGrad, each gradient has the dtype of its own tensor (computed in the wider one).
    dx_dtype, dw_dtype = _dtype(np.asarray(x_in)), _dtype(np.asarray(filter_bank))
    return dx.astype(dx_dtype, copy=False), dw.astype(dw_dtype, copy=False)
