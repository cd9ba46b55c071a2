"""The main API against the C++ reference algorithm, the NumPy oracles and (when importable)
torch, on small random problems in 1-3 spatial dimensions."""

import threading

import numpy as np
import pytest

import convnd
import oracles

RNG = np.random.default_rng(20261123)
TOL = {np.float32: 2e-5, np.float64: 1e-12}


def close(got, want, dtype):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)
    err = float(np.max(np.abs(got - want))) / scale if want.size else 0.0
    assert err <= TOL[dtype], f"relative error {err:.3g}"


def rand(shape, dtype):
    return RNG.standard_normal(shape).astype(dtype)


# (d, N, C, K, groups, S, k, stride, padding, dilation, mode)
CASES = [
    (1, 2, 3, 4, 1, (11,), (3,), 2, 1, 1, "zeros"),
    (1, 1, 4, 4, 4, (9,), (2,), 1, ((2, 0),), 2, "reflect"),
    (1, 2, 2, 6, 2, (8,), (4,), 3, ((1, 2),), 1, "circular"),
    (2, 2, 3, 5, 1, (7, 6), (3, 2), (2, 1), (1, 0), (1, 2), "zeros"),
    (2, 1, 4, 4, 4, (6, 7), (3, 3), 1, 1, 1, "replicate"),
    (2, 2, 4, 6, 2, (8, 5), (2, 3), (1, 2), ((0, 1), (2, 1)), 1, "symmetric"),
    (3, 1, 2, 3, 1, (5, 4, 6), (2, 3, 2), (2, 1, 1), (1, 1, 0), (1, 1, 2), "zeros"),
    (3, 2, 2, 2, 2, (4, 5, 4), (3, 1, 2), 1, 1, 1, "reflect"),
]
IDS = [f"{c[0]}d-{c[10]}-g{c[4]}-{i}" for i, c in enumerate(CASES)]


