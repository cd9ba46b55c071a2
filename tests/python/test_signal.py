"""convnd.signal against scipy.signal (Debian's scipy 1.10 is the oracle): every mode and
method, even and odd kernels, either input the larger, 1-D to 3-D, float32/float64, integers
and complex; the FFT helpers on both transform backends."""

import itertools

import numpy as np
import pytest

from convnd import _fft
from convnd import signal as cs

ss = pytest.importorskip("scipy.signal")

SHAPES = [((9,), (4,)), ((9,), (3,)), ((4,), (9,)), ((1,), (1,)), ((12, 7), (3, 4)),
          ((5, 6), (6, 7)), ((8, 9), (2, 2)), ((5, 6, 7), (2, 3, 4)), ((3, 4, 5), (3, 4, 5))]


def close(got, want, tol):
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    scale = max(1.0, float(np.abs(want).max())) if want.size else 1.0
    err = float(np.abs(got.astype(np.complex128) - want).max()) if want.size else 0.0
    assert err <= tol * scale, f"max error {err} > {tol * scale}"


def modes_for(s1, s2):
    ok_valid = all(a >= b for a, b in zip(s1, s2)) or all(b >= a for a, b in zip(s1, s2))
    return ["full", "same"] + (["valid"] if ok_valid else [])


@pytest.mark.parametrize("s1,s2", SHAPES)
@pytest.mark.parametrize("method", ["direct", "fft", "auto"])
def test_convolve_correlate_float64(s1, s2, method):
    r = np.random.default_rng(len(s1) * 10 + s2[0])
    a, b = r.standard_normal(s1), r.standard_normal(s2)
    for mode in modes_for(s1, s2):
        for f in ("convolve", "correlate"):
            got = getattr(cs, f)(a, b, mode, method)
            want = getattr(ss, f)(a, b, mode, "direct")
            close(got, want, 1e-12)


@pytest.mark.parametrize("s1,s2", SHAPES)
def test_fftconvolve_oaconvolve(s1, s2):
    r = np.random.default_rng(len(s2) * 7 + s1[0])
    a, b = r.standard_normal(s1), r.standard_normal(s2)
    for mode in modes_for(s1, s2):
        close(cs.fftconvolve(a, b, mode), ss.fftconvolve(a, b, mode), 1e-12)
        close(cs.oaconvolve(a, b, mode), ss.oaconvolve(a, b, mode), 1e-12)


def test_overlap_add_blocks_and_axes():
    r = np.random.default_rng(1)
    for s1, s2 in [((3000,), (31,)), ((300, 257), (17, 40)), ((90, 20, 70), (5, 2, 9))]:
        a, b = r.standard_normal(s1), r.standard_normal(s2)
        for mode in ("full", "same", "valid"):
            # scipy's one-transform result as the oracle (its direct path takes seconds here)
            close(cs.oaconvolve(a, b, mode), ss.fftconvolve(a, b, mode), 1e-11)
    a, b = r.standard_normal((4, 500)), r.standard_normal((1, 33))
    for axes in ([1], -1):
        close(cs.oaconvolve(a, b, "same", axes=axes), ss.oaconvolve(a, b, "same", axes=axes),
              1e-12)
        close(cs.fftconvolve(a, b, "valid", axes=axes), ss.fftconvolve(a, b, "valid", axes=axes),
              1e-12)


def test_float32_stays_float32():
    r = np.random.default_rng(2)
    a = r.standard_normal((40, 33)).astype(np.float32)
    b = r.standard_normal((6, 5)).astype(np.float32)
    for method, mode in itertools.product(["direct", "fft"], ["full", "same", "valid"]):
        close(cs.convolve(a, b, mode, method), ss.convolve(a, b, mode, "direct"), 3e-6 * 30)
        close(cs.correlate(a, b, mode, method), ss.correlate(a, b, mode, "direct"), 3e-6 * 30)
    close(cs.fftconvolve(a, b), ss.fftconvolve(a, b), 3e-6 * 30)
    # mixed precision computes in float64 (scipy's direct path would use in1's float32)
    got = cs.convolve(a, b.astype(np.float64), method="direct")
    close(got, ss.convolve(a.astype(np.float64), b.astype(np.float64)), 1e-12)


