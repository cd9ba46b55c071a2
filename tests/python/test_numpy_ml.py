"""convnd.numpy_ml against NumPy re-implementations of numpy-ml's formulas, on random shapes.

The oracles here follow numpy-ml's own recipes (naive windows; im2col + matmul; deconvolution
as a flipped convolution of the stride-dilated, padded input) but are written independently
and use no convnd code."""

import numpy as np
import pytest

from convnd import numpy_ml

RNG = np.random.default_rng(4)


def naive_conv2d(X, W, s, pads, d):
    """numpy-ml's conv2D_naive recipe: one window per output element (float64)."""
    pr1, pr2, pc1, pc2 = pads
    Xp = np.pad(X.astype(np.float64), ((0, 0), (pr1, pr2), (pc1, pc2), (0, 0)))
    fr, fc, _, out_ch = W.shape
    er, ec = fr * (d + 1) - d, fc * (d + 1) - d
    rows = (Xp.shape[1] - er) // s + 1
    cols = (Xp.shape[2] - ec) // s + 1
    Z = np.zeros((X.shape[0], rows, cols, out_ch))
    for i in range(rows):
        for j in range(cols):
            win = Xp[:, i * s:i * s + er:d + 1, j * s:j * s + ec:d + 1, :]
            Z[:, i, j, :] = np.tensordot(win, W, axes=([1, 2, 3], [0, 1, 2]))
    return Z


def gemm_conv2d(X, W, s, pads, d):
    """im2col + one matrix product, with index arrays (the original's idea)."""
    pr1, pr2, pc1, pc2 = pads
    Xp = np.pad(X, ((0, 0), (pr1, pr2), (pc1, pc2), (0, 0)))
    n, _, _, ch = X.shape
    fr, fc, _, out_ch = W.shape
    rows = (Xp.shape[1] - (fr * (d + 1) - d)) // s + 1
    cols = (Xp.shape[2] - (fc * (d + 1) - d)) // s + 1
    ci, ri, ki = np.meshgrid(np.arange(ch), np.arange(fr), np.arange(fc), indexing="ij")
    oi, oj = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    r = ri.reshape(-1, 1) * (d + 1) + s * oi.reshape(1, -1)
    c = ki.reshape(-1, 1) * (d + 1) + s * oj.reshape(1, -1)
    cols_ = Xp[:, r, c, ci.reshape(-1, 1)]               # (n, ch*fr*fc, rows*cols)
    Wm = W.transpose(3, 2, 0, 1).reshape(out_ch, -1)
    Z = np.einsum("kq,nqz->nzk", Wm, cols_)
    return Z.reshape(n, rows, cols, out_ch)


def numpy_ml_same(in_dim, k, s, d):
    total = s * (in_dim - 1) + k * (d + 1) - d - in_dim
    return total // 2, total - total // 2


def random_problem(dtype=np.float64):
    n, h, w, cin, cout = (int(v) for v in RNG.integers(1, 4, 5))
    h, w = h + 4, w + 5
    fr, fc = (int(v) for v in RNG.integers(1, 4, 2))
    X = RNG.standard_normal((n, h, w, cin)).astype(dtype)
    W = RNG.standard_normal((fr, fc, cin, cout)).astype(dtype)
    return X, W


PADS = [0, 1, (1, 2), (0, 1, 2, 1), "same"]


