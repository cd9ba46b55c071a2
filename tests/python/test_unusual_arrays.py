"""Arrays as people actually pass them: non-contiguous, reversed, read-only, empty, byte-swapped,
misaligned, of the wrong dtype, of absurd shapes, or of Python objects. Each call must give the
result of the same call on a clean contiguous copy, or raise a clean exception, never crash.
Shapes and array forms are drawn by hypothesis."""

import numpy as np
import pytest

import convnd

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

FORMS = ["contiguous", "strided", "reversed", "readonly", "byteswapped", "misaligned",
         "fortran", "broadcast"]


def unusual(a, form):
    """`a`'s values in another memory form."""
    if form == "strided":
        big = np.zeros(tuple(2 * s + 1 for s in a.shape), a.dtype)
        view = big[tuple(slice(1, None, 2) for _ in a.shape)]
        view[...] = a
        return view
    if form == "reversed":
        big = np.ascontiguousarray(a[(slice(None, None, -1),) * a.ndim])
        return big[(slice(None, None, -1),) * a.ndim]
    if form == "readonly":
        r = a.copy()
        r.setflags(write=False)
        return r
    if form == "byteswapped":
        return a.astype(a.dtype.newbyteorder(">" if a.dtype.byteorder != ">" else "<"))
    if form == "misaligned":
        raw = np.zeros(a.nbytes + 1, np.uint8)
        m = raw[1:].view(a.dtype).reshape(a.shape)
        m[...] = a
        return m
    if form == "fortran":
        return np.asfortranarray(a)
    if form == "broadcast" and a.shape[0] == 1:
        return np.broadcast_to(a[:1], a.shape)  # zero strides on the batch axis (read-only)
    return a


@st.composite
def calls(draw):
    d = draw(st.integers(1, 3))
    c = draw(st.integers(1, 3))
    k = draw(st.integers(1, 3))
    n = draw(st.integers(0, 2))
    kernel = [draw(st.integers(1, 3)) for _ in range(d)]
    size = [kk + draw(st.integers(0, 4)) for kk in kernel]
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return dict(x_shape=(n, c, *size), w_shape=(k, c, *kernel), dtype=dtype,
                x_form=draw(st.sampled_from(FORMS)), w_form=draw(st.sampled_from(FORMS)),
                stride=draw(st.integers(1, 2)), padding=draw(st.integers(0, 2)),
                seed=draw(st.integers(0, 2**31)))


@hypothesis.settings(max_examples=150, deadline=None, database=None)
@hypothesis.given(calls())
def test_unusual_memory_forms_give_the_contiguous_result(p):
    rng = np.random.default_rng(p["seed"])
    x = rng.integers(-8, 9, p["x_shape"]).astype(p["dtype"])
    w = rng.integers(-8, 9, p["w_shape"]).astype(p["dtype"])
    kw = dict(stride=p["stride"], padding=p["padding"])
    want = convnd.conv(x, w, algorithm="reference", **kw)
    xu, wu = unusual(x, p["x_form"]), unusual(w, p["w_form"])
    got = convnd.conv(xu, wu, **kw)
    assert got.dtype == np.dtype(p["dtype"]).newbyteorder("=")
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    # The inputs are never written.
    np.testing.assert_array_equal(np.asarray(xu), x)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float16, np.complex64, np.bool_, object])
def test_unsupported_dtypes_are_type_errors(dtype):
    x = np.ones((1, 1, 5)).astype(dtype)
    w = np.ones((1, 1, 3)).astype(dtype)
    with pytest.raises(TypeError, match="float32|float64"):
        convnd.conv(x, w)


def test_object_arrays_and_ragged_inputs_are_clean_errors():
    with pytest.raises((TypeError, ValueError)):
        convnd.conv(np.array([[["a", "b", "c"]]], dtype=object), np.ones((1, 1, 2)))
    with pytest.raises((TypeError, ValueError)):
        convnd.conv([[[1.0, 2.0], [3.0]]], np.ones((1, 1, 1)))


def test_absurd_shapes_are_clean_errors():
    # A view of 2^48 elements backed by one float: the output alone could never be allocated.
    huge = np.lib.stride_tricks.as_strided(np.zeros(1, np.float32), (1, 1, 2**24, 2**24),
                                           (0, 0, 0, 0), writeable=False)
    w = np.ones((1, 1, 1, 1), np.float32)
    with pytest.raises((ValueError, MemoryError)):
        convnd.conv(huge, w)
    with pytest.raises(ValueError, match="overflow|int64|output"):
        convnd.output_shape((2**40, 2**40, 2**40), (1, 2**40, 1))


def test_mismatched_dtypes_between_arguments():
    with pytest.raises(TypeError):
        convnd.conv(np.ones((1, 1, 5), np.float32), np.ones((1, 1, 3), np.float64))