def test_integers_and_complex():
    r = np.random.default_rng(3)
    a, b = r.integers(-9, 10, (11, 7)), r.integers(-9, 10, (4, 3))
    for method, mode in itertools.product(["direct", "fft", "auto"], ["full", "same", "valid"]):
        got, want = cs.convolve(a, b, mode, method), ss.convolve(a, b, mode, "direct")
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(cs.correlate(a, b, mode, method),
                                      ss.correlate(a, b, mode, "direct"))
    ca = r.standard_normal((9, 8)) + 1j * r.standard_normal((9, 8))
    cb = r.standard_normal((3, 4)) + 1j * r.standard_normal((3, 4))
    for x, y in ((ca, cb), (ca, cb.real.copy()), (ca.real.copy(), cb)):
        for method, mode in itertools.product(["direct", "fft"], ["full", "same", "valid"]):
            close(cs.convolve(x, y, mode, method), ss.convolve(x, y, mode, "direct"), 1e-12)
            close(cs.correlate(x, y, mode, method), ss.correlate(x, y, mode, "direct"), 1e-12)
            close(cs.correlate(y, x, mode, method), ss.correlate(y, x, mode, "direct"), 1e-12)


def test_same_policy_mapping_in_docs():
    # The module docstring's statement: correlate 'same' is convnd's same-policy 'scipy',
    # correlate2d 'same' the 'torch' one.
    import convnd
    r = np.random.default_rng(4)
    a, b = r.standard_normal((9, 10)), r.standard_normal((4, 2))
    got = convnd.conv(a[None, None], b[None, None], padding="same", same_policy="scipy")[0, 0]
    close(got, ss.correlate(a, b, "same"), 1e-12)
    got = convnd.conv(a[None, None], b[None, None], padding="same", same_policy="torch")[0, 0]
    close(got, ss.correlate2d(a, b, "same"), 1e-12)


def test_auto_picks_fft_for_large_kernels():
    a, b = np.zeros((512, 512), np.float32), np.zeros((31, 31), np.float32)
    assert cs.choose_conv_method(a, b, "same") == "fft"
    assert cs.choose_conv_method(a, np.zeros((3, 3), np.float32), "same") == "direct"
    big = np.full((64, 64), 2 ** 40)
    assert cs.choose_conv_method(big, big) == "direct"  # an FFT could lose integer exactness


def test_next_fast_len():
    sfft = pytest.importorskip("scipy.fft")
    for n in list(range(1, 400)) + [1021, 4097, 12289, 65537, 10 ** 6 + 1]:
        assert _fft.next_fast_len(n) == sfft.next_fast_len(n, real=True), n


def test_numpy_fft_backend(monkeypatch):
    monkeypatch.setenv("CONVND_FFT", "numpy")
    _fft._scipy_fft.cache_clear()
    try:
        assert _fft.backend() == "numpy.fft"
        r = np.random.default_rng(5)
        a, b = r.standard_normal((50, 41)), r.standard_normal((7, 8))
        for mode in ("full", "same", "valid"):
            close(cs.fftconvolve(a, b, mode), ss.fftconvolve(a, b, mode), 1e-12)
            close(cs.oaconvolve(a, b, mode), ss.oaconvolve(a, b, mode), 1e-12)
        a32 = a.astype(np.float32)
        assert cs.fftconvolve(a32, b.astype(np.float32)).dtype == np.float32
    finally:
        monkeypatch.delenv("CONVND_FFT")
        _fft._scipy_fft.cache_clear()


