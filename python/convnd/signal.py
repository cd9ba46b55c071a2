"""convnd.signal: scipy.signal's N-D convolve, correlate, fftconvolve and oaconvolve.

Same names, arguments and results as scipy.signal (1.10)::

    from convnd import signal             # was: from scipy import signal
    y = signal.fftconvolve(image, kernel, mode="same")
    c = signal.correlate(a, b, mode="valid", method="direct")

- ``mode``: 'full' (every overlap), 'valid' (no zero padding; one input must be at least as
  large as the other on every axis, and the larger one is taken as in1 as scipy does), 'same'
  (the size of in1, centred as below).
- ``method``: 'direct' runs convnd's core (a correlation of one channel, with the padding
  below), 'fft' the core's fft algorithm with the same padding for real data over all axes,
  else a transform of numpy.fft or scipy.fft (convnd._fft); 'auto' picks the faster by an
  operation count (`choose_conv_method`). Either way only the outputs the mode keeps are
  computed where the core runs.
- dtypes: the result type of the two inputs; float32 stays float32, integers are computed in
  float64 and rounded back (exact while sums stay below 2^53; scipy's direct integer path
  wraps on overflow instead), complex by its real and imaginary parts.

# 'same' alignment and convnd's same-policies

scipy.signal cuts 'same' out of the full result starting at (k - 1) // 2 per axis, for
convolve and correlate alike. As a padding of the core's correlation (convolve runs as the
correlation with the reversed kernel) that is lo = k // 2, hi = (k - 1) // 2: the extra sample
of an even kernel on the low side, convnd's same-policy ``scipy``::

    signal.correlate(a, b, "same") == convnd.conv(a[None, None], b.conj()[None, None],
                                                  padding="same", same_policy="scipy")[0, 0]

scipy.signal.correlate2d differs: its 'same' puts the extra sample on the high side (lo =
(k - 1) // 2), convnd's ``torch`` policy; convolve2d agrees with convolve. For odd kernels all
of these coincide.
"""

import numpy as np

from . import _api
from . import _fft

__all__ = ["convolve", "correlate", "fftconvolve", "oaconvolve", "choose_conv_method"]

_MODES = ("full", "valid", "same")
_METHODS = ("auto", "direct", "fft")


def _mode_arg(mode):
    if mode not in _MODES:
        raise ValueError(f"convnd.signal: argument 'mode': must be 'full', 'valid' or 'same', "
                         f"got {mode!r}")
    return mode


def _arrays(in1, in2):
    a, b = np.asarray(in1), np.asarray(in2)
    for name, x in (("in1", a), ("in2", b)):
        if x.dtype.kind not in "iufc" or (x.dtype.kind in "fc" and x.dtype.itemsize < 4):
            raise TypeError(f"convnd.signal: argument '{name}': dtype must be an integer, "
                            f"float32, float64, complex64 or complex128 type, got {x.dtype}")
    if a.ndim != b.ndim:
        raise ValueError(f"convnd.signal: arguments 'in1' and 'in2': must have the same number "
                         f"of dimensions, got {a.ndim} and {b.ndim}")
    return a, b


def _swap_needed(mode, s1, s2, axes=None):
    """'valid' needs one input at least as large as the other on every (convolved) axis."""
    if mode != "valid":
        return False
    axes = range(len(s1)) if axes is None else axes
    if all(s1[i] >= s2[i] for i in axes):
        return False
    if all(s2[i] >= s1[i] for i in axes):
        return True
    raise ValueError(f"convnd.signal: mode 'valid': one input must be at least as large as the "
                     f"other on every axis, got shapes {tuple(s1)} and {tuple(s2)}")


def _cut(full, s1, s2, mode, axes):
    """'full' -> 'same' (in1's size, from (k-1)//2) or 'valid' (|s1-s2|+1, centred)."""
    if mode == "full":
        return full
    sl = [slice(None)] * full.ndim
    for ax in axes:
        n = s1[ax] if mode == "same" else abs(s1[ax] - s2[ax]) + 1
        start = (full.shape[ax] - n) // 2
        sl[ax] = slice(start, start + n)
    return full[tuple(sl)]


def _result_type(a, b):
    return np.result_type(a.dtype, b.dtype)


def _finish(y, rtype):
    """Cast to scipy's result type; integer results are rounded, not truncated."""
    if rtype.kind in "iu":
        return np.around(y).astype(rtype)
    return y.astype(rtype, copy=False)


# ---------------------------------------------------------------------------------------------
# Direct: the core's correlation of one channel


def _core_correlate_real(a, b, pads, cdt):
    # precision="highest": method='direct' means direct summation, never the core's FFT
    y = _api.conv(a.astype(cdt, copy=False)[None, None], b.astype(cdt, copy=False)[None, None],
                  padding=pads, padding_mode="zeros", precision="highest")
    return y[0, 0]


