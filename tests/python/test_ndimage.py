"""convnd.ndimage against scipy.ndimage (Debian's scipy 1.10 is the oracle).

A matrix of shapes (1-D to 3-D, axes shorter than the kernel), every mode name, origins at
both ends of their range, even and odd kernels, and dtypes (float64 exactly to rounding,
float32 to float32 rounding, integer images with integer kernels identically, complex).
"""

import itertools

import numpy as np
import pytest

from convnd import ndimage as cnd

nd = pytest.importorskip("scipy.ndimage")

MODES = ["reflect", "mirror", "nearest", "wrap", "constant", "grid-mirror", "grid-wrap",
         "grid-constant"]


def rng(seed=0):
    return np.random.default_rng(seed)


def close(got, want, dtype=np.float64, scale=None):
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape
    if dtype == np.float32 or want.dtype in (np.float32, np.complex64):
        tol = 2e-6 * (scale if scale is not None else max(1.0, np.abs(want).max()))
    else:
        tol = 1e-12 * (scale if scale is not None else max(1.0, np.abs(want).max()))
    err = np.abs(got.astype(np.complex128) - want.astype(np.complex128)).max() if got.size else 0
    assert err <= tol, f"max error {err} > {tol}"


def origins_for(k):
    return sorted({-(k // 2), 0, (k - 1) // 2})


SHAPES_KERNELS = [
    ((1,), (3,)), ((2,), (7,)), ((5,), (4,)), ((17,), (5,)), ((9,), (1,)),
    ((3, 7), (3, 3)), ((8, 5), (4, 2)), ((2, 3), (5, 6)), ((6, 1), (3, 1)),
    ((4, 5, 6), (3, 2, 3)),
]


@pytest.mark.parametrize("shape,kshape", SHAPES_KERNELS)
@pytest.mark.parametrize("mode", MODES)
def test_correlate_convolve_float64(shape, kshape, mode):
    r = rng(len(shape) * 100 + kshape[0])
    x = r.standard_normal(shape)
    w = r.standard_normal(kshape)
    for origin in itertools.product(*[origins_for(k) for k in kshape]):
        for cval in (0.0, 1.5):
            if cval and "constant" not in mode:
                continue
            kw = dict(mode=mode, cval=cval, origin=list(origin))
            close(cnd.correlate(x, w, **kw), nd.correlate(x, w, **kw))
            close(cnd.convolve(x, w, **kw), nd.convolve(x, w, **kw))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("k", [1, 2, 3, 4, 7, 8])
def test_correlate1d_convolve1d_every_axis(mode, k):
    r = rng(k)
    x = r.standard_normal((5, 3, 6))
    w = r.standard_normal(k)
    for axis in (0, 1, 2, -1):
        for origin in origins_for(k):
            kw = dict(axis=axis, mode=mode, origin=origin, cval=-0.5)
            close(cnd.correlate1d(x, w, **kw), nd.correlate1d(x, w, **kw))
            close(cnd.convolve1d(x, w, **kw), nd.convolve1d(x, w, **kw))


@pytest.mark.parametrize("mode", ["reflect", "wrap", "constant", "mirror"])
def test_float32_to_rounding(mode):
    r = rng(3)
    x = r.standard_normal((31, 33)).astype(np.float32)
    w = r.standard_normal((7, 6)).astype(np.float32)
    scale = np.abs(w).sum() * np.abs(x).max()
    for f in ("correlate", "convolve"):
        got = getattr(cnd, f)(x, w, mode=mode, origin=(1, -2))
        want = getattr(nd, f)(x, w, mode=mode, origin=(1, -2))
        close(got, want, np.float32, scale)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.uint16, np.int64])
def test_integer_images_identical(dtype):
    r = rng(4)
    x = r.integers(0, 50, (9, 11)).astype(dtype)
    w = r.integers(-3, 4, (3, 4)).astype(np.float64)
    for mode in ("reflect", "constant", "wrap"):
        got = cnd.correlate(x, w, mode=mode, cval=3)
        want = nd.correlate(x, w, mode=mode, cval=3)
        assert got.dtype == want.dtype == dtype
        np.testing.assert_array_equal(got, want)  # negatives wrap in unsigned types as scipy's
        np.testing.assert_array_equal(cnd.convolve(x, w, mode=mode),
                                      nd.convolve(x, w, mode=mode))


def test_output_dtype_and_array():
    r = rng(5)
    x = r.integers(0, 255, (6, 7)).astype(np.uint8)
    w = np.array([[0.25, 0.5], [0.125, 0.125]])
    close(cnd.correlate(x, w, output=np.float64), nd.correlate(x, w, output=np.float64))
    close(cnd.correlate(x, w, output="float32"), nd.correlate(x, w, output="float32"),
          np.float32)
    out = np.zeros((6, 7), np.float64)
    got = cnd.correlate(x.astype(np.float64), w, output=out)
    assert got is out
    close(out, nd.correlate(x.astype(np.float64), w))
    # in place: the output is the input
    y = r.standard_normal((8, 8))
    want = nd.correlate(y, w)
    cnd.correlate(y, w, output=y)
    close(y, want)
    # a strided output view
    big = np.zeros((12, 14))
    cnd.correlate(x.astype(np.float64), w, output=big[::2, ::2])
    close(big[::2, ::2], nd.correlate(x.astype(np.float64), w))


def test_complex():
    r = rng(6)
    x = r.standard_normal((7, 8)) + 1j * r.standard_normal((7, 8))
    w = r.standard_normal((3, 2)) + 1j * r.standard_normal((3, 2))
    wr = r.standard_normal((3, 2))
    for f in ("correlate", "convolve"):
        for a, b in ((x, w), (x, wr), (x.real.copy(), w)):
            close(getattr(cnd, f)(a, b, mode="constant", cval=0),
                  getattr(nd, f)(a, b, mode="constant", cval=0))
        close(getattr(cnd, f)(x, w, mode="constant", cval=1 + 2j),
              getattr(nd, f)(x, w, mode="constant", cval=1 + 2j))
    close(cnd.correlate(x.astype(np.complex64), wr), nd.correlate(x.astype(np.complex64), wr),
          np.float32)


def test_per_axis_modes_against_separable_passes():
    # scipy 1.10's correlate takes one mode; a separable kernel with per-axis modes equals
    # the two 1-D passes with those modes (exact in scipy, to rounding here).
    r = rng(7)
    x = r.standard_normal((9, 10, 4))
    a, b, c = r.standard_normal(4), r.standard_normal(3), r.standard_normal(2)
    w = a[:, None, None] * b[None, :, None] * c[None, None, :]
    for modes in itertools.product(["reflect", "constant", "wrap", "mirror", "nearest"],
                                   repeat=3):
        for cval in (0.0, 2.0):
            want = nd.correlate1d(x, a, 0, mode=modes[0], cval=cval, origin=-1)
            want = nd.correlate1d(want, b, 1, mode=modes[1], cval=cval, origin=1)
            want = nd.correlate1d(want, c, 2, mode=modes[2], cval=cval)
            if "constant" in modes and cval:
                continue  # the corners differ from passes (a 2-D constant border is cval)
            got = cnd.correlate(x, w, mode=list(modes), cval=cval, origin=(-1, 1, 0))
            close(got, want, scale=np.abs(w).sum() * np.abs(x).max())


def test_per_axis_constant_cval_corners():
    # A corner sample is cval when any of its axes is 'constant': checked against a padded
    # oracle built with numpy.pad (which scipy's per-point rule equals).
    r = rng(8)
    x = r.standard_normal((5, 6))
    w = r.standard_normal((3, 3))
    got = cnd.correlate(x, w, mode=["constant", "wrap"], cval=4.0)
    p = np.pad(np.pad(x, [(0, 0), (1, 1)], mode="wrap"), [(1, 1), (0, 0)],
               constant_values=4.0)
    want = nd.correlate(p, w, mode="constant")[1:-1, 1:-1]
    close(got, want)


def test_axes():
    r = rng(9)
    x = r.standard_normal((4, 6, 5))
    w = r.standard_normal((3, 2))
    got = cnd.correlate(x, w, axes=(2, 0), mode="nearest", origin=(0, -1))
    want = nd.correlate(x, w.T[:, None, :], mode="nearest", origin=(-1, 0, 0))
    close(got, want)
    got = cnd.convolve(x, w[:, 0], axes=-2)
    close(got, nd.convolve1d(x, w[:, 0], axis=1))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint8, np.int32])