def test_fftconvolve_runs_on_the_core(monkeypatch):
    """Real data over all axes goes to the core's fft algorithm (convnd._fft), with scipy's
    numbers: float64 to 1e-12, float32 to float32 rounding; CONVND_FFT=numpy/scipy opt out."""
    calls = []
    real = _fft._core_convolve

    def spy(a, b, dt, mode):
        y = real(a, b, dt, mode)
        calls.append(y is not None)
        return y

    monkeypatch.setattr(_fft, "_core_convolve", spy)
    r = np.random.default_rng(9)
    for s1, s2 in [((257,), (31,)), ((64, 61), (15, 16)), ((9, 10, 11), (3, 4, 5))]:
        a, b = r.standard_normal(s1), r.standard_normal(s2)
        for mode in ("full", "same", "valid"):
            close(cs.fftconvolve(a, b, mode), ss.fftconvolve(a, b, mode), 1e-12)
            close(cs.oaconvolve(a, b, mode), ss.oaconvolve(a, b, mode), 1e-12)
            a32, b32 = a.astype(np.float32), b.astype(np.float32)
            for f in (cs.fftconvolve, cs.oaconvolve):
                got = f(a32, b32, mode)
                assert got.dtype == np.float32
                close(got, ss.fftconvolve(a32, b32, mode), 3e-6 * 30)
    assert calls and all(calls)
    calls.clear()
    monkeypatch.setenv("CONVND_FFT", "scipy")
    cs.fftconvolve(r.standard_normal(40), r.standard_normal(9))
    assert calls == [False]


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_core_computes_only_the_kept_outputs(monkeypatch, mode):
    """The core gets scipy's cut as its padding (full k-1; valid 0; same k//2, (k-1)//2), and
    its output is the result as is: every even/odd kernel extent per axis, in1 the smaller on
    some axis for 'same' and 'full', and 'valid' with in2 the larger (swapped)."""
    from convnd import _api

    outs = []
    conv = _api.conv

    def spy(*args, **kw):
        y = conv(*args, **kw)
        outs.append(y.shape[2:])
        return y

    monkeypatch.setattr(_api, "conv", spy)
    r = np.random.default_rng(11)
    shapes = [((20,), (4,)), ((21,), (5,)), ((3,), (8,)), ((17, 12), (6, 5)), ((16, 9), (7, 4)),
              ((5, 13), (8, 2)), ((9, 8, 7), (2, 3, 4))]
    for s1, s2 in shapes:
        for x, y in ((s1, s2), (s2, s1)):
            if mode == "valid" and not (all(p >= q for p, q in zip(x, y))
                                        or all(q >= p for p, q in zip(x, y))):
                continue
            a, b = r.standard_normal(x), r.standard_normal(y)
            for f in ("fftconvolve", "oaconvolve"):
                outs.clear()
                got = getattr(cs, f)(a, b, mode)
                close(got, ss.fftconvolve(a, b, mode), 1e-12)
                assert outs == [got.shape], (f, x, y, mode, outs)
            for f in ("convolve", "correlate"):
                got = getattr(cs, f)(a, b, mode, "fft")
                close(got, getattr(ss, f)(a, b, mode, "direct"), 1e-12)


def test_edge_cases():
    assert cs.convolve(np.float64(2.0), np.float64(3.0)) == 6.0
    assert cs.convolve(np.zeros(0), np.ones(3)).size == 0
    assert cs.fftconvolve(np.zeros((0, 3)), np.ones((2, 2))).size == 0


def test_errors():
    a = np.zeros((5, 6))
    with pytest.raises(ValueError, match="'mode'"):
        cs.convolve(a, a, "bogus")
    with pytest.raises(ValueError, match="'method'"):
        cs.convolve(a, a, "full", "winograd")
    with pytest.raises(ValueError, match="same number of dimensions"):
        cs.correlate(a, np.zeros(3))
    with pytest.raises(ValueError, match="'valid'.*at least as large"):
        cs.convolve(a, np.zeros((6, 5)), "valid")
    with pytest.raises(ValueError, match="'valid'.*at least as large"):
        cs.fftconvolve(a, np.zeros((6, 5)), "valid")
    with pytest.raises(ValueError, match="axis 0"):
        cs.fftconvolve(np.zeros((3, 5)), np.zeros((2, 5)), axes=[1])
    with pytest.raises(TypeError, match="'in1'"):
        cs.convolve(a.astype(np.float16), a)
    with pytest.raises(TypeError, match="'in2'"):
        cs.convolve(a, a.astype(bool))
