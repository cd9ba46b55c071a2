"""Bad input gets a clean ValueError/TypeError naming the problem, never a crash."""

import numpy as np
import pytest

import convnd
from convnd import conv2d_numpy, convolution, mygrad, numpy_ml

X = np.zeros((1, 3, 8, 8), np.float32)
W = np.zeros((4, 3, 3, 3), np.float32)


@pytest.mark.parametrize("call,exc,words", [
    (lambda: convnd.conv(X[0, 0], W[0, 0]), ValueError, "3 dimensions"),
    (lambda: convnd.conv(X, W[0]), ValueError, "same number of dimensions"),
    (lambda: convnd.conv(X, np.zeros((4, 2, 3, 3), np.float32)), ValueError, "w"),
    (lambda: convnd.conv(X.astype(np.int32), W), TypeError, "float32 or float64"),
    (lambda: convnd.conv(X.astype(np.float16), W), TypeError, "float32 or float64"),
    (lambda: convnd.conv(X.astype(np.complex64), W), TypeError, "float32 or float64"),
    (lambda: convnd.conv(X, W.astype(np.float64)), TypeError, "same dtype"),
    (lambda: convnd.conv(X, W, padding=-1), ValueError, "padding"),
    (lambda: convnd.conv(X, W, padding=((0, -2), (1, 1))), ValueError, "padding"),
    (lambda: convnd.conv(X, W, stride=0), ValueError, "stride"),
    (lambda: convnd.conv(X, W, stride=(1, 2, 3)), ValueError, "stride"),
    (lambda: convnd.conv(X, W, dilation=0), ValueError, "dilation"),
    (lambda: convnd.conv(X, np.zeros((4, 3, 9, 3), np.float32)), ValueError, "output extent"),
    (lambda: convnd.conv(X, W, padding="bogus"), ValueError, "padding"),
    (lambda: convnd.conv(X, W, padding_mode="bogus"), ValueError, "padding_mode"),
    (lambda: convnd.conv(X, W, layout="nhwc?"), ValueError, "layout"),
    (lambda: convnd.conv(X, W, groups=2), ValueError, "groups"),
    (lambda: convnd.conv(X, W, stride=2, padding="same"), ValueError, "same"),
    (lambda: convnd.conv(X, W, bias=np.zeros(3, np.float32)), ValueError, "bias"),
    (lambda: convnd.conv(X, W, out=np.zeros((1, 4, 6, 5), np.float32)), ValueError, "shape"),
    (lambda: convnd.conv(X, W, out=np.zeros((1, 4, 6, 6))), TypeError, "dtype"),
    (lambda: convnd.conv(X, W, algorithm="no_such_algorithm"), ValueError, "algorithm"),
    (lambda: convnd.conv_transpose(X, W, stride=2, output_padding=2), ValueError,
     "output_padding"),
    (lambda: convnd.conv_backward_data(np.zeros((1, 4, 5, 5), np.float32), W, X.shape),
     ValueError, "grad_out"),
    (lambda: convnd.conv_backward_weight(X, np.zeros((1, 4, 6, 6), np.float32), (4, 3, 3)),
     ValueError, "w"),
    (lambda: convnd.Plan((1, 3, 8, 8), (4, 3, 3, 3), op="sideways"), ValueError, "op"),
])
def test_main_api_errors(call, exc, words):
    with pytest.raises(exc, match=words):
        call()


def test_core_message_names_argument_and_axis():
    with pytest.raises(ValueError) as info:
        convnd.conv(X, W, stride=(1, 0))
    assert str(info.value) == "convnd: argument 'stride', axis 1: must be >= 1 (got 0)"


def test_failed_call_leaves_out_untouched():
    out = np.full((1, 4, 6, 6), 7.0, np.float32)
    with pytest.raises(ValueError):
        convnd.conv(X, np.zeros((4, 2, 3, 3), np.float32), out=out)
    assert np.all(out == 7.0)


