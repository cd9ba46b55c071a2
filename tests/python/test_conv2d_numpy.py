"""convnd.conv2d_numpy against a loop re-implementation of Conv2D-NumPy's conv2d."""

import numpy as np
import pytest

from convnd import conv2d_numpy


def loop_conv2d(image, in_channels, out_channels, kh, kw, stride, padding, weights, bias):
    """The original's recipe: the same (kh, kw) kernel over each used input channel, summed."""
    if padding > 0:
        image = np.pad(image, ((padding, padding), (padding, padding), (0, 0)))
    rows = (image.shape[0] - kh) // stride + 1
    cols = (image.shape[1] - kw) // stride + 1
    out = np.zeros((rows, cols, out_channels))
    for o in range(out_channels):
        for c in range(in_channels):
            for i in range(rows):
                for j in range(cols):
                    patch = image[i * stride:i * stride + kh, j * stride:j * stride + kw, c]
                    out[i, j, o] += np.sum(patch * weights[:, :, o])
        out[:, :, o] += bias[o]
    return out


@pytest.mark.parametrize("stride,padding,kernel_size,kh,kw", [
    (1, 0, 3, 3, 3), (2, 1, (3, 2), 3, 2), (3, 2, (2,), 2, 2), (1, -1, 2, 2, 2),
    (2, 0, [2, 3], 2, 3)])
def test_matches_loops_with_given_weights(stride, padding, kernel_size, kh, kw):
    rng = np.random.default_rng(stride * 10 + padding)
    image = rng.integers(0, 256, (9, 11, 4)).astype(np.uint8)
    weights = rng.uniform(-2, 2, (kh, kw, 5))
    bias = rng.uniform(-2, 2, 5)
    got = conv2d_numpy.conv2d(image, 3, 5, kernel_size, stride, padding, weights=weights,
                              bias=bias)
    want = loop_conv2d(image, 3, 5, kh, kw, stride, padding, weights, bias)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


def test_seeded_draws_reproduce_the_original_order():
    image = np.random.default_rng(0).random((8, 8, 3))
    np.random.seed(123)
    got = conv2d_numpy.conv2d(image, 3, 4, 3, padding=1)
    np.random.seed(123)
    bias = -2 + 4 * np.random.rand(4)           # the original draws the bias first,
    weights = -2 + 4 * np.random.rand(3, 3, 4)  # then the kernels
    want = loop_conv2d(image, 3, 4, 3, 3, 1, 1, weights, bias)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert got.shape == (8, 8, 4)
