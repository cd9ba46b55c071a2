"""The Python layer around the core: every argument honoured or refused up front, errors in
the caller's words (issue: Python and CLI front ends)."""

import math

import numpy as np
import pytest

import convnd
from convnd import mygrad

POLICIES = ("torch", "tf", "tf_lower", "numpy_ml", "scipy")


def oracle_same_pads(size, k, stride, dil, policy):
    """(lo, hi) of 'same' padding by each policy's definition, written out independently of
    the core: torch/scipy split dil*(k-1); tf/tf_lower aim at ceil(S/stride) outputs;
    numpy_ml at S outputs for any stride."""
    ke = dil * (k - 1) + 1
    if policy in ("torch", "scipy"):
        total = ke - 1
    elif policy in ("tf", "tf_lower"):
        total = max((math.ceil(size / stride) - 1) * stride + ke - size, 0)
    else:
        total = max((size - 1) * stride + ke - size, 0)
    small, large = total // 2, total - total // 2
    return (large, small) if policy in ("tf_lower", "scipy") else (small, large)


def geometries(policy):
    stride = 1 if policy in ("torch", "scipy") else 2
    for size in (5, 6, 9):
        for k in (3, 4):
            yield size, k, stride


@pytest.mark.parametrize("policy", POLICIES)
def test_same_policy_in_padding_string_is_honoured_everywhere(policy):
    rng = np.random.default_rng(1)
    for size, k, stride in geometries(policy):
        pads = [oracle_same_pads(size, k, stride, 1, policy)]
        x = rng.standard_normal((2, 3, size))
        w = rng.standard_normal((4, 3, k))
        by_string = dict(padding=f"same:{policy}", stride=stride)
        by_keyword = dict(padding="same", same_policy=policy, stride=stride)
        explicit = dict(padding=pads, stride=stride)
        # Geometry without computing.
        for kw in (by_string, by_keyword):
            assert convnd.resolve_padding(x.shape, w.shape, **kw) == pads, (policy, size, k)
            assert (convnd.output_shape(x.shape, w.shape, **kw)
                    == convnd.output_shape(x.shape, w.shape, **explicit))
            assert convnd.Plan(x.shape, w.shape, **kw).padding() == pads
        # Every pass, against explicit pairs.
        y = convnd.conv(x, w, **explicit)
        g = rng.standard_normal(y.shape)
        for kw in (by_string, by_keyword):
            np.testing.assert_array_equal(convnd.conv(x, w, **kw), y)
            np.testing.assert_array_equal(convnd.Plan(x.shape, w.shape, dtype=x.dtype,
                                                      **kw)(x, w), y)
            np.testing.assert_array_equal(
                convnd.conv_backward_data(g, w, x.shape, **kw),
                convnd.conv_backward_data(g, w, x.shape, **explicit))
            np.testing.assert_array_equal(
                convnd.conv_backward_weight(x, g, w.shape, **kw),
                convnd.conv_backward_weight(x, g, w.shape, **explicit))


@pytest.mark.parametrize("policy", POLICIES)
def test_same_policy_in_padding_string_on_dask(policy):
    da = pytest.importorskip("dask.array")
    import convnd.dask
    rng = np.random.default_rng(2)
    size, k, stride = 9, 4, 1 if policy in ("torch", "scipy") else 2
    x = rng.standard_normal((1, 2, size))
    w = rng.standard_normal((3, 2, k))
    expected = convnd.conv(x, w, padding=[oracle_same_pads(size, k, stride, 1, policy)],
                           stride=stride)
    got = convnd.dask.conv(da.from_array(x, chunks=(1, 2, 4)), w, padding=f"same:{policy}",
                           stride=stride)
    np.testing.assert_allclose(got.compute(), expected, rtol=1e-12, atol=1e-12)


