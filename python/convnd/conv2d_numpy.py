"""Drop-in for Conv2D-NumPy's conv2d (duongnphong/Conv2D-NumPy, conv2d.py).

Migration: replace ``from conv2d import conv2d`` by ``from convnd.conv2d_numpy import
conv2d``. Same signature and defaults, same behaviour: `image` is (H, W, channels); only its
first `in_channels` channels are used; each output channel o has ONE (kh, kw) kernel that is
applied to every input channel and summed (the original's kernels array has shape
(kh, kw, out_channels)), plus bias[o]; zero padding on all four sides (padding <= 0 means
none); the result is float64 of shape (out_h, out_w, out_channels) with
out = (in + 2 * padding - k) // stride + 1. Type checks as the original: TypeError when
image is not an ndarray or in_channels/out_channels are not ints, ValueError for a
kernel_size tuple of a length other than 1 or 2.

Additions: `weights=` (shape (kh, kw, out_channels)) and `bias=` (shape (out_channels,))
make the result reproducible. When either is omitted it is drawn exactly as the original
draws it (uniform in [-2, 2) from np.random, bias first, then the kernels), so after the same
np.random.seed(...) the two give the same numbers.

Deliberate differences (checked by tests/python/test_conv2d_numpy.py):
- No tqdm progress bar.
- The output must have at least one row and column (ValueError otherwise; the original
  returned an empty array or raised ValueError from np.zeros).
- in_channels larger than the image's channels raises ValueError (the original: IndexError).
"""

import numbers

import numpy as np

from . import _api

__all__ = ["conv2d"]


def _kernel_hw(kernel_size):
    if isinstance(kernel_size, numbers.Integral):
        return int(kernel_size), int(kernel_size)
    if isinstance(kernel_size, tuple) and len(kernel_size) == 1:
        return int(kernel_size[0]), int(kernel_size[0])
    if isinstance(kernel_size, tuple) and len(kernel_size) != 2:
        raise ValueError("Invalid kernel_size.")
    return int(kernel_size[0]), int(kernel_size[1])


def conv2d(image, in_channels, out_channels, kernel_size, stride=1, padding=0, *,
           weights=None, bias=None):
    """2-D convolution of an (H, W, C) image; returns (out_h, out_w, out_channels) float64."""
    if not isinstance(image, np.ndarray):
        raise TypeError("image should be of type numpy.ndarray.")
    if not isinstance(in_channels, int):
        raise TypeError("in_channels should be of type int.")
    if not isinstance(out_channels, int):
        raise TypeError("out_channels should be of type int.")
    kh, kw = _kernel_hw(kernel_size)
    if image.ndim != 3:
        raise ValueError(f"image must be (height, width, channels), got shape {image.shape}")
    if not 1 <= in_channels <= image.shape[2]:
        raise ValueError(f"in_channels must be in 1..{image.shape[2]} (the image's "
                         f"channels), got {in_channels}")
    # Same draw order as the original, so a seeded np.random reproduces it.
    if bias is None:
        bias = -2 + (2 - (-2)) * np.random.rand(out_channels)
    if weights is None:
        weights = -2 + (2 - (-2)) * np.random.rand(kh, kw, out_channels)
    weights = np.asarray(weights, dtype=np.float64)
    bias = np.asarray(bias, dtype=np.float64)
    if weights.shape != (kh, kw, out_channels):
        raise ValueError(f"weights must have shape {(kh, kw, out_channels)}, got "
                         f"{weights.shape}")
    if bias.shape != (out_channels,):
        raise ValueError(f"bias must have shape {(out_channels,)}, got {bias.shape}")
    pad = max(int(padding), 0)
    # The kernel is shared by all input channels, so summing the channels first gives the
    # same sum of correlations with in_channels times less work.
    summed = np.sum(image[:, :, :in_channels], axis=2, dtype=np.float64)
    x = summed[np.newaxis, :, :, np.newaxis]            # (1, H, W, 1) channels-last
    w = weights.transpose(2, 0, 1)[:, np.newaxis]       # (out, 1, kh, kw), a view
    y = _api.conv(x, w, bias, stride=int(stride), padding=pad, layout="channels_last")
    return y[0]