@pytest.mark.parametrize("trial", range(12))
def test_conv2D_matches_naive_and_gemm_recipes(trial):
    X, W = random_problem()
    s = int(RNG.integers(1, 4))
    d = int(RNG.integers(0, 3))
    pad = PADS[trial % len(PADS)]
    if pad == "same":
        pads = numpy_ml_same(X.shape[1], W.shape[0], s, d) + numpy_ml_same(
            X.shape[2], W.shape[1], s, d)
    else:
        pads = numpy_ml.pad2D(X, pad)[1]
    try:
        want = naive_conv2d(X, W, s, pads, d)
    except ValueError:
        want = None
    if want is None or 0 in want.shape:
        with pytest.raises(ValueError):
            numpy_ml.conv2D(X, W, s, pad, d)
        return
    got = numpy_ml.conv2D(X, W, s, pad, d)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(gemm_conv2d(X, W, s, pads, d), want, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(numpy_ml.conv2D_naive(X, W, s, pad, d), want, rtol=1e-11,
                               atol=1e-11)
    assert numpy_ml.calc_conv_out_dims(X.shape, W.shape, s, pad, d) == got.shape


@pytest.mark.parametrize("trial", range(8))
def test_conv1D_matches_naive(trial):
    X, W = random_problem()
    X1, W1 = X[:, 0], W[0]
    s = int(RNG.integers(1, 3))
    d = int(RNG.integers(0, 2))
    pad = [0, 2, (1, 3), "same", "causal"][trial % 5]
    got = numpy_ml.conv1D(X1, W1, s, pad, d)
    pads = numpy_ml.pad1D(X1, pad, W1.shape[0], s, d)[1]
    want = naive_conv2d(X1[:, None], W1[None], s, (0, 0) + tuple(pads), d)[:, 0]
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)
    if pad in ("same", "causal"):
        assert got.shape[1] == X1.shape[1] or s > 1


def deconv_recipe(X, W, s, pad, d):
    """numpy-ml's deconvolution recipe, step by step, without convnd."""
    if s > 1:
        n, h, w, c = X.shape
        Xd = np.zeros((n, (h - 1) * s + 1, (w - 1) * s + 1, c))
        Xd[:, ::s, ::s] = X
        X = Xd
    er, ec = W.shape[0] * (d + 1) - d, W.shape[1] * (d + 1) - d
    if pad == "same":
        p = numpy_ml_same(X.shape[1], W.shape[0], 1, d) + numpy_ml_same(
            X.shape[2], W.shape[1], 1, d)
    else:
        p = numpy_ml.pad2D(X, pad)[1]
    extra = []
    for (lo, hi), e in (((p[0], p[1]), er), ((p[2], p[3]), ec)):
        t = 2 * (e - 1) - lo - hi
        extra.append((lo + t // 2, hi + t - t // 2))
    Xp = np.pad(X, ((0, 0), extra[0], extra[1], (0, 0)))
    Z = naive_conv2d(Xp, W[::-1, ::-1], 1, (0, 0, 0, 0), d)
    return Z[:, p[0]:Z.shape[1] - p[1], p[2]:Z.shape[2] - p[3]]


@pytest.mark.parametrize("trial", range(10))
def test_deconv2D_naive_matches_recipe(trial):
    X, W = random_problem()
    X = X[:, :4, :5]
    s = int(RNG.integers(1, 4))
    d = int(RNG.integers(0, 2))
    pad = [0, 1, (1, 0), "same", (0, 1, 1, 0)][trial % 5]
    p = numpy_ml.pad2D(X, pad)[1] if pad != "same" else None
    er, ec = W.shape[0] * (d + 1) - d, W.shape[1] * (d + 1) - d
    if p is not None and (p[0] + p[1] > 2 * (er - 1) or p[2] + p[3] > 2 * (ec - 1)):
        with pytest.raises((ValueError, AssertionError)):
            numpy_ml.deconv2D_naive(X, W, s, pad, d)
        return
    want = deconv_recipe(X, W, s, pad, d)
    if 0 in want.shape:
        return
    np.testing.assert_allclose(numpy_ml.deconv2D_naive(X, W, s, pad, d), want, rtol=1e-11,
                               atol=1e-11)


@pytest.mark.parametrize("trial", range(6))
def test_im2col_col2im_are_adjoint(trial):
    X, W = random_problem()
    s, d = int(RNG.integers(1, 3)), int(RNG.integers(0, 2))
    pad = PADS[trial % len(PADS)]
    cols, p = numpy_ml.im2col(X, W.shape, pad, s, d)
    # <im2col(X), C> == <X, col2im(C)> for any C (col2im returns channels-first).
    C = RNG.standard_normal(cols.shape)
    back = numpy_ml.col2im(C, X.shape, W.shape, p, s, d)
    assert back.shape == (X.shape[0], X.shape[3], X.shape[1], X.shape[2])
    lhs = np.sum(cols * C)
    rhs = np.sum(X.transpose(0, 3, 1, 2) * back)
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))
    # im2col's columns times the flattened weights is conv2D.
    Wm = W.transpose(3, 2, 0, 1).reshape(W.shape[3], -1)
    Z = numpy_ml.conv2D(X, W, s, pad, d)
    prod = (Wm @ cols).reshape(W.shape[3], Z.shape[1], Z.shape[2], X.shape[0])
    np.testing.assert_allclose(prod.transpose(3, 1, 2, 0), Z, rtol=1e-11, atol=1e-11)


