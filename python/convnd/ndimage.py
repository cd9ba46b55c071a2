"""convnd.ndimage: scipy.ndimage's linear filters on plain N-D arrays, computed by convnd.

Same names, signatures and results as scipy.ndimage (1.10): no batch or channel axes, scipy's
mode names (one per axis where scipy takes one per axis), ``cval``, ``origin`` per axis,
``axes``, ``output`` as an array or a dtype, integer images computed in floating point and cast
back (truncated) as scipy does. Change the import, keep the call::

    from convnd import ndimage            # was: from scipy import ndimage
    y = ndimage.correlate(image, weights, mode="nearest", origin=(0, 1))
    g = ndimage.gaussian_filter(volume, sigma=5)

Functions: correlate, convolve, correlate1d, convolve1d, gaussian_filter, gaussian_filter1d,
uniform_filter, uniform_filter1d, sobel, prewitt, laplace, gaussian_laplace.

How results relate to scipy's:

- float64 (and integer) images: scipy's values to float64 rounding; integer outputs are the
  same integers (kernels of integers, like sobel's, give identical results; a fractional
  kernel can put a value within rounding of an integer and truncate to the neighbour).
- float32 images with a float32 output are computed in float32 (scipy computes in float64 and
  rounds at the end): equal to float32 rounding, about 1e-6 of sum(|w| |x|).
- complex images or kernels: by linearity, real and imaginary parts separately; correlate
  conjugates a complex kernel as scipy (and numpy.correlate) do.
- The separable filters run one 1-D pass per axis, each pass's result stored in the output
  dtype before the next pass reads it, as scipy does (so a uint8 image is truncated between
  passes there too).

Modes (see the module convnd._ndimage_args for the mapping to the core's padding modes):
reflect (d c b a | a b c d | d c b a), mirror (d c b | a b c d | c b a), nearest, wrap,
constant (cval); grid-mirror, grid-wrap and grid-constant are, for these filters, the same as
reflect, wrap and constant (as in scipy). Kernels and padding wider than the image repeat the
reflection or wrap as often as needed.
"""

import numpy as np

from . import _api
from ._ndimage_args import (axes_arg, cast_result, check_input, check_output_array,
                            compute_dtype, modes_arg, origins_arg, output_dtype, pad_plan,
                            pads, per_axis, store)

__all__ = ["correlate", "convolve", "correlate1d", "convolve1d", "gaussian_filter",
           "gaussian_filter1d", "uniform_filter", "uniform_filter1d", "sobel", "prewitt",
           "laplace", "gaussian_laplace"]


# ---------------------------------------------------------------------------------------------
# One real correlation on the core


def _real_correlate(x, w, modes, origins, cval, cdt, out=None):
    """x real N-D, w real with x.ndim axes; modes/origins per axis of x. Returns cdt."""
    pad_pairs = [pads(k, o, axis) for axis, (k, o) in enumerate(zip(w.shape, origins))]
    core_mode, core_pads, numpy_pads = pad_plan(modes, pad_pairs, cval)
    xc = x.astype(cdt, copy=False)
    for axis, pair, np_mode in numpy_pads:
        width = [(0, 0)] * x.ndim
        width[axis] = pair
        extra = {"constant_values": cval} if np_mode == "constant" else {}
        xc = np.pad(xc, width, mode=np_mode, **extra)
    wc = np.asarray(w, dtype=cdt)
    if out is not None and np.may_share_memory(out, xc):
        out = None  # the core must not write over what it reads
    taps = [a for a, k in enumerate(w.shape) if k > 1]
    if len(taps) <= 1:
        axis = taps[0] if taps else x.ndim - 1
        return _one_axis(xc, wc.reshape(-1), axis, core_pads[axis], core_mode, out)
    y = _api.conv(xc[None, None], wc[None, None], padding=core_pads, padding_mode=core_mode,
                  out=None if out is None else out[None, None])
    return y[0, 0]


