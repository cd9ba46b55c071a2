"""convnd.dask.ndimage against convnd.ndimage in memory (and so scipy.ndimage): chunks smaller
than the kernel's halo, every mode, per-axis modes, cval, origins, integer images; argument
errors raised when the graph is built."""

import itertools

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import convnd.dask  # noqa: E402
from convnd import ndimage as cnd  # noqa: E402

MODES = ["reflect", "mirror", "nearest", "wrap", "constant", "grid-wrap"]


def equal(lazy, want):
    assert isinstance(lazy, da.Array)
    assert lazy.shape == want.shape and lazy.dtype == want.dtype
    got = lazy.compute(scheduler="sync")
    assert got.dtype == want.dtype
    if want.dtype.kind == "f":
        tol = 1e-12 if want.dtype == np.float64 else 2e-6
        np.testing.assert_allclose(got, want, rtol=0, atol=tol * max(1, np.abs(want).max()))
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("mode", MODES)
def test_correlate_convolve_chunks_smaller_than_halo(mode):
    r = np.random.default_rng(0)
    x = r.standard_normal((11, 9))
    w = r.standard_normal((5, 4))
    for chunks in ((2, 3), (11, 1), (4, 9)):
        dx = da.from_array(x, chunks=chunks)
        for origin in ((0, 0), (-2, 1), (2, -2)):
            kw = dict(mode=mode, cval=1.25, origin=origin)
            equal(convnd.dask.ndimage.correlate(dx, w, **kw), cnd.correlate(x, w, **kw))
            equal(convnd.dask.ndimage.convolve(dx, w, **kw), cnd.convolve(x, w, **kw))


def test_per_axis_modes_3d_and_integers():
    r = np.random.default_rng(1)
    x = r.standard_normal((7, 6, 5))
    w = r.standard_normal((3, 2, 3))
    dx = da.from_array(x, chunks=(3, 2, 4))
    for modes in itertools.islice(itertools.product(["constant", "wrap", "mirror"], repeat=3),
                                  0, 27, 4):
        kw = dict(mode=list(modes), cval=-2.0)
        equal(convnd.dask.ndimage.correlate(dx, w, **kw), cnd.correlate(x, w, **kw))
    xi = r.integers(0, 200, (10, 12)).astype(np.uint8)
    wi = r.integers(-2, 3, (3, 3)).astype(float)
    equal(convnd.dask.ndimage.correlate(da.from_array(xi, chunks=4), wi),
          cnd.correlate(xi, wi))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gaussian_filter(dtype):
    r = np.random.default_rng(2)
    x = r.standard_normal((40, 30)).astype(dtype)
    dx = da.from_array(x, chunks=(7, 16))
    for kw in (dict(sigma=3), dict(sigma=(1, 2), order=(1, 0), mode=("wrap", "nearest")),
               dict(sigma=(0, 1.5), radius=4, mode="constant", cval=1.0)):
        equal(convnd.dask.ndimage.gaussian_filter(dx, **kw), cnd.gaussian_filter(x, **kw))


def test_distributed_local_cluster():
    distributed = pytest.importorskip("distributed")
    r = np.random.default_rng(3)
    x = r.standard_normal((64, 48)).astype(np.float32)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        y = convnd.dask.ndimage.gaussian_filter(da.from_array(x, chunks=16), 2.0).compute()
    np.testing.assert_allclose(y, cnd.gaussian_filter(x, 2.0), rtol=0, atol=1e-6)


def test_errors_at_graph_construction():
    dx = da.zeros((8, 8), chunks=4)
    with pytest.raises(ValueError, match="'origin', axis 1"):
        convnd.dask.ndimage.correlate(dx, np.ones((3, 3)), origin=(0, 2))
    with pytest.raises(ValueError, match="'weights'"):
        convnd.dask.ndimage.correlate(dx, np.ones(3))
    with pytest.raises(ValueError, match="'mode', axis 0"):
        convnd.dask.ndimage.convolve(dx, np.ones((3, 3)), mode="bogus")
    with pytest.raises(ValueError, match="'sigma', axis 1"):
        convnd.dask.ndimage.gaussian_filter(dx, (1, -1))
    with pytest.raises(TypeError, match="'image'"):
        convnd.dask.ndimage.correlate(dx.astype(np.complex128), np.ones((3, 3)))