@pytest.mark.parametrize("call,exc", [
    (lambda: numpy_ml.conv2D(np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 3, 4)), 1, 0), ValueError),
    (lambda: numpy_ml.conv2D(np.zeros((1, 5, 5, 2)), np.zeros((7, 3, 2, 4)), 1, 0), ValueError),
    (lambda: numpy_ml.conv2D(np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 2, 4)), 0, 0), ValueError),
    (lambda: numpy_ml.conv2D(np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 2, 4)), 1, -1), ValueError),
    (lambda: numpy_ml.conv2D(np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 2, 4)), 1, "bogus"),
     ValueError),
    (lambda: numpy_ml.conv2D(np.zeros((5, 5, 2)), np.zeros((3, 3, 2, 4)), 1, 0), ValueError),
    (lambda: numpy_ml.conv2D(np.zeros((1, 5, 5, 2), complex), np.zeros((3, 3, 2, 4)), 1, 0),
     TypeError),
    (lambda: numpy_ml.col2im(np.zeros((18, 9)), (1, 5, 5, 2), (3, 3, 2, 1), 0, 1), TypeError),
    (lambda: numpy_ml.calc_pad_dims_2D([1, 5, 5, 2], (5, 5), (3, 3), 1), ValueError),
    (lambda: numpy_ml.calc_pad_dims_2D((1, 5, 5, 2), (5, 5), (3, 3), 1.0), ValueError),
    (lambda: numpy_ml.calc_conv_out_dims((1, 2), (3, 3)), ValueError),
    (lambda: mygrad.conv_nd(np.zeros((2, 3)), np.zeros((1, 3)), stride=1), ValueError),
    (lambda: mygrad.conv_nd(np.zeros((1, 3, 4)), np.zeros((1, 2, 2)), stride=1), ValueError),
    (lambda: mygrad.conv_nd(np.zeros((1, 3, 4)), np.zeros((1, 3, 2, 2)), stride=1), ValueError),
    (lambda: mygrad.conv_nd(np.zeros((1, 3, 4)), np.zeros((1, 3, 2)), stride=0), ValueError),
    (lambda: mygrad.conv_nd(np.zeros((1, 3, 4)), np.zeros((1, 3, 2)), stride=1, padding=-1),
     AssertionError),
    (lambda: mygrad.conv_nd(np.zeros((1, 3, 5)), np.zeros((1, 3, 2)), stride=2), ValueError),
    (lambda: conv2d_numpy.conv2d([[1.0]], 1, 1, 1), TypeError),
    (lambda: conv2d_numpy.conv2d(np.zeros((4, 4, 1)), 1.0, 1, 1), TypeError),
    (lambda: conv2d_numpy.conv2d(np.zeros((4, 4, 1)), 1, "2", 1), TypeError),
    (lambda: conv2d_numpy.conv2d(np.zeros((4, 4, 1)), 1, 1, (1, 2, 3)), ValueError),
    (lambda: conv2d_numpy.conv2d(np.zeros((4, 4, 1)), 1, 1, 5), ValueError),
    (lambda: conv2d_numpy.conv2d(np.zeros((4, 4, 1)), 2, 1, 3), ValueError),
    (lambda: convolution.convolve_2d(np.zeros((1, 3, 4, 4)), np.zeros((2, 2, 3, 3))),
     ValueError),
    (lambda: convolution.fast_convolve_2d(np.zeros((1, 3, 4, 4)), np.zeros((2, 3, 3, 3)),
                                          stride=0), ValueError),
    (lambda: convolution.fast_convolve_2d(np.zeros((1, 3, 4, 4)), np.zeros((2, 3, 3, 3)),
                                          padding=-1), ValueError),
    (lambda: convolution.convolution_backprop(np.zeros((1, 3, 4, 4)), np.zeros((2, 3, 3, 3)),
                                              np.zeros((1, 2, 3, 3))), ValueError),
])
def test_drop_in_errors(call, exc):
    with pytest.raises(exc):
        call()


# An allocation that fails inside the core is a MemoryError naming what it was for, not a
# ValueError: the arguments were valid. An empty batch keeps every array empty while the
# reference's backward-data plane (one float64 per input position: 2^45 positions, 256 TiB, past
# any 48-bit address space, whatever the overcommit policy) cannot be allocated.
@pytest.mark.parametrize("make_plan", [False, True])
def test_workspace_that_cannot_be_allocated_is_a_memory_error(make_plan):
    n = 2**45
    dy = np.zeros((0, 1, n), np.float64)
    w = np.zeros((1, 1, 1), np.float64)
    with pytest.raises(MemoryError) as info:
        if make_plan:
            plan = convnd.Plan((0, 1, n), w.shape, op="backward_data", dtype="float64",
                               algorithm="reference")
            assert plan.workspace_bytes == 8 * n
            plan.backward_data(dy, w)
        else:
            convnd.conv_backward_data(dy, w, (0, 1, n), algorithm="reference")
    msg = str(info.value)
    assert "cannot allocate %d bytes for the workspace" % (8 * n) in msg, msg
    assert "(bwd_data, algorithm reference)" in msg, msg
    assert not isinstance(info.value, ValueError)
