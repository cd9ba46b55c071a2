"""The drop-ins against outputs of the original codes (tests/python/data, see its README)."""

import numpy as np
import pytest

from convnd import _api, mygrad, numpy_ml
from golden import assert_close, cases, pad_arg

ERRORS = {"ValueError": ValueError, "AssertionError": AssertionError, "TypeError": TypeError,
          "IndexError": IndexError}


@pytest.mark.parametrize("i,case", cases("numpy_ml_conv2D"))
def test_numpy_ml_conv2D(i, case):
    X, W, s, d, pad = case["X"], case["W"], case["stride"], case["dilation"], pad_arg(case["pad"])
    if case["error"]:
        with pytest.raises(ERRORS[case["error"]]):
            numpy_ml.conv2D(X, W, s, pad, d)
        return
    assert_close(numpy_ml.conv2D(X, W, s, pad, d), case["Z"])
    _, p = numpy_ml.pad2D(X, pad, W.shape[:2], s, d)
    assert list(p) == case["pad_resolved"]
    cols, p2 = numpy_ml.im2col(X, W.shape, pad, s, d)
    assert list(p2) == case["pad_resolved"]
    assert_close(cols, case["im2col"], rtol=0)
    back = numpy_ml.col2im(cols, X.shape, W.shape, tuple(p2), s, d)
    assert_close(back, case["col2im_of_im2col"])
    if "Z_naive" in case:
        assert_close(numpy_ml.conv2D_naive(X, W, s, pad, d), case["Z_naive"])


@pytest.mark.parametrize("i,case", cases("numpy_ml_conv1D"))
def test_numpy_ml_conv1D(i, case):
    X, W, s, d, pad = case["X"], case["W"], case["stride"], case["dilation"], pad_arg(case["pad"])
    if case["error"]:
        with pytest.raises(ERRORS[case["error"]]):
            numpy_ml.conv1D(X, W, s, pad, d)
        return
    assert_close(numpy_ml.conv1D(X, W, s, pad, d), case["Z"])


@pytest.mark.parametrize("i,case", cases("numpy_ml_deconv2D_naive"))
def test_numpy_ml_deconv2D_naive(i, case):
    X, W, s, d, pad = case["X"], case["W"], case["stride"], case["dilation"], pad_arg(case["pad"])
    if case["error"]:
        with pytest.raises(ERRORS[case["error"]]):
            numpy_ml.deconv2D_naive(X, W, s, pad, d)
        return
    assert_close(numpy_ml.deconv2D_naive(X, W, s, pad, d), case["Y"])


@pytest.mark.parametrize("i,case", cases("mygrad_conv_nd"))
def test_mygrad_conv_nd(i, case):
    x, w = case["x"], case["w"]
    kw = dict(stride=tuple(case["stride"]), padding=tuple(case["padding"]),
              dilation=tuple(case["dilation"]))
    if case["error"]:
        with pytest.raises(ERRORS[case["error"]]):
            mygrad.conv_nd(x, w, **kw)
        with pytest.raises(ERRORS[case["error"]]):
            mygrad.conv_nd_backward(x, w, np.zeros(1), **kw)
        return
    assert_close(mygrad.conv_nd(x, w, **kw), case["y"])
    dx, dw = mygrad.conv_nd_backward(x, w, case["grad"], **kw)
    assert_close(dx, case["dx"])
    assert_close(dw, case["dw"])


@pytest.mark.parametrize("i,case", cases("scipy_correlate_1d"))
def test_scipy_correlate_1d(i, case):
    # scipy.signal.correlate(a, b, mode) is convnd's conv with padding valid / full /
    # same under the scipy policy (the extra element of an even kernel on the low side).
    a = case["a"][np.newaxis, np.newaxis]
    b = case["b"][np.newaxis, np.newaxis]
    for mode in ("valid", "full", "same"):
        if case[mode].size == 0:
            # scipy returns an empty 'valid' result for a kernel longer than the input;
            # convnd rejects an output extent < 1 with a message (see the README).
            with pytest.raises(ValueError, match="output extent"):
                _api.conv(a, b, padding=mode)
            continue
        got = _api.conv(a, b, padding=mode, same_policy="scipy", algorithm="reference")
        assert_close(got[0, 0], case[mode])