def _one_axis(x, w, axis, pad, mode, out):
    """A 1-D correlation along one axis of an N-D array, shaped for the core's fast paths.

    A kernel of shape (1, .., k, .., 1) on the whole array makes the core walk every output
    with one tap per row (measured 6x slower than the shapes below on 2000x1500, k = 41).
    Instead, with B the product of the extents before `axis` and A of those after it:
    - last axis (A = 1): a batch of B one-channel 1-D signals, (B, 1, S);
    - otherwise: (B, S, A) channels-last with A channels, depthwise (groups = A), the same
      kernel for every channel (a broadcast view: no copy), which the core vectorises across
      the A contiguous channels.
    """
    S, k = x.shape[axis], len(w)
    out_shape = list(x.shape)
    out_shape[axis] = S + pad[0] + pad[1] - k + 1  # x may be padded in NumPy already
    before = int(np.prod(x.shape[:axis], dtype=np.int64))
    after = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
    if out is not None and not out.flags.c_contiguous:
        out = None  # a reshape of it would be a copy
    if after == 1:
        y = _api.conv(x.reshape(before, 1, S), w.reshape(1, 1, k), padding=[pad],
                      padding_mode=mode,
                      out=None if out is None else out.reshape(before, 1, -1))
    else:
        y = _api.conv(x.reshape(before, S, after), np.broadcast_to(w.reshape(1, 1, k),
                                                                  (after, 1, k)),
                      padding=[pad], padding_mode=mode, groups=after, layout="channels_last",
                      out=None if out is None else out.reshape(before, -1, after))
    return y.reshape(out_shape)


def _direct_out(output, cdt, shape):
    """`output` itself when the core can write the result straight into it."""
    if (isinstance(output, np.ndarray) and output.dtype == cdt and output.dtype.isnative
            and output.flags.aligned and output.flags.writeable
            and tuple(output.shape) == tuple(shape)
            and all(s % output.itemsize == 0 for s in output.strides)):
        return output
    return None


def _correlate_full(x, w, modes, origins, cval, out_dtype, output=None):
    """Correlation of x (any supported dtype) with w of x.ndim axes, in the compute dtype.

    Complex data go by linearity: (xr + i xi) (*) (wr + i wi) = xr*wr - xi*wi + i(xr*wi +
    xi*wr), with cval split the same way. Returns an array the caller casts to out_dtype
    (possibly `output` itself, already written).
    """
    cdt = compute_dtype(x.dtype, out_dtype)
    if x.dtype.kind != "c" and w.dtype.kind != "c":
        if np.iscomplexobj(cval):
            raise ValueError("convnd.ndimage: argument 'cval': a complex cval needs a complex "
                             "input")
        return _real_correlate(x, w, modes, origins, cval, cdt,
                               _direct_out(output, cdt, x.shape))
    if x.dtype.kind != "c" and np.iscomplexobj(cval):
        raise ValueError("convnd.ndimage: argument 'cval': a complex cval needs a complex "
                         "input")
    cplx = np.result_type(cdt, np.complex64)
    xr, xi = (x.real, x.imag) if x.dtype.kind == "c" else (x, None)
    wr, wi = (w.real, w.imag) if w.dtype.kind == "c" else (w, None)
    cr, ci = float(np.real(cval)), float(np.imag(cval))

    def corr(a, b, c):
        return _real_correlate(a, b, modes, origins, c, cdt)
    re = corr(xr, wr, cr)
    if xi is not None and wi is not None:
        re = re - corr(xi, wi, ci)
    im = np.zeros_like(re)
    if wi is not None:
        im = im + corr(xr, wi, cr)
    if xi is not None:
        im = im + corr(xi, wr, ci)
    result = np.empty(re.shape, cplx)
    result.real, result.imag = re, im
    return result