def make(case, dtype, bias=True):
    d, n, c, k, g, s, ks, stride, padding, dil, mode = case
    x = rand((n, c, *s), dtype)
    w = rand((k, c // g, *ks), dtype)
    b = rand((k,), dtype) if bias else None
    kw = dict(stride=stride, padding=padding, dilation=dil, groups=g, padding_mode=mode)
    return x, w, b, kw


def oracle_kw(kw):
    return dict(stride=kw["stride"], padding=kw["padding"], dilation=kw["dilation"],
                groups=kw["groups"], mode=kw["padding_mode"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv_matches_reference_and_oracle(case, dtype):
    x, w, b, kw = make(case, dtype)
    y = convnd.conv(x, w, b, **kw)
    assert y.dtype == dtype
    ref = convnd.conv(x, w, b, algorithm="reference", **kw)
    close(y, ref, dtype)
    close(y, oracles.conv(x, w, b, **oracle_kw(kw)), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradients_match_reference_and_oracle(case, dtype):
    x, w, _, kw = make(case, dtype, bias=False)
    y = convnd.conv(x, w, **kw)
    dy = rand(y.shape, dtype)
    dx = convnd.conv_backward_data(dy, w, x.shape, **kw)
    dw = convnd.conv_backward_weight(x, dy, w.shape, **kw)
    assert dx.dtype == dtype and dw.dtype == dtype
    close(dx, convnd.conv_backward_data(dy, w, x.shape, algorithm="reference", **kw), dtype)
    close(dw, convnd.conv_backward_weight(x, dy, w.shape, algorithm="reference", **kw), dtype)
    close(dx, oracles.backward_data(dy, w, x.shape, **oracle_kw(kw)), dtype)
    close(dw, oracles.backward_weight(x, dy, w.shape, **oracle_kw(kw)), dtype)
    db = convnd.conv_backward_bias(dy)
    close(db, dy.astype(np.float64).sum(axis=tuple(i for i in range(dy.ndim) if i != 1)), dtype)


# (N, C, K, groups, S, k, stride, padding, output_padding, dilation)
TCASES = [
    (2, 3, 4, 1, (5,), (3,), 2, 1, 1, 1),
    (1, 4, 6, 2, (4, 5), (3, 2), (2, 3), (1, 0), (1, 2), (1, 1)),
    (1, 2, 2, 2, (3, 4, 3), (2, 2, 3), (1, 2, 2), 0, (0, 1, 0), (2, 1, 1)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", TCASES)
def test_conv_transpose_matches_reference_and_oracle(case, dtype):
    n, c, k, g, s, ks, stride, padding, op, dil = case
    x = rand((n, c, *s), dtype)
    w = rand((c, k // g, *ks), dtype)
    b = rand((k,), dtype)
    kw = dict(stride=stride, padding=padding, output_padding=op, dilation=dil, groups=g)
    y = convnd.conv_transpose(x, w, b, **kw)
    close(y, convnd.conv_transpose(x, w, b, algorithm="reference", **kw), dtype)
    close(y, oracles.conv_transpose(x, w, b, **kw), dtype)
    full = convnd.output_shape(x.shape, w.shape, transposed=True, **kw)
    assert y.shape == full
    # output_size asks for the same extents that output_padding gave.
    kw2 = dict(kw, output_padding=0)
    y2 = convnd.conv_transpose(x, w, b, output_size=y.shape[2:], **kw2)
    close(y2, y, dtype)


@pytest.mark.parametrize("case", CASES[:6], ids=IDS[:6])
def test_channels_last_and_strided_views(case):
    dtype = np.float64
    x, w, b, kw = make(case, dtype)
    want = convnd.conv(x, w, b, **kw)
    nd = x.ndim
    to_last = (0, *range(2, nd), 1)
    x_last = np.ascontiguousarray(x.transpose(to_last))
    y_last = convnd.conv(x_last, w, b, layout="channels_last", **kw)
    close(y_last.transpose(0, nd - 1, *range(1, nd - 1)), want, dtype)
    # Weight in any memory order (here k.., I, O like numpy-ml's HWIO), read in place.
    w_perm = np.ascontiguousarray(w.transpose(*range(2, nd), 1, 0))
    w_view = w_perm.transpose(nd - 1, nd - 2, *range(nd - 2))
    assert not w_view.flags.c_contiguous
    close(convnd.conv(x, w_view, b, **kw), want, dtype)
    # Every other element, and a reversed axis: non-contiguous input views.
    big = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), dtype)
    big[..., ::2] = x
    close(convnd.conv(big[..., ::2], w, b, **kw), want, dtype)
    rev = np.ascontiguousarray(x[:, ::-1])[:, ::-1]
    assert rev.strides[1] < 0
    close(convnd.conv(rev, w, b, **kw), want, dtype)


def test_out_argument_is_written_in_place():
    x, w, b, kw = make(CASES[3], np.float32)
    y = np.full(convnd.output_shape(x.shape, w.shape, stride=kw["stride"],
                                    padding=kw["padding"], dilation=kw["dilation"]), np.nan,
                np.float32)
    r = convnd.conv(x, w, b, out=y, stride=kw["stride"], padding=kw["padding"],
                    dilation=kw["dilation"])
    assert r is y
    close(y, oracles.conv(x, w, b, stride=kw["stride"], padding=kw["padding"],
                          dilation=kw["dilation"]), np.float32)
    # A strided view as the output.
    big = np.zeros(y.shape[:-1] + (y.shape[-1] * 3,), np.float32)
    view = big[..., ::3]
    convnd.conv(x, w, b, out=view, stride=kw["stride"], padding=kw["padding"],
                dilation=kw["dilation"])
    close(view, y, np.float32)


def test_byte_order_and_odd_strides_are_handled():
    x, w, b, kw = make(CASES[0], np.float64)
    want = convnd.conv(x, w, b, **kw)
    close(convnd.conv(x.astype(">f8"), w.astype(">f8"), b, **kw), want, np.float64)
    # A field of a packed record array: byte strides of 9, not a multiple of 8.
    rec = np.zeros(x.shape, dtype=[("v", "<f8"), ("flag", "u1")])
    rec["v"] = x
    assert rec["v"].strides[-1] % 8
    close(convnd.conv(rec["v"], w, b, **kw), want, np.float64)
    # Strides of whole elements but a start address off by one byte.
    rec = np.zeros(x.shape, dtype=np.dtype({"names": ["flag", "v"], "formats": ["u1", "<f8"],
                                            "offsets": [0, 1], "itemsize": 16}))
    rec["v"] = x
    assert not rec["v"].flags.aligned and rec["v"].strides[-1] % 8 == 0
    close(convnd.conv(rec["v"], w, b, **kw), want, np.float64)


def test_plan_runs_many_times_and_reports():
    x, w, b, kw = make(CASES[3], np.float32)
    plan = convnd.Plan(x.shape, w.shape, dtype=np.float32, bias=True, **kw)
    assert plan.algorithm in convnd.algorithms()
    assert isinstance(plan.workspace_bytes, int)
    assert plan.output_shape == convnd.output_shape(x.shape, w.shape, stride=kw["stride"],
                                                    padding=kw["padding"],
                                                    dilation=kw["dilation"])
    ref = convnd.Plan(x.shape, w.shape, dtype=np.float32, bias=True, algorithm="reference",
                      **kw)
    assert ref.algorithm == "reference"
    for _ in range(3):
        x = rand(x.shape, np.float32)
        close(plan(x, w, b), ref(x, w, b), np.float32)
    assert plan.spec.startswith("n2c3k5")
    bd = convnd.Plan(x.shape, w.shape, op="backward_data", **kw)
    with pytest.raises(ValueError):
        bd.forward(x, w)


def test_backward_weight_plan_with_bias_and_channels_last_bias():
    x, w, _, kw = make(CASES[3], np.float64, bias=False)
    dy = rand(convnd.conv(x, w, **kw).shape, np.float64)
    plan = convnd.Plan(x.shape, w.shape, op="backward_weight", dtype=np.float64, **kw)
    db = np.zeros(w.shape[0])
    dw = plan.backward_weight(x, dy, bias_out=db)
    close(dw, oracles.backward_weight(x, dy, w.shape, **oracle_kw(kw)), np.float64)
    close(db, dy.sum(axis=(0, 2, 3)), np.float64)
    last = np.ascontiguousarray(dy.transpose(0, 2, 3, 1))
    close(convnd.conv_backward_bias(last, layout="channels_last"), db, np.float64)


def test_threads_run_concurrently_with_correct_results():
    # The GIL is released while the core computes: several Python threads can share a Plan.
    x, w, b, kw = make(CASES[5], np.float64)
    plan = convnd.Plan(x.shape, w.shape, dtype=np.float64, bias=True, **kw)
    want = plan(x, w, b)
    results = [None] * 4

    def run(i):
        results[i] = plan(x, w, b)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert np.array_equal(r, want)


def test_padding_resolution_documented_examples():
    # README worked examples.
    assert convnd.resolve_padding((1, 1, 5), (1, 1, 3), stride=2, padding="same",
                                  same_policy="numpy_ml") == [(3, 3)]
    assert convnd.output_shape((1, 1, 5), (1, 1, 3), stride=2, padding="same",
                               same_policy="numpy_ml") == (1, 1, 5)
    assert convnd.resolve_padding((1, 1, 5), (1, 1, 3), stride=2, padding="same",
                                  same_policy="tf") == [(1, 1)]
    assert convnd.resolve_padding((1, 1, 8), (1, 1, 3), stride=3, padding="same",
                                  same_policy="numpy_ml") == [(8, 8)]
    assert convnd.resolve_padding((1, 1, 8), (1, 1, 3), stride=3, padding="same",
                                  same_policy="tf") == [(0, 1)]
    for policy, want in (("torch", (1, 2)), ("tf", (1, 2)), ("numpy_ml", (1, 2)),
                         ("scipy", (2, 1)), ("tf_lower", (2, 1))):
        assert convnd.resolve_padding((1, 1, 5), (1, 1, 4), padding="same",
                                      same_policy=policy) == [want]
    assert convnd.resolve_padding((1, 1, 9), (1, 1, 3), padding="causal", dilation=2) == [(4, 0)]
    assert convnd.resolve_padding((1, 1, 9, 9), (1, 1, 3, 2), padding="full") == [(2, 2), (1, 1)]
    assert convnd.resolve_padding((1, 1, 9, 9), (1, 1, 3, 2), padding="valid") == [(0, 0)] * 2
    text = convnd.explain((1, 1, 5, 8), (1, 1, 3, 3), stride=(2, 3), padding="same",
                          same_policy="numpy_ml")
    assert "pad=(3, 3)" in text and "pad=(8, 8)" in text


def test_square_wave_documented_example():
    x = np.zeros((1, 1, 16))
    x[..., 5:11] = 1
    k = np.ones((1, 1, 5))
    y = convnd.conv(x, k)
    assert y.tolist() == [[[0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0]]]


# ----------------------------------------------------------------------------------------
# torch as a second, independent oracle

TORCH_MODES = {"zeros": "zeros", "reflect": "reflect", "replicate": "replicate",
               "circular": "circular"}


def _torch_conv(torch, x, w, b, kw):
    import torch.nn.functional as F
    d = x.ndim - 2
    pad = kw["padding"]
    pairs = ([(pad, pad)] * d if isinstance(pad, int)
             else [(p, p) if isinstance(p, int) else tuple(p) for p in pad])
    flat = [v for lo_hi in reversed(pairs) for v in lo_hi]
    xt = torch.from_numpy(x)
    mode = kw["padding_mode"]
    xt = F.pad(xt, flat, mode="constant" if mode == "zeros" else mode)
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[d]
    return fn, xt


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", [c for c in CASES if c[10] in TORCH_MODES],
                         ids=[i for c, i in zip(CASES, IDS) if c[10] in TORCH_MODES])
def test_against_torch(case, dtype):
    torch = pytest.importorskip("torch")
    x, w, b, kw = make(case, dtype)
    fn, xt = _torch_conv(torch, x, w, b, kw)
    xt.requires_grad_(True)
    wt = torch.from_numpy(w).requires_grad_(True)
    yt = fn(xt, wt, torch.from_numpy(b), stride=kw["stride"], dilation=kw["dilation"],
            groups=kw["groups"])
    y = convnd.conv(x, w, b, **kw)
    close(y, yt.detach().numpy(), dtype)
    if kw["padding_mode"] != "zeros":
        return  # torch's padded-input gradient would need folding; covered by the oracle
    dy = rand(y.shape, dtype)
    yt.backward(torch.from_numpy(dy))
    pairs = convnd.resolve_padding(x.shape, w.shape, padding=kw["padding"])
    crop = tuple(slice(lo, lo + s) for (lo, _), s in zip(pairs, x.shape[2:]))
    dx_t = xt.grad.numpy()[(slice(None), slice(None)) + crop]
    close(convnd.conv_backward_data(dy, w, x.shape, **kw), dx_t, dtype)
    close(convnd.conv_backward_weight(x, dy, w.shape, **kw), wt.grad.numpy(), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", TCASES)
def test_conv_transpose_against_torch(case, dtype):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    n, c, k, g, s, ks, stride, padding, op, dil = case
    x, w, b = rand((n, c, *s), dtype), rand((c, k // g, *ks), dtype), rand((k,), dtype)
    fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[len(s)]
    want = fn(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), stride=stride,
              padding=padding, output_padding=op, groups=g, dilation=dil).numpy()
    got = convnd.conv_transpose(x, w, b, stride=stride, padding=padding, output_padding=op,
                                groups=g, dilation=dil)
    close(got, want, dtype)