def test_gaussian_filter(dtype):
    r = rng(10)
    x = (r.random((23, 19)) * 200).astype(dtype)
    cases = [dict(sigma=1.5), dict(sigma=(2, 0.7), mode=("nearest", "mirror")),
             dict(sigma=1, order=(1, 2), mode="wrap"), dict(sigma=3, truncate=2.0),
             dict(sigma=(0, 2)), dict(sigma=2, radius=(1, 5)),
             dict(sigma=0.8, order=3, mode="constant", cval=5)]
    for kw in cases:
        got, want = cnd.gaussian_filter(x, **kw), nd.gaussian_filter(x, **kw)
        if np.dtype(dtype).kind in "iu":
            # a value within rounding of an integer may truncate to its neighbour
            assert got.dtype == want.dtype
            assert np.abs(got.astype(float) - want).max() <= 1, kw
            assert np.mean(got != want) < 0.02, kw
        else:
            close(got, want, dtype, scale=np.abs(x).max())
    for axis in (0, 1):
        got = cnd.gaussian_filter1d(x, 2.0, axis=axis, order=1, mode="mirror")
        want = nd.gaussian_filter1d(x, 2.0, axis=axis, order=1, mode="mirror")
        if np.dtype(dtype).kind not in "iu":
            close(got, want, dtype, scale=np.abs(x).max())