def _weights_arg(weights, name="weights"):
    w = np.asarray(weights)
    if w.dtype.kind not in "biufc":
        raise TypeError(f"convnd.ndimage: argument '{name}': must be numbers, got dtype "
                        f"{w.dtype}")
    return w.astype(np.complex128 if w.dtype.kind == "c" else np.float64, copy=False)


def _correlate_or_convolve(input, weights, output, mode, cval, origin, axes, convolution):
    x = check_input(input)
    w = _weights_arg(weights)
    axes = axes_arg(axes, x.ndim)
    if w.ndim != len(axes):
        raise ValueError(f"convnd.ndimage: argument 'weights': must have one axis per "
                         f"filtered axis of the input ({len(axes)}), got shape {w.shape}")
    if any(k == 0 for k in w.shape):
        raise ValueError(f"convnd.ndimage: argument 'weights': every axis needs at least one "
                         f"tap, got shape {w.shape}")
    modes = modes_arg(mode, len(axes))
    origins = origins_arg(origin, len(axes))
    for i, (k, o) in enumerate(zip(w.shape, origins)):
        pads(k, o, axes[i])  # the same range of origins holds for convolve
    if convolution:
        # convolve(x, w) = correlate(x, w reversed); the reversed kernel's centre moves by one
        # for an even extent, so scipy's origin o becomes -o - 1 there and -o otherwise.
        w = w[(slice(None, None, -1),) * w.ndim]
        origins = [-o - (1 - k % 2) for k, o in zip(w.shape, origins)]
    elif w.dtype.kind == "c":
        w = w.conj()  # scipy conjugates the kernel of a complex correlation
    out_dtype = output_dtype(output, x.dtype, x.dtype.kind == "c" or w.dtype.kind == "c")
    check_output_array(output, x.shape)
    if x.size == 0:
        return store(np.zeros(x.shape, out_dtype), output, out_dtype)
    # Full-rank kernel: the filtered axes in the input's order, one tap on the others.
    wf = w.transpose(np.argsort(axes))
    full_shape, full_modes, full_origins = [], [], []
    for a in range(x.ndim):
        if a in axes:
            i = axes.index(a)
            full_shape.append(w.shape[i])
            full_modes.append(modes[i])
            full_origins.append(origins[i])
        else:
            full_shape.append(1)
            full_modes.append("constant")
            full_origins.append(0)
    wf = wf.reshape(full_shape)
    result = _correlate_full(x, wf, full_modes, full_origins, cval, out_dtype, output)
    return store(result, output, out_dtype)


# ---------------------------------------------------------------------------------------------
# Public: correlate, convolve and their 1-D forms


def correlate(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None):
    """Multidimensional correlation, as scipy.ndimage.correlate.

    ``output[i] = sum_j weights[j] * input[i + j - c]`` with ``c = weights.shape // 2 +
    origin`` per axis, the input extended beyond its edges by ``mode``.

    Parameters
    ----------
    input : array_like
        Integer, float32, float64 or complex array of any number of dimensions.
    weights : array_like
        Kernel with one axis per filtered axis (all of the input's, or ``axes``).
    output : ndarray or dtype, optional
        Array to write the result into (the input's shape), or the result's dtype. Default:
        the input's dtype (integers are truncated, as scipy does).
    mode : str or sequence of str, optional
        'reflect' (default), 'mirror', 'nearest', 'wrap', 'constant', 'grid-mirror',
        'grid-wrap', 'grid-constant'; one for all axes or one per filtered axis.
    cval : scalar, optional
        The value outside the edges for 'constant' (default 0).
    origin : int or sequence of int, optional
        Shift of the kernel per axis: ``-(k // 2) <= origin <= (k - 1) // 2``.
    axes : int or sequence of int, optional
        The axes to filter (default all); ``weights`` has one axis for each.

    Returns
    -------
    ndarray
        The result (``output`` itself when an array was given).

    Examples
    --------
    >>> import numpy as np
    >>> from convnd import ndimage
    >>> a = np.array([[1, 2, 0, 0], [5, 3, 0, 4], [0, 0, 0, 7], [9, 3, 0, 0]])
    >>> ndimage.correlate(a, np.ones((3, 3)), mode="constant")
    array([[11, 11,  9,  4],
           [11, 11, 16, 11],
           [20, 20, 17, 11],
           [12, 12, 10,  7]])
    """
    return _correlate_or_convolve(input, weights, output, mode, cval, origin, axes, False)