def _direct_correlate(a, b, mode):
    """scipy.signal.correlate(a, b, mode) by the core: sum_j a[n + j] conj(b[j]).

    Padding per axis: 'full' (k-1, k-1), 'valid' (0, 0), 'same' (k // 2, (k - 1) // 2).
    """
    rtype = _result_type(a, b)
    cdt = np.dtype(np.float32) if rtype in (np.float32, np.complex64) else np.dtype(np.float64)
    pads = []
    for s, k in zip(a.shape, b.shape):
        if mode == "full":
            pads.append((k - 1, k - 1))
        elif mode == "valid":
            pads.append((0, 0))
        else:
            pads.append((k // 2, (k - 1) // 2))
    if a.dtype.kind != "c" and b.dtype.kind != "c":
        return _finish(_core_correlate_real(a, b, pads, cdt), rtype)
    # (ar + i ai) correlated with conj(br + i bi) = ar*br + ai*bi + i (ai*br - ar*bi)
    ar, ai = (a.real, a.imag) if a.dtype.kind == "c" else (a, None)
    br, bi = (b.real, b.imag) if b.dtype.kind == "c" else (b, None)
    re = _core_correlate_real(ar, br, pads, cdt)
    im = np.zeros_like(re)
    if ai is not None and bi is not None:
        re = re + _core_correlate_real(ai, bi, pads, cdt)
    if ai is not None:
        im = im + _core_correlate_real(ai, br, pads, cdt)
    if bi is not None:
        im = im - _core_correlate_real(ar, bi, pads, cdt)
    y = np.empty(re.shape, np.result_type(cdt, np.complex64))
    y.real, y.imag = re, im
    return _finish(y, rtype)


def _reverse_conj(x):
    return x[(slice(None, None, -1),) * x.ndim].conj()


# ---------------------------------------------------------------------------------------------
# Method choice


# Rates measured on the development machine (float32 2-D, 512x512 and 256x256 images, kernels
# of 5 to 31 taps per axis, while other jobs were running): the core's single-channel
# correlation sustained 3-16e9 multiply-adds per second (the lower end for large kernels,
# which are the ones where the choice matters), a real FFT convolution about 1.2-1.6e-9 s per
# n log2 n of its three transforms (n samples each). The rule follows the measured winner at
# 512x512 for 9, 15 (direct) and 31 (fft) taps.
_DIRECT_MACS_PER_S = 5e9
_FFT_S_PER_NLOGN = 1.3e-9


def _costs(s1, s2, mode):
    out = [a + b - 1 for a, b in zip(s1, s2)]
    if mode == "same":
        out = list(s1)
    elif mode == "valid":
        out = [abs(a - b) + 1 for a, b in zip(s1, s2)]
    direct = float(np.prod(out, dtype=np.float64)) * float(np.prod(s2, dtype=np.float64))
    n = float(np.prod([_fft.next_fast_len(a + b - 1) for a, b in zip(s1, s2)],
                      dtype=np.float64))
    fft = 3 * n * max(np.log2(n), 1.0)
    return direct / _DIRECT_MACS_PER_S, fft * _FFT_S_PER_NLOGN


def choose_conv_method(in1, in2, mode="full"):
    """'direct' or 'fft': the faster for these shapes by convnd's cost model (scipy's
    function of the same name, without `measure`). Integer inputs stay 'direct' where an FFT
    could lose exactness (results beyond 2^53), as in scipy."""
    a, b = _arrays(in1, in2)
    _mode_arg(mode)
    if a.size == 0 or b.size == 0 or a.ndim == 0:
        return "direct"
    if _result_type(a, b).kind in "iub":
        bound = float(np.abs(a).max()) * float(np.abs(b).max()) * min(a.size, b.size)
        if bound >= 2.0 ** 52:
            return "direct"
    direct, fft = _costs(a.shape if a.size >= b.size else b.shape,
                         b.shape if a.size >= b.size else a.shape, mode)
    return "fft" if fft < direct else "direct"


def _method_arg(method):
    if method not in _METHODS:
        raise ValueError(f"convnd.signal: argument 'method': must be 'auto', 'direct' or "
                         f"'fft', got {method!r}")
    return method


# ---------------------------------------------------------------------------------------------
# Public functions


def convolve(in1, in2, mode="full", method="auto"):
    """N-dimensional convolution, as scipy.signal.convolve.

    ``out[n] = sum_m in1[m] in2[n - m]``, cut by `mode`; `method` 'auto', 'direct' (the core)
    or 'fft'.

    Examples
    --------
    >>> import numpy as np
    >>> from convnd import signal
    >>> signal.convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> signal.convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]), mode="same")
    array([1. , 2.5, 4. ])
    """
    a, b = _arrays(in1, in2)
    _mode_arg(mode)
    _method_arg(method)
    if a.ndim == 0:
        return a * b
    if a.size == 0 or b.size == 0:
        return np.array([], dtype=_result_type(a, b))
    if _swap_needed(mode, a.shape, b.shape):
        a, b = b, a
    if method == "auto":
        method = choose_conv_method(a, b, mode)
    if method == "fft":
        return _finish(fftconvolve(a, b, mode), _result_type(a, b))
    # convolve(a, b) = correlate(a, conj(reverse(b)))
    return _direct_correlate(a, _reverse_conj(b), mode)


def correlate(in1, in2, mode="full", method="auto"):
    """N-dimensional cross-correlation, as scipy.signal.correlate.

    ``out[n] = sum_j in1[n + j] conj(in2[j])`` over the overlaps, cut by `mode` ('same' takes
    the extra sample of an even kernel on the low side: convnd's same-policy 'scipy').

    Examples
    --------
    >>> import numpy as np
    >>> from convnd import signal
    >>> signal.correlate(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 10.0]), mode="same")
    array([10., 21., 32., 43.])
    """
    a, b = _arrays(in1, in2)
    _mode_arg(mode)
    _method_arg(method)
    if a.ndim == 0:
        return a * b.conj()
    if a.size == 0 or b.size == 0:
        return np.array([], dtype=_result_type(a, b))
    if method == "auto":
        method = choose_conv_method(a, b, mode)
    if method == "fft":
        return convolve(a, _reverse_conj(b), mode, "fft")
    if _swap_needed(mode, a.shape, b.shape):
        # 'valid' with in2 the larger: correlate the other way round, then reverse.
        return _reverse_conj(_direct_correlate(b, a, mode))
    return _direct_correlate(a, b, mode)


def _fft_args(in1, in2, mode, axes):
    a, b = _arrays(in1, in2)
    _mode_arg(mode)
    if axes is None:
        axes = list(range(a.ndim))
    else:
        axes = [axes] if np.ndim(axes) == 0 else list(axes)
        for ax in axes:
            if not -a.ndim <= int(ax) < a.ndim:
                raise ValueError(f"convnd.signal: argument 'axes': axis {ax} is out of range "
                                 f"for {a.ndim} dimensions")
        axes = sorted({int(ax) % a.ndim for ax in axes})
    for i in range(a.ndim):
        if i not in axes and a.shape[i] != b.shape[i] and 1 not in (a.shape[i], b.shape[i]):
            raise ValueError(f"convnd.signal: arguments 'in1' and 'in2', axis {i}: an axis "
                             f"that is not convolved must have equal extents or one of 1, got "
                             f"{a.shape[i]} and {b.shape[i]}")
    return a, b, axes


def fftconvolve(in1, in2, mode="full", axes=None):
    """Convolution by FFT, as scipy.signal.fftconvolve (transforms of 2^a 3^b 5^c samples).

    `axes` are the axes to convolve over (default all); along the others the inputs broadcast.

    Examples
    --------
    >>> import numpy as np
    >>> from convnd import signal
    >>> signal.fftconvolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5])).round(12) + 0
    array([0. , 1. , 2.5, 4. , 1.5])
    """
    a, b, axes = _fft_args(in1, in2, mode, axes)
    if a.ndim == 0:
        return a * b
    if a.size == 0 or b.size == 0:
        return np.array([], dtype=_fft.result_dtype(a, b))
    if _swap_needed(mode, a.shape, b.shape, axes):
        a, b = b, a
    y = _fft.core_convolve(a, b, axes, mode)
    if y is not None:
        return y
    full = _fft.full_convolve(a, b, axes)
    return _cut(full, a.shape, b.shape, mode, axes)


def oaconvolve(in1, in2, mode="full", axes=None):
    """Convolution by blocked FFTs, as scipy.signal.oaconvolve: real data over all axes runs
    on the core's fft algorithm (overlap-save tiles, only the kept outputs); otherwise, for an
    in1 much larger than in2, overlap-add blocks of in1 are transformed in one batched call
    (convnd._fft).

    Examples
    --------
    >>> import numpy as np
    >>> from convnd import signal
    >>> x = np.ones(1000); h = np.ones(10) / 10
    >>> y = signal.oaconvolve(x, h, mode="valid")
    >>> y.shape, bool(np.allclose(y, 1.0))
    ((991,), True)
    """
    a, b, axes = _fft_args(in1, in2, mode, axes)
    if a.ndim == 0:
        return a * b
    if a.size == 0 or b.size == 0:
        return np.array([], dtype=_fft.result_dtype(a, b))
    if _swap_needed(mode, a.shape, b.shape, axes):
        a, b = b, a
    # The core's fft algorithm tiles long axes (overlap-save) by itself: on real data over all
    # axes it is both the one-transform and the blocked method, and computes only the kept
    # outputs. NumPy's overlap-add below serves the rest.
    y = _fft.core_convolve(a, b, axes, mode)
    if y is not None:
        return y
    s1, s2 = a.shape, b.shape
    if any(a.shape[ax] < b.shape[ax] for ax in axes):
        full = _fft.full_convolve(a, b, axes)  # in2 longer on some axis: one transform
    else:
        full = _fft.oa_convolve(a, b, axes)
    return _cut(full, s1, s2, mode, axes)