def test_dtypes_follow_the_inputs():
    X, W = random_problem(np.float32)
    assert numpy_ml.conv2D(X, W, 1, 1).dtype == np.float32
    assert numpy_ml.conv2D_naive(X, W, 1, 1).dtype == np.float32
    assert numpy_ml.conv2D(X, W.astype(np.float64), 1, 1).dtype == np.float64
    cols, p = numpy_ml.im2col(X, W.shape, 1, 1)
    assert cols.dtype == np.float32
    assert numpy_ml.col2im(cols, X.shape, W.shape, p, 1).dtype == np.float32
    assert numpy_ml.conv2D(X.astype(np.int64), W.astype(np.int64), 1, 0).dtype == np.float64
    assert numpy_ml.dilate(X, 2).dtype == np.float32


def test_padding_helpers():
    X = np.ones((2, 5, 8, 3))
    Xp, p = numpy_ml.pad2D(X, (1, 2))
    assert p == (1, 1, 2, 2) and Xp.shape == (2, 7, 12, 3)
    assert numpy_ml.pad2D(X, "same", (3, 3), 2)[1] == (3, 3, 4, 5)
    assert numpy_ml.calc_pad_dims_2D(X.shape, (5, 8), (3, 3), 3) == (5, 5, 8, 8)
    assert numpy_ml.calc_pad_dims_2D(X.shape, (5, 8), (4, 2), 1) == (1, 2, 0, 1)
    Xp, p = numpy_ml.pad1D(X[:, :, 0], "causal", 3, 1, 1)
    assert p == (4, 0)
    assert numpy_ml.calc_pad_dims_1D((2, 9, 3), 9, 4, 1) == (1, 2)
    assert numpy_ml.calc_pad_dims_1D((2, 9, 3), 9, 3, 2, causal=True) == (10, 0)
    with pytest.raises(AssertionError):
        numpy_ml.calc_pad_dims_2D(X.shape, (2, 8), (3, 3), 1)
    Xd = numpy_ml.dilate(np.arange(6.0).reshape(1, 2, 3, 1), 1)
    assert Xd[0, :, :, 0].tolist() == [[0, 0, 1, 0, 2], [0, 0, 0, 0, 0], [3, 0, 4, 0, 5]]
    assert numpy_ml.calc_conv_out_dims((2, 9, 3), (3, 3, 4), 2, "same") == (2, 9, 4)
    assert numpy_ml.calc_conv_out_dims((2, 5, 8, 3), (3, 3, 3, 4), 2, 1, 1) == (2, 2, 3, 4)


def test_hwio_weights_are_not_copied():
    # conv2D passes W to the core as a transposed view: writing W later changes nothing
    # already computed, and a read-only W works (no in-place conversion).
    X, W = random_problem()
    W.setflags(write=False)
    numpy_ml.conv2D(X, W, 1, 0)