def convolve(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None):
    """Multidimensional convolution, as scipy.ndimage.convolve.

    The correlation with the kernel reversed along every axis; for an even kernel extent the
    reversed kernel is placed one sample lower, as scipy does. Parameters as `correlate`.

    Examples
    --------
    >>> import numpy as np
    >>> from convnd import ndimage
    >>> ndimage.convolve(np.array([0., 0, 1, 0, 0]), np.array([1., 2, 3]), mode="constant")
    array([0., 1., 2., 3., 0.])
    """
    return _correlate_or_convolve(input, weights, output, mode, cval, origin, axes, True)


def _one_d(input, weights, axis, output, mode, cval, origin, convolution):
    w = _weights_arg(weights)
    if w.ndim != 1:
        raise ValueError(f"convnd.ndimage: argument 'weights': must be one-dimensional, got "
                         f"shape {w.shape}")
    x = check_input(input)
    (axis,) = axes_arg(axis, x.ndim)
    return _correlate_or_convolve(x, w, output, mode, cval, origin, [axis], convolution)


def correlate1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0):
    """One-dimensional correlation along `axis`, as scipy.ndimage.correlate1d.

    Examples
    --------
    >>> from convnd import ndimage
    >>> ndimage.correlate1d([2, 8, 0, 4, 1, 9, 9, 0], weights=[1, 3])
    array([ 8, 26,  8, 12,  7, 28, 36,  9])
    """
    return _one_d(input, weights, axis, output, mode, cval, origin, False)


def convolve1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0):
    """One-dimensional convolution along `axis`, as scipy.ndimage.convolve1d.

    Examples
    --------
    >>> from convnd import ndimage
    >>> ndimage.convolve1d([2, 8, 0, 4, 1, 9, 9, 0], weights=[1, 3])
    array([14, 24,  4, 13, 12, 36, 27,  0])
    """
    return _one_d(input, weights, axis, output, mode, cval, origin, True)


# ---------------------------------------------------------------------------------------------
# Separable filters: one 1-D pass per axis


def _pass(x, w, axis, mode, cval, origin, out_dtype):
    """One 1-D correlation pass, cast to the output dtype (what scipy stores between passes)."""
    shape = [1] * x.ndim
    shape[axis] = len(w)
    modes = ["constant"] * x.ndim
    modes[axis] = mode
    origins = [0] * x.ndim
    origins[axis] = origin
    pads(len(w), origin, axis)
    y = _correlate_full(x, np.asarray(w).reshape(shape), modes, origins, cval, out_dtype)
    return cast_result(y, out_dtype)


def _filter_prelude(input, output, axes):
    x = check_input(input)
    out_dtype = output_dtype(output, x.dtype, x.dtype.kind == "c")
    check_output_array(output, x.shape)
    return x, out_dtype, axes_arg(axes, x.ndim)


def _run_passes(x, passes, out_dtype, output):
    """passes: [(axis, weights, mode, cval, origin, post)]; post(y) or None after each."""
    if x.size == 0 or not passes:
        return store(cast_result(x, out_dtype), output, out_dtype)
    cur = x
    for axis, w, mode, cval, origin, post in passes:
        y = _correlate_full(cur, np.asarray(w).reshape(
            [len(w) if a == axis else 1 for a in range(cur.ndim)]),
            ["constant" if a != axis else mode for a in range(cur.ndim)],
            [0 if a != axis else origin for a in range(cur.ndim)], cval, out_dtype)
        if post is not None:
            y = post(y)
        cur = cast_result(y, out_dtype)
    return store(cur, output, out_dtype)


