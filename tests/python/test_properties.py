"""Property tests (hypothesis): random geometries, the fast path against the reference
algorithm and the adjoint identities <conv(x, w), g> = <x, dX(g)> = <w, dW(g)>."""

import numpy as np
import pytest

import convnd

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies


@st.composite
def problems(draw):
    d = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 2))
    c = groups * draw(st.integers(1, 2))
    k = groups * draw(st.integers(1, 2))
    kernel = [draw(st.integers(1, 3)) for _ in range(d)]
    stride = [draw(st.integers(1, 3)) for _ in range(d)]
    dil = [draw(st.integers(1, 2)) for _ in range(d)]
    pads = [(draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(d)]
    # Input extents that give at least one output.
    size = [dl * (kk - 1) + 1 - lo - hi + draw(st.integers(0, 5))
            for kk, dl, (lo, hi) in zip(kernel, dil, pads)]
    size = [max(s, 1) for s in size]
    hypothesis.assume(all(s + lo + hi >= dl * (kk - 1) + 1
                          for s, kk, dl, (lo, hi) in zip(size, kernel, dil, pads)))
    mode = draw(st.sampled_from(["zeros", "reflect", "symmetric", "replicate", "circular"]))
    n = draw(st.integers(1, 2))
    return dict(x_shape=(n, c, *size), w_shape=(k, c // groups, *kernel),
                kw=dict(stride=stride, dilation=dil, padding=pads, groups=groups,
                        padding_mode=mode))


@hypothesis.settings(max_examples=60, deadline=None, database=None)
@hypothesis.given(problems(), st.integers(0, 2**32 - 1))
def test_fast_path_matches_reference_and_adjoints_hold(p, seed):
    rng = np.random.default_rng(seed)
    # Integer-valued data: float64 sums are exact, so the identities hold exactly.
    x = rng.integers(-8, 9, p["x_shape"]).astype(np.float64)
    w = rng.integers(-8, 9, p["w_shape"]).astype(np.float64)
    kw = p["kw"]
    y = convnd.conv(x, w, **kw)
    assert np.array_equal(y, convnd.conv(x, w, algorithm="reference", **kw))
    g = rng.integers(-8, 9, y.shape).astype(np.float64)
    dx = convnd.conv_backward_data(g, w, x.shape, **kw)
    dw = convnd.conv_backward_weight(x, g, w.shape, **kw)
    lhs = float(np.sum(y * g))
    assert lhs == float(np.sum(x * dx)) == float(np.sum(w * dw))
