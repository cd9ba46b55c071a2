"""convnd.dask.ndimage: scipy.ndimage-style filters of dask arrays (as dask-image's ndfilters).

    import dask.array as da, convnd.dask
    image = da.from_zarr(...)                        # any dask array, any chunks
    y = convnd.dask.ndimage.correlate(image, weights, mode="nearest")
    g = convnd.dask.ndimage.gaussian_filter(image, sigma=5)

Results equal convnd.ndimage on the computed array (and so scipy.ndimage's, to rounding),
whatever the chunks: each filter runs as convnd.dask.conv on the image with a batch and a
channel axis added, whose blocks cut their halos from the neighbouring chunks by global
coordinates, so every mode is exact at the image's edges, for kernels wider than a chunk too
(dask-image's map_overlap with boundary='none' applies the mode at chunk edges instead).
Every argument and shape is checked when the graph is built, by the same rules as
convnd.ndimage, and by the core's planning of the whole-array convolution.

Mode mapping, origins, per-axis modes and cval as convnd.ndimage (convnd._ndimage_args):
axes whose mode the core cannot take in the same call are padded lazily with dask.array.pad.
Integer images are computed in float64 and cast back by truncation as scipy does; complex
images are not supported here (TypeError).
"""

import dask.array as da
import numpy as np

from . import dask as _dask
from ._ndimage_args import (axes_arg, cast_result, compute_dtype, modes_arg, origins_arg,
                            pad_plan, pads, per_axis)
from .ndimage import _check_order, _check_sigma, _gaussian_kernel, _radius, _weights_arg

__all__ = ["correlate", "convolve", "gaussian_filter"]


def _image_arg(image):
    x = image if isinstance(image, da.Array) else da.asarray(np.asarray(image))
    if x.dtype.kind not in "iuf" or (x.dtype.kind == "f" and x.dtype.itemsize < 4):
        raise TypeError(f"convnd.dask.ndimage: argument 'image': dtype must be an integer, "
                        f"float32 or float64 type, got {x.dtype}")
    if x.ndim == 0:
        raise ValueError("convnd.dask.ndimage: argument 'image': needs at least one dimension")
    if any(np.isnan(c) for cs in x.chunks for c in cs):
        raise ValueError("convnd.dask.ndimage: argument 'image': chunk sizes must be known "
                         "(call image.compute_chunk_sizes() first)")
    return x


def _correlate_lazy(x, w, modes, origins, cval, out_dtype):
    """Lazy real correlation of dask x with NumPy w (x.ndim axes), cast to out_dtype."""
    cdt = compute_dtype(x.dtype, out_dtype)
    pad_pairs = [pads(k, o, axis) for axis, (k, o) in enumerate(zip(w.shape, origins))]
    core_mode, core_pads, numpy_pads = pad_plan(modes, pad_pairs, cval)
    xc = x.astype(cdt)
    for axis, pair, np_mode in numpy_pads:
        width = [(0, 0)] * x.ndim
        width[axis] = pair
        extra = {"constant_values": cval} if np_mode == "constant" else {}
        xc = da.pad(xc, width, mode=np_mode, **extra)
    y = _dask.conv(xc[None, None], np.asarray(w, dtype=cdt)[None, None], padding=core_pads,
                   padding_mode=core_mode)[0, 0]
    if np.dtype(out_dtype) != cdt:
        y = y.map_blocks(cast_result, out_dtype, dtype=out_dtype)
    return y


def _correlate_or_convolve(image, weights, mode, cval, origin, convolution):
    x = _image_arg(image)
    w = _weights_arg(weights)
    if w.dtype.kind == "c":
        raise TypeError("convnd.dask.ndimage: argument 'weights': complex kernels are not "
                        "supported on dask arrays")
    if w.ndim != x.ndim:
        raise ValueError(f"convnd.dask.ndimage: argument 'weights': must have one axis per "
                         f"axis of the image ({x.ndim}), got shape {w.shape}")
    if any(k == 0 for k in w.shape):
        raise ValueError(f"convnd.dask.ndimage: argument 'weights': every axis needs at least "
                         f"one tap, got shape {w.shape}")
    modes = modes_arg(mode, x.ndim)
    origins = origins_arg(origin, x.ndim)
    for axis, (k, o) in enumerate(zip(w.shape, origins)):
        pads(k, o, axis)
    if convolution:  # see convnd.ndimage.convolve
        w = w[(slice(None, None, -1),) * w.ndim]
        origins = [-o - (1 - k % 2) for k, o in zip(w.shape, origins)]
    return _correlate_lazy(x, w, modes, origins, cval, x.dtype)


def correlate(image, weights, mode="reflect", cval=0.0, origin=0):
    """Lazy scipy.ndimage.correlate of a dask array (same result as convnd.ndimage.correlate).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import convnd.dask
    >>> x = da.from_array(np.arange(36.0).reshape(6, 6), chunks=2)
    >>> y = convnd.dask.ndimage.correlate(x, np.ones((3, 3)) / 9, mode="nearest")
    >>> bool(np.allclose(y.compute(), convnd.ndimage.correlate(x.compute(), np.ones((3, 3)) / 9,
    ...                                                       mode="nearest")))
    True
    """
    return _correlate_or_convolve(image, weights, mode, cval, origin, False)


def convolve(image, weights, mode="reflect", cval=0.0, origin=0):
    """Lazy scipy.ndimage.convolve of a dask array (same result as convnd.ndimage.convolve)."""
    return _correlate_or_convolve(image, weights, mode, cval, origin, True)


def gaussian_filter(image, sigma, order=0, mode="reflect", cval=0.0, truncate=4.0, *,
                    radius=None):
    """Lazy scipy.ndimage.gaussian_filter of a dask array: one 1-D pass per axis (sigma > 0),
    each stored in the image's dtype before the next, as convnd.ndimage.gaussian_filter."""
    x = _image_arg(image)
    n = x.ndim
    sigmas = per_axis(sigma, n, "sigma", _check_sigma)
    orders = per_axis(order, n, "order", _check_order)
    modes = modes_arg(mode, n)
    radii = per_axis(radius, n, "radius", lambda r, a: None)
    y = x
    for axis in axes_arg(None, n):
        if float(sigmas[axis]) > 1e-15:
            r = _radius(sigmas[axis], truncate, radii[axis], axis)
            w = _gaussian_kernel(float(sigmas[axis]), int(orders[axis]), r)[::-1]
            shape = [1] * n
            shape[axis] = len(w)
            pass_modes = ["constant"] * n
            pass_modes[axis] = modes[axis]
            y = _correlate_lazy(y, w.reshape(shape), pass_modes, [0] * n, cval, x.dtype)
    return y