def _gaussian_kernel(sigma, order, radius):
    """Sampled Gaussian (normalised to sum 1) and its derivatives, on [-radius, radius].

    d^n/dx^n exp(-x^2 / (2 s^2)) = (-1/s)^n He_n(x/s) exp(-x^2 / (2 s^2)), with the
    probabilists' Hermite polynomials He_0 = 1, He_1 = t, He_{n+1} = t He_n - n He_{n-1};
    the derivative kernels use the same normalisation as the order-0 one.
    """
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    phi = np.exp(-0.5 * x * x / (sigma * sigma))
    phi /= phi.sum()
    if order == 0:
        return phi
    t = x / sigma
    he_prev, he = np.ones_like(t), t
    for n in range(1, order):
        he_prev, he = he, t * he - n * he_prev
    return (-1.0 / sigma) ** order * he * phi


def _radius(sigma, truncate, radius, axis):
    if radius is None:
        return int(float(truncate) * float(sigma) + 0.5)
    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or radius < 0:
        raise ValueError(f"convnd.ndimage: argument 'radius', axis {axis}: must be a "
                         f"non-negative int, got {radius!r}")
    return int(radius)


def _check_order(order, axis):
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 0:
        raise ValueError(f"convnd.ndimage: argument 'order', axis {axis}: must be a "
                         f"non-negative int, got {order!r}")


def _check_sigma(sigma, axis):
    try:
        s = float(sigma)
    except (TypeError, ValueError):
        raise TypeError(f"convnd.ndimage: argument 'sigma', axis {axis}: must be a number, "
                        f"got {sigma!r}") from None
    if not s >= 0:
        raise ValueError(f"convnd.ndimage: argument 'sigma', axis {axis}: must be >= 0, got "
                         f"{sigma!r}")


def gaussian_filter1d(input, sigma, axis=-1, order=0, output=None, mode="reflect", cval=0.0,
                      truncate=4.0, *, radius=None):
    """One-dimensional Gaussian filter (or its derivative of `order`), as
    scipy.ndimage.gaussian_filter1d. The kernel has ``radius`` (default
    ``int(truncate * sigma + 0.5)``) taps on each side of the centre.

    Examples
    --------
    >>> from convnd import ndimage
    >>> ndimage.gaussian_filter1d([1.0, 2.0, 3.0, 4.0, 5.0], 1).round(4)
    array([1.427 , 2.0678, 3.    , 3.9322, 4.573 ])
    """
    x, out_dtype, (axis,) = _filter_prelude(input, output, [axis])
    _check_sigma(sigma, axis)
    _check_order(order, axis)
    if not float(sigma) > 0:
        raise ValueError(f"convnd.ndimage: argument 'sigma', axis {axis}: must be > 0 for a "
                         f"1-D filter, got {sigma!r}")
    modes_arg(mode, 1)
    w = _gaussian_kernel(float(sigma), int(order), _radius(sigma, truncate, radius, axis))
    return _run_passes(x, [(axis, w[::-1], mode, cval, 0, None)], out_dtype, output)