def test_gaussian_filter_3d_and_axes():
    r = rng(11)
    x = r.standard_normal((9, 8, 7))
    close(cnd.gaussian_filter(x, (1, 2, 0.5), order=(0, 1, 0)),
          nd.gaussian_filter(x, (1, 2, 0.5), order=(0, 1, 0)))
    close(cnd.gaussian_filter(x, 1.5, axes=(0, 2)), nd.gaussian_filter(x, (1.5, 0, 1.5)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint8, np.int16])
def test_uniform_sobel_prewitt_laplace(dtype):
    r = rng(12)
    x = (r.random((13, 11)) * 100).astype(dtype)
    exact = np.dtype(dtype).kind in "iu"

    def check(got, want):
        if exact:
            np.testing.assert_array_equal(got, want)
        else:
            close(got, want, dtype, scale=8 * np.abs(x).max())
    for kw in (dict(size=3), dict(size=(4, 2), origin=(-2, 0), mode="wrap"),
               dict(size=5, mode="constant", cval=7)):
        check(cnd.uniform_filter(x, **kw), nd.uniform_filter(x, **kw))
    check(cnd.uniform_filter1d(x, 4, axis=0, origin=1), nd.uniform_filter1d(x, 4, 0, origin=1))
    for axis in (0, 1, -1):
        for mode in ("reflect", "constant", ("nearest", "wrap")):
            check(cnd.sobel(x, axis, mode=mode), nd.sobel(x, axis, mode=mode))
            check(cnd.prewitt(x, axis, mode=mode), nd.prewitt(x, axis, mode=mode))
    for mode in ("reflect", "mirror", ("constant", "nearest")):
        check(cnd.laplace(x, mode=mode), nd.laplace(x, mode=mode))
    if not exact:
        for kw in (dict(sigma=1.0), dict(sigma=(2.0, 1.0), mode=("nearest", "constant"),
                                          truncate=3.0)):
            check(cnd.gaussian_laplace(x, **kw), nd.gaussian_laplace(x, **kw))


def test_sobel_3d_uint8_wraps_like_scipy():
    x = rng(13).integers(0, 255, (5, 6, 7)).astype(np.uint8)
    for axis in range(3):
        np.testing.assert_array_equal(cnd.sobel(x, axis), nd.sobel(x, axis))


def test_empty_and_trivial():
    x = np.zeros((0, 4))
    assert cnd.correlate(x, np.ones((3, 3))).shape == (0, 4)
    y = rng(14).standard_normal((4, 4))
    close(cnd.gaussian_filter(y, 0), nd.gaussian_filter(y, 0))
    close(cnd.uniform_filter(y, 1), nd.uniform_filter(y, 1))


def test_errors_name_the_argument():
    x = np.zeros((5, 5))
    with pytest.raises(ValueError, match="'origin', axis 1"):
        cnd.correlate(x, np.ones((3, 3)), origin=(0, 2))
    with pytest.raises(ValueError, match="'mode', axis 0"):
        cnd.correlate(x, np.ones((3, 3)), mode="bogus")
    with pytest.raises(ValueError, match="'mode'.*one entry per filtered axis"):
        cnd.correlate(x, np.ones((3, 3)), mode=["reflect"] * 3)
    with pytest.raises(ValueError, match="'weights'"):
        cnd.correlate(x, np.ones((3,)))
    with pytest.raises(ValueError, match="'weights'"):
        cnd.correlate(x, np.ones((3, 0)))
    with pytest.raises(ValueError, match="'weights'.*one-dimensional"):
        cnd.correlate1d(x, np.ones((3, 3)))
    with pytest.raises(ValueError, match="'axes'"):
        cnd.correlate(x, np.ones(3), axes=5)
    with pytest.raises(ValueError, match="'output'.*shape"):
        cnd.correlate(x, np.ones((3, 3)), output=np.zeros((4, 5)))
    with pytest.raises(TypeError, match="'input'"):
        cnd.correlate(x.astype(bool), np.ones((3, 3)))
    with pytest.raises(TypeError, match="'input'"):
        cnd.correlate(x.astype(np.float16), np.ones((3, 3)))
    with pytest.raises(ValueError, match="'sigma', axis 0"):
        cnd.gaussian_filter(x, -1)
    with pytest.raises(ValueError, match="'radius'"):
        cnd.gaussian_filter(x, 1, radius=-2)
    with pytest.raises(ValueError, match="'order'"):
        cnd.gaussian_filter(x, 1, order=-1)
    with pytest.raises(ValueError, match="'size', axis 1"):
        cnd.uniform_filter(x, (3, 0))
    with pytest.raises(ValueError, match="'cval'"):
        cnd.correlate(x, np.ones((3, 3)), mode="constant", cval=1j)
    with pytest.raises(TypeError, match="'output'.*complex"):
        cnd.correlate(x + 0j, np.ones((3, 3)), output=np.float64)
