"""Drop-in for the CS231n-style convolution.py seed: convolve_2d, fast_convolve_2d,
convolution_backprop, fast_convolution_backprop.

Migration: replace ``from convolution import convolve_2d`` (etc.) by ``from
convnd.convolution import convolve_2d``. Same signatures and defaults (padding=0,
stride=1), same layouts: images (N, C, H, W), kernel (F, C, kh, kw), gradients
(N, F, out_h, out_w); output size (H + 2 * padding - kh) // stride + 1; zero padding; the
backprop functions return (dW, dX). convolve_2d returns float64 like the original
(dtype=np.float); the fast functions return the result type of their inputs; the naive
convolution_backprop returns dW in float64 and dX in the dtype of X, as the original.

Deliberate differences (checked by tests/python/test_convolution.py):
- convolution_backprop returns the true gradients for every stride, padding and kernel
  shape. The original is right only for stride 1, padding 0 and square kernels: with a
  stride it reads the gradient at input coordinates (wrong values or IndexError), its dX
  ignores the stride, with padding it crops dX to H - padding rows, and it pads the
  gradient by kernel_w - 1 rows and kernel_h - 1 columns (swapped).
- convolve_2d works on NumPy >= 1.24 (the original used np.float, which no longer exists).
- A channel mismatch between images and kernel raises ValueError (the original broadcast a
  single-channel kernel over all channels, or failed inside the loops).
- An output with no rows or columns raises ValueError (the original returned an empty array
  or failed in np.zeros); stride < 1 and negative padding raise ValueError.
- Integer inputs compute in float64; other non-float dtypes raise TypeError. The naive
  convolution_backprop accumulates dX in float64 before casting to X's dtype.
"""

import numpy as np

from . import _api

__all__ = ["convolve_2d", "fast_convolve_2d", "convolution_backprop",
           "fast_convolution_backprop"]


def _float(*arrays):
    dt = np.result_type(*arrays)
    if dt in (np.float32, np.float64):
        return dt
    if dt.kind in "iub":
        return np.dtype(np.float64)
    if dt.kind == "f" and dt.itemsize < 4:
        return np.dtype(np.float32)
    raise TypeError(f"convnd.convolution: dtype {dt} is not supported (float32 or float64)")


def _check(images, kernel):
    if images.ndim != 4 or kernel.ndim != 4:
        raise ValueError(f"images must be (N, C, H, W) and kernel (F, C, kh, kw), got "
                         f"{images.shape} and {kernel.shape}")
    if images.shape[1] != kernel.shape[1]:
        raise ValueError(f"images have {images.shape[1]} channels but the kernel expects "
                         f"{kernel.shape[1]}")


def _forward(images, kernel, padding, stride, dtype):
    images = np.asarray(images)
    kernel = np.asarray(kernel)
    _check(images, kernel)
    return _api.conv(images.astype(dtype, copy=False), kernel.astype(dtype, copy=False),
                     stride=int(stride), padding=int(padding))


def convolve_2d(images, kernel, padding=0, stride=1):
    """Naive version in the original; here the same core call, returning float64."""
    return _forward(images, kernel, padding, stride, np.float64)


def fast_convolve_2d(inputs, kernel, padding=0, stride=1):
    """im2col version in the original; returns the inputs' result type."""
    return _forward(inputs, kernel, padding, stride, _float(inputs, kernel))


def _gradients(X, kernel, gradient_values, padding, stride, dtype):
    X = np.asarray(X)
    kernel = np.asarray(kernel)
    _check(X, kernel)
    kw = dict(stride=int(stride), padding=int(padding))
    X_, k_ = X.astype(dtype, copy=False), kernel.astype(dtype, copy=False)
    dy = np.asarray(gradient_values).astype(dtype, copy=False)
    dW = _api.conv_backward_weight(X_, dy, kernel.shape, **kw)
    dX = _api.conv_backward_data(dy, k_, X.shape, **kw)
    return dW, dX


def convolution_backprop(X, kernel, gradient_values, padding=0, stride=1):
    """(dW, dX) of the convolution for the upstream gradient; dW float64, dX X's dtype."""
    dx_dtype = _float(X)
    dW, dX = _gradients(X, kernel, gradient_values, padding, stride, np.float64)
    return dW, dX.astype(dx_dtype, copy=False)


def fast_convolution_backprop(inputs, kernel, gradient_values, padding=0, stride=1):
    """(dW, dX) of the convolution; the result type of the inputs and gradients."""
    dtype = _float(inputs, kernel, gradient_values)
    return _gradients(inputs, kernel, gradient_values, padding, stride, dtype)