def gaussian_filter(input, sigma, order=0, output=None, mode="reflect", cval=0.0, truncate=4.0,
                    *, radius=None, axes=None):
    """Multidimensional Gaussian filter, as scipy.ndimage.gaussian_filter: one 1-D pass per
    axis whose sigma is > 0 (an axis with sigma 0 is left alone).

    Parameters
    ----------
    input : array_like
    sigma : scalar or sequence of scalars
        Standard deviation per filtered axis.
    order : int or sequence of ints, optional
        0 smooths; n > 0 convolves with the n-th derivative of the Gaussian.
    output, mode, cval : as `correlate`
    truncate : float, optional
        The kernel reaches ``int(truncate * sigma + 0.5)`` samples from its centre.
    radius : int or sequence of ints, optional
        Overrides ``truncate``.
    axes : int or sequence of ints, optional
        The axes to filter (default all).

    Examples
    --------
    >>> import numpy as np
    >>> from convnd import ndimage
    >>> a = np.zeros((5, 5)); a[2, 2] = 1
    >>> ndimage.gaussian_filter(a, 1, truncate=1)[1:4, 1:4].round(4)
    array([[0.0751, 0.1238, 0.0751],
           [0.1238, 0.2042, 0.1238],
           [0.0751, 0.1238, 0.0751]])
    """
    x, out_dtype, axes = _filter_prelude(input, output, axes)
    n = len(axes)
    sigmas = per_axis(sigma, n, "sigma", _check_sigma)
    orders = per_axis(order, n, "order", _check_order)
    modes = modes_arg(mode, n)
    radii = per_axis(radius, n, "radius", lambda r, a: None)
    passes = []
    for i, axis in enumerate(axes):
        if float(sigmas[i]) > 1e-15:
            r = _radius(sigmas[i], truncate, radii[i], axis)
            w = _gaussian_kernel(float(sigmas[i]), int(orders[i]), r)
            passes.append((axis, w[::-1], modes[i], cval, 0, None))
    return _run_passes(x, passes, out_dtype, output)


def _check_size(size, axis):
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"convnd.ndimage: argument 'size', axis {axis}: must be an int >= 1, "
                         f"got {size!r}")


def uniform_filter1d(input, size, axis=-1, output=None, mode="reflect", cval=0.0, origin=0):
    """One-dimensional moving average of `size` samples, as scipy.ndimage.uniform_filter1d.

    Computed as the moving sum divided by `size` (not a sum of ``x / size``), so integer
    images average exactly as in scipy.

    Examples
    --------
    >>> from convnd import ndimage
    >>> ndimage.uniform_filter1d([2, 8, 0, 4, 1, 9, 9, 0], size=3)
    array([4, 3, 4, 1, 4, 6, 6, 3])
    """
    x, out_dtype, (axis,) = _filter_prelude(input, output, [axis])
    _check_size(size, axis)
    (origin,) = origins_arg(origin, 1)
    pads(int(size), origin, axis)
    modes_arg(mode, 1)
    size = int(size)
    return _run_passes(x, [(axis, np.ones(size), mode, cval, origin, lambda y: y / size)],
                       out_dtype, output)


def uniform_filter(input, size=3, output=None, mode="reflect", cval=0.0, origin=0, *,
                   axes=None):
    """Multidimensional moving average, as scipy.ndimage.uniform_filter: one 1-D pass per
    axis of `size` (per axis) > 1.

    Examples
    --------
    >>> import numpy as np
    >>> from convnd import ndimage
    >>> ndimage.uniform_filter(np.arange(9.0).reshape(3, 3), size=3, mode="nearest")
    array([[1.33333333, 2.        , 2.66666667],
           [3.33333333, 4.        , 4.66666667],
           [5.33333333, 6.        , 6.66666667]])
    """
    x, out_dtype, axes = _filter_prelude(input, output, axes)
    n = len(axes)
    sizes = per_axis(size, n, "size", _check_size)
    origins = origins_arg(origin, n)
    modes = modes_arg(mode, n)
    passes = []
    for i, axis in enumerate(axes):
        pads(int(sizes[i]), origins[i], axis)
        if sizes[i] > 1:
            s = int(sizes[i])
            passes.append((axis, np.ones(s), modes[i], cval, origins[i],
                           (lambda y, s=s: y / s)))
    return _run_passes(x, passes, out_dtype, output)


def _derivative_filter(input, axis, output, mode, cval, diff, smooth):
    x, out_dtype, _ = _filter_prelude(input, output, None)
    (axis,) = axes_arg(axis, x.ndim)
    modes = modes_arg(mode, x.ndim)
    passes = [(axis, diff, modes[axis], cval, 0, None)]
    passes += [(a, smooth, modes[a], cval, 0, None) for a in range(x.ndim) if a != axis]
    return _run_passes(x, passes, out_dtype, output)


