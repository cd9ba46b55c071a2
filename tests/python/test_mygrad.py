"""convnd.mygrad against MyGrad's documented examples and the NumPy oracles."""

import numpy as np
import pytest

import oracles
from convnd import mygrad

RNG = np.random.default_rng(11)


def test_square_wave_and_its_gradients():
    # MyGrad's docstring example: float32 in, float32 out.
    x = np.zeros((1, 1, 16), np.float32)
    x[..., 5:11] = 1
    k = np.ones((1, 1, 5), np.float32)
    y = mygrad.conv_nd(x, k, stride=1)
    assert y.dtype == np.float32
    assert y.tolist() == [[[0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0]]]
    dx, dk = mygrad.conv_nd_backward(x, k, np.ones_like(y), stride=1)
    assert dx.tolist() == [[[1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 4, 3, 2, 1]]]
    assert dk.tolist() == [[[6, 6, 6, 6, 6]]]


def test_documented_shapes():
    x = RNG.random((10, 3, 32, 32))
    k = RNG.random((5, 3, 2, 2))
    assert mygrad.conv_nd(x, k, stride=2).shape == (10, 5, 16, 16)
    # The docs' kernel (2, 1, 3, 1, 32) is a typo: (2, 1, 3, 1, 2) gives the stated shape.
    x = RNG.random((1, 1, 10, 12, 10))
    k = RNG.random((2, 1, 3, 1, 2))
    assert mygrad.conv_nd(x, k, stride=1).shape == (1, 2, 8, 12, 9)
    with pytest.raises(ValueError):
        mygrad.conv_nd(x, RNG.random((2, 1, 3, 1, 32)), stride=1)


def test_edge_detection_example_shape():
    img = RNG.random((9, 11, 3)).astype(np.float32)
    x = img.transpose(2, 0, 1)[:, None, :, :]
    kernel = np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]).reshape(1, 1, 3, 3)
    out = mygrad.conv_nd(x, kernel, stride=(1, 1))
    assert out.shape == (3, 1, 7, 9)
    want = oracles.conv(x, kernel)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("trial", range(10))
def test_random_problems_against_oracle(trial):
    nd = 1 + trial % 3
    while True:
        size = tuple(int(v) for v in RNG.integers(3, 8, nd))
        kernel = tuple(int(v) for v in RNG.integers(1, 4, nd))
        stride = tuple(int(v) for v in RNG.integers(1, 3, nd))
        padding = tuple(int(v) for v in RNG.integers(0, 3, nd))
        dilation = tuple(int(v) for v in RNG.integers(1, 3, nd))
        spans = [s + 2 * p - (k - 1) * d - 1 for s, p, k, d in
                 zip(size, padding, kernel, dilation)]
        if all(v >= 0 and v % t == 0 for v, t in zip(spans, stride)) and all(
                k * d <= s + 2 * p for s, p, k, d in zip(size, padding, kernel, dilation)):
            break
    x = RNG.standard_normal((2, 3) + size)
    w = RNG.standard_normal((4, 3) + kernel)
    kw = dict(stride=stride, padding=padding, dilation=dilation)
    y = mygrad.conv_nd(x, w, **kw)
    np.testing.assert_allclose(y, oracles.conv(x, w, **kw), rtol=1e-12, atol=1e-12)
    g = RNG.standard_normal(y.shape)
    dx, dw = mygrad.conv_nd_backward(x, w, g, **kw)
    np.testing.assert_allclose(dx, oracles.backward_data(g, w, x.shape, **kw), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(dw, oracles.backward_weight(x, g, w.shape, **kw), rtol=1e-12,
                               atol=1e-12)


def test_incompatible_stride_message():
    with pytest.raises(ValueError, match="Stride and kernel dimensions are incompatible"):
        mygrad.conv_nd(np.zeros((1, 1, 6)), np.zeros((1, 1, 3)), stride=2)


def test_bad_arguments_are_value_and_assertion_errors():
    for kw in (dict(stride=0), dict(stride=1, padding=-1), dict(stride=1, dilation=0),
               dict(stride=(1, 1))):
        with pytest.raises(ValueError) as info:
            mygrad.conv_nd(np.zeros((1, 1, 6)), np.zeros((1, 1, 3)), **kw)
        assert isinstance(info.value, AssertionError)


def test_array_likes_and_integer_inputs():
    y = mygrad.conv_nd([[[0, 1, 2, 3]]], [[[1, 1]]], stride=1)
    assert y.dtype == np.float64 and y.tolist() == [[[1, 3, 5]]]
