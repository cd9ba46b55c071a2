"""convnd.convolution against loop re-implementations of the seed's formulas."""

import numpy as np
import pytest

from convnd import convolution

RNG = np.random.default_rng(5)


def loop_conv(images, kernel, padding, stride):
    x = np.pad(images, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    f, _, kh, kw = kernel.shape
    oh = (x.shape[2] - kh) // stride + 1
    ow = (x.shape[3] - kw) // stride + 1
    y = np.zeros((x.shape[0], f, oh, ow))
    for n in range(x.shape[0]):
        for o in range(f):
            for i in range(oh):
                for j in range(ow):
                    win = x[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    y[n, o, i, j] = np.sum(win * kernel[o])
    return y


def loop_grads(X, kernel, dy, padding, stride):
    """Gradients by scattering each output's gradient over its window."""
    xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp = np.zeros_like(xp, dtype=np.float64)
    dW = np.zeros(kernel.shape)
    _, _, kh, kw = kernel.shape
    for n in range(dy.shape[0]):
        for o in range(dy.shape[1]):
            for i in range(dy.shape[2]):
                for j in range(dy.shape[3]):
                    sl = (slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw))
                    dW[o] += dy[n, o, i, j] * xp[(n, slice(None)) + sl]
                    dxp[(n, slice(None)) + sl] += dy[n, o, i, j] * kernel[o]
    h, w = X.shape[2:]
    return dW, dxp[:, :, padding:padding + h, padding:padding + w]


@pytest.mark.parametrize("padding,stride,shape", [(0, 1, (3, 3)), (1, 2, (3, 2)), (2, 3, (2, 4)),
                                                  (0, 2, (1, 1))])
def test_forward_and_backprop(padding, stride, shape):
    X = RNG.standard_normal((2, 3, 9, 8))
    K = RNG.standard_normal((4, 3) + shape)
    want = loop_conv(X, K, padding, stride)
    for f in (convolution.convolve_2d, convolution.fast_convolve_2d):
        np.testing.assert_allclose(f(X, K, padding, stride), want, rtol=1e-12, atol=1e-12)
    dy = RNG.standard_normal(want.shape)
    dW_want, dX_want = loop_grads(X, K, dy, padding, stride)
    for f in (convolution.convolution_backprop, convolution.fast_convolution_backprop):
        dW, dX = f(X, K, dy, padding, stride)
        np.testing.assert_allclose(dW, dW_want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dX, dX_want, rtol=1e-12, atol=1e-12)


def test_dtypes():
    X = RNG.standard_normal((1, 2, 6, 6)).astype(np.float32)
    K = RNG.standard_normal((3, 2, 3, 3)).astype(np.float32)
    assert convolution.convolve_2d(X, K).dtype == np.float64   # dtype=np.float in the original
    assert convolution.fast_convolve_2d(X, K).dtype == np.float32
    dy = np.ones((1, 3, 4, 4), np.float32)
    dW, dX = convolution.convolution_backprop(X, K, dy)
    assert dW.dtype == np.float64 and dX.dtype == np.float32
    dW, dX = convolution.fast_convolution_backprop(X, K, dy)
    assert dW.dtype == np.float32 and dX.dtype == np.float32