def sobel(input, axis=-1, output=None, mode="reflect", cval=0.0):
    """Sobel derivative along `axis` (smoothing [1, 2, 1] along the others), as
    scipy.ndimage.sobel.

    Examples
    --------
    >>> import numpy as np
    >>> from convnd import ndimage
    >>> ndimage.sobel(np.array([[0., 0, 1, 1]] * 3), axis=1)
    array([[0., 4., 4., 0.],
           [0., 4., 4., 0.],
           [0., 4., 4., 0.]])
    """
    return _derivative_filter(input, axis, output, mode, cval, [-1.0, 0.0, 1.0],
                              [1.0, 2.0, 1.0])


def prewitt(input, axis=-1, output=None, mode="reflect", cval=0.0):
    """Prewitt derivative along `axis` (smoothing [1, 1, 1] along the others), as
    scipy.ndimage.prewitt.

    Examples
    --------
    >>> import numpy as np
    >>> from convnd import ndimage
    >>> ndimage.prewitt(np.array([[0., 0, 1, 1]] * 3), axis=1)
    array([[0., 3., 3., 0.],
           [0., 3., 3., 0.],
           [0., 3., 3., 0.]])
    """
    return _derivative_filter(input, axis, output, mode, cval, [-1.0, 0.0, 1.0],
                              [1.0, 1.0, 1.0])


def _generic_laplace(x, out_dtype, output, second_derivative):
    """sum over axes of second_derivative(x, axis), accumulated in the output dtype (the first
    axis's pass stored, then each further one added in place, wrapping for integers, as
    scipy's generic_laplace does)."""
    if x.size == 0:
        return store(np.zeros(x.shape, out_dtype), output, out_dtype)
    acc = second_derivative(x, 0)
    for axis in range(1, x.ndim):
        np.add(acc, second_derivative(x, axis), out=acc, casting="unsafe")
    return store(acc, output, out_dtype)


def laplace(input, output=None, mode="reflect", cval=0.0):
    """Laplace filter from second differences [1, -2, 1] along each axis, as
    scipy.ndimage.laplace.

    Examples
    --------
    >>> import numpy as np
    >>> from convnd import ndimage
    >>> ndimage.laplace(np.array([[0., 0, 0], [0, 1, 0], [0, 0, 0]]), mode="constant")
    array([[ 0.,  1.,  0.],
           [ 1., -4.,  1.],
           [ 0.,  1.,  0.]])
    """
    x, out_dtype, _ = _filter_prelude(input, output, None)
    modes = modes_arg(mode, x.ndim)

    def d2(a, axis):
        return _run_passes(a, [(axis, [1.0, -2.0, 1.0], modes[axis], cval, 0, None)],
                           out_dtype, None)
    return _generic_laplace(x, out_dtype, output, d2)


def gaussian_laplace(input, sigma, output=None, mode="reflect", cval=0.0, **kwargs):
    """Laplace of Gaussian: the sum over axes of the Gaussian filter with a second derivative
    along that axis, as scipy.ndimage.gaussian_laplace. `kwargs` (truncate, radius) go to
    `gaussian_filter`; as in scipy, the pass for axis i uses mode[i] along every axis.

    Examples
    --------
    >>> import numpy as np
    >>> from convnd import ndimage
    >>> a = np.zeros((5, 5)); a[2, 2] = 1
    >>> float(ndimage.gaussian_laplace(a, 1.0)[2, 2].round(4))
    -0.3183
    """
    x, out_dtype, _ = _filter_prelude(input, output, None)
    modes = modes_arg(mode, x.ndim)

    def d2(a, axis):
        order = [0] * a.ndim
        order[axis] = 2
        return gaussian_filter(a, sigma, order, out_dtype, modes[axis], cval, **kwargs)
    return _generic_laplace(x, out_dtype, output, d2)