def test_conflicting_policies_are_refused():
    x, w = np.zeros((1, 1, 5)), np.zeros((1, 1, 4))
    for call in (lambda: convnd.conv(x, w, padding="same:scipy", same_policy="tf"),
                 lambda: convnd.resolve_padding(x.shape, w.shape, padding="same:tf",
                                                same_policy="torch"),
                 lambda: convnd.Plan(x.shape, w.shape, padding="same:tf", same_policy="scipy")):
        with pytest.raises(ValueError, match="'padding' and 'same_policy'"):
            call()
    # Naming the same policy twice is not a conflict.
    assert convnd.resolve_padding(x.shape, w.shape, padding="same:scipy",
                                  same_policy="scipy") == [(2, 1)]


def test_transposed_same_names_the_policy_written():
    with pytest.raises(ValueError, match="'same:tf' is not defined for a transposed"):
        convnd.conv_transpose(np.zeros((1, 1, 5)), np.zeros((1, 1, 4)), padding="same:tf")


@pytest.mark.parametrize("call,words", [
    (lambda: convnd.conv_backward_weight(np.ones((1, 4, 8, 8)), np.ones((1, 4, 8, 8)),
                                         (4, 99, 3, 3), padding=1),
     "argument 'weight_shape', axis 1: must be C/groups = 4"),
    (lambda: convnd.Plan((1, 4, 8, 8), (4, 99, 3, 3), padding=1),
     "argument 'weight_shape', axis 1: must be C/groups = 4"),
    (lambda: convnd.output_shape((1, 4, 8, 8), (4, 99, 3, 3)),
     "argument 'weight_shape', axis 1"),
    (lambda: convnd.output_shape((1, 4, 8, 8), (5, 2, 3, 3), transposed=True, groups=2),
     "argument 'weight_shape', axis 0: must be C = 4"),
    (lambda: convnd.conv(np.ones((1, 3, 8, 8)), np.ones((2, 2, 3, 3))),
     "argument 'x', axis 1: expected 2 channels"),
    (lambda: convnd.conv_backward_data(np.ones((1, 2, 6, 6)), np.ones((2, 2, 3, 3)),
                                       (1, 3, 8, 8)),
     "argument 'input_shape', axis 1: expected 2 channels"),
])
def test_every_stated_shape_is_checked(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_channels_last_hint():
    with pytest.raises(ValueError, match="looks channels_last: pass layout='channels_last'"):
        convnd.conv(np.ones((1, 8, 8, 3)), np.ones((4, 3, 3, 3)))


def test_dask_checks_at_graph_construction_with_the_in_memory_message():
    da = pytest.importorskip("dask.array")
    import convnd.dask
    x = np.zeros((96, 80, 72))
    w = np.ones((5, 5, 5))
    with pytest.raises(ValueError) as in_memory:
        convnd.conv(x, w, padding="same")
    with pytest.raises(ValueError) as lazy:
        convnd.dask.conv(da.zeros((96, 80, 72), chunks=32), w, padding="same")
    assert str(lazy.value) == str(in_memory.value)
    with pytest.raises(ValueError) as in_memory:
        convnd.conv(np.zeros((8, 8)), np.zeros((3, 3)))
    with pytest.raises(ValueError) as lazy:
        convnd.dask.conv(da.zeros((8, 8), chunks=4), np.zeros((3, 3)))
    assert str(lazy.value) == str(in_memory.value)


def test_mygrad_gradients_keep_each_tensors_dtype():
    x = np.ones((1, 1, 6), np.float32)
    w = np.ones((1, 1, 3), np.float64)
    g = np.ones((1, 1, 4))
    dx, dw = mygrad.conv_nd_backward(x, w, g, stride=1)
    assert dx.dtype == np.float32 and dw.dtype == np.float64
    np.testing.assert_array_equal(dx[0, 0], [1, 2, 3, 3, 2, 1])


@pytest.mark.parametrize("kw", [dict(stride=1.0), dict(stride=(1.0,)), dict(stride=1, padding=0.5),
                                dict(stride=1, dilation=np.float64(1))])
def test_mygrad_float_geometry_raises_type_error(kw):
    with pytest.raises(TypeError):
        mygrad.conv_nd(np.ones((1, 1, 6)), np.ones((1, 1, 3)), **kw)


X = np.zeros((1, 2, 9))
W = np.zeros((3, 2, 3))


@pytest.mark.parametrize("kw,exc,words", [
    (dict(padding_mode=["reflect", "circular"]), ValueError, "per-axis modes"),
    (dict(padding_mode=None), TypeError, "'padding_mode': must be a string"),
    (dict(padding=2**63), ValueError, "'padding': 9223372036854775808 is out of range"),
    (dict(padding=[(0, 2**70)]), ValueError, "'padding', axis 0: .* out of range"),
    (dict(stride=2**64), ValueError, "'stride': .* out of range"),
    (dict(dilation=[2**63]), ValueError, "'dilation', axis 0: .* out of range"),
    (dict(stride="2"), TypeError, "'stride': must be an int"),
    (dict(groups=1.0), TypeError, "'groups': must be an int"),
    (dict(same_policy=3, padding="same"), TypeError, "'same_policy': must be a string"),
    (dict(layout=None), ValueError, "'layout'"),
    (dict(precision=None), TypeError, "'precision'"),
    (dict(algorithm=3), TypeError, "'algorithm'"),
    (dict(threads="4"), TypeError, "'threads'"),
    (dict(padding=b"same"), TypeError, "'padding'"),
])
def test_no_binding_internals_reach_the_user(kw, exc, words):
    with pytest.raises(exc, match=words) as info:
        convnd.conv(X, W, **kw)
    text = str(info.value)
    assert text.startswith("convnd: "), text
    for internal in ("incompatible constructor", "Unable to cast", "_core", "pybind11"):
        assert internal not in text


@pytest.mark.parametrize("call,words", [
    (lambda: convnd.conv_backward_data(np.zeros((1, 3, 5)), W, X.shape),
     r"argument 'grad_out', axis 2: extent 5 where the extent along spatial axis 0 must be 7"),
    (lambda: convnd.Plan(X.shape, W.shape, dtype="float64", op="backward_data").backward_data(
        np.zeros((1, 3, 6)), W), r"argument 'grad_out', axis 2"),
    (lambda: convnd.Plan(X.shape, W.shape, dtype="float64", op="backward_weight")
     .backward_weight(X, np.zeros((1, 4, 7)), W), r"argument 'grad_out', axis 1"),
    (lambda: convnd.conv(np.zeros((1, 2, 0)), W), r"argument 'x', axis 2: must be >= 1"),
    (lambda: convnd.Plan((1, 2, 0, 4), (3, 2, 3, 3), layout="channels_last"),
     r"argument 'input_shape', axis 2: must be >= 1"),
    (lambda: convnd.conv(X, np.zeros((3, 2, 0))), r"argument 'w', axis 2: must be >= 1"),
    (lambda: convnd.Plan((-1, 2, 9), (3, 2, 3)), r"argument 'input_shape', axis 0"),
])
def test_errors_name_arguments_as_the_caller_wrote_them(call, words):
    with pytest.raises(ValueError, match=words) as info:
        call()
    assert "spec's" not in str(info.value)


def test_error_points_at_missing_axes():
    with pytest.raises(ValueError, match=r"img\[None, None\]"):
        convnd.conv(np.zeros((8, 8)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"img\[None, \.\.\., None\]"):
        convnd.conv(np.zeros((8, 8)), np.zeros((3, 3)), layout="channels_last")


def test_forced_algorithm_that_does_not_fit_names_the_algorithm():
    with pytest.raises(ValueError) as info:
        convnd.conv(np.zeros((1, 1, 9)), np.zeros((1, 1, 3)), stride=2,
                    algorithm="winograd_f4")
    assert "argument 'algorithm'" in str(info.value)
