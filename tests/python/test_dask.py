"""convnd.dask against the in-memory convnd.conv / conv_transpose: many chunkings (chunks
smaller than the halo and than the padding, strides that do not divide the chunks), every
padding mode, 1-3 spatial axes, both layouts; on dask's threads, processes and
dask.distributed schedulers."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
import dask  # noqa: E402

import convnd  # noqa: E402
import convnd.dask as cdask  # noqa: E402

MODES = ["zeros", "reflect", "symmetric", "replicate", "circular"]
LAYOUTS = ["channels_first", "channels_last"]
RNG = np.random.default_rng(20261124)


def ints(shape, dtype=np.float64):
    """Integer-valued data: every sum is exact, so float64 (and float32) must match exactly
    whatever order the blocks add in."""
    return (RNG.integers(-8, 9, size=shape)).astype(dtype)


def to_layout(x, layout):
    return np.moveaxis(x, 1, -1) if layout == "channels_last" else x


def dask_of(x, spatial_chunks, layout, channel_chunk=2):
    """x (channels-first NumPy) -> a dask array in `layout`: batch chunks of 1, channels in
    chunks of `channel_chunk` (convnd.dask reads them whole), the given spatial chunks."""
    chunks = (1, channel_chunk) + tuple(spatial_chunks)
    if layout == "channels_last":
        chunks = (1,) + tuple(spatial_chunks) + (channel_chunk,)
    x = to_layout(x, layout)
    return da.from_array(x, chunks=chunks), x


def check(got, want, dtype=np.float64):
    """got: a dask array (computed on the scheduler in effect) or its computed result."""
    assert got.shape == want.shape, (got.shape, want.shape)
    g = got.compute() if isinstance(got, da.Array) else got
    assert g.shape == want.shape and g.dtype == want.dtype
    if dtype == np.float64:
        bad = np.flatnonzero(g.ravel() != want.ravel())
        if bad.size:
            at = np.unravel_index(bad[0], g.shape)
            raise AssertionError(f"{bad.size} mismatches, first at {at}: got {g[at]}, "
                                 f"want {want[at]}")
    else:
        np.testing.assert_allclose(g, want, rtol=2e-5, atol=2e-5 * max(1, np.abs(want).max()))


# Forward: (name, N, C, K, groups, S, k, stride, padding, dilation, spatial chunks)
FORWARD = [
    ("1d-same", 2, 4, 3, 1, (13,), (3,), 1, 1, 1, (4,)),
    ("1d-chunk1", 1, 4, 2, 2, (9,), (3,), 1, 2, 2, (1,)),              # chunks < halo
    ("1d-stride3", 2, 4, 3, 1, (17,), (4,), 3, ((2, 7),), 2, (5,)),     # 5 % 3 != 0, pad > chunk
    ("1d-pad-gt-input", 1, 4, 2, 1, (5,), (3,), 1, 9, 1, (2,)),        # reflect wider than S
    ("1d-valid", 2, 4, 4, 4, (11,), (5,), 2, "valid", 1, ((3, 1, 5, 2),)),
    ("2d", 2, 4, 6, 2, (11, 9), (3, 2), (2, 1), ((1, 3), (4, 0)), (1, 2), (3, 4)),
    ("2d-same-tf", 1, 4, 3, 1, (10, 7), (3, 3), (2, 3), "same", 1, ((5, 2, 3), (1, 6))),
    ("3d", 1, 4, 3, 1, (7, 6, 5), (3, 3, 2), (1, 2, 1), (1, 2, (0, 3)), 1, (2, 3, 5)),
    ("3d-depthwise", 2, 4, 4, 4, (5, 6, 4), (2, 3, 3), (2, 1, 1), (1, 1, 4), (1, 2, 1), (3, 2, 1)),
]


def forward_kw(case, mode, layout):
    _, _, _, _, g, _, _, stride, padding, dil, _ = case
    kw = dict(stride=stride, padding=padding, dilation=dil, groups=g, padding_mode=mode,
              layout=layout)
    if padding == "same":
        kw["same_policy"] = "tf"
    return kw


def forward_data(case, dtype=np.float64, bias=True):
    _, n, c, k, g, s, ks, *_ = case
    x = ints((n, c) + s, dtype)
    w = ints((k, c // g) + ks, dtype)
    b = ints((k,), dtype) if bias else None
    return x, w, b


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", FORWARD, ids=[c[0] for c in FORWARD])
def test_conv_equals_in_memory(case, mode, layout):
    x, w, b = forward_data(case)
    xd, xl = dask_of(x, case[-1], layout)
    kw = forward_kw(case, mode, layout)
    want = convnd.conv(xl, w, b, **kw)
    with dask.config.set(scheduler="threads"):
        check(cdask.conv(xd, w, b, **kw), want)


# Transposed: (name, N, C, K, groups, S, k, stride, padding, output_padding, dilation, chunks)
TRANSPOSED = [
    ("1d", 2, 4, 3, 1, (9,), (3,), 1, 1, 0, 1, (4,)),
    ("1d-stride3-chunk1", 1, 4, 2, 2, (7,), (4,), 3, ((2, 1),), 2, 1, (1,)),
    ("1d-dil-pad-gt-out", 2, 4, 2, 1, (24,), (3,), 1, 10, 0, 2, (3,)),  # pad 10 > O = 8
    ("1d-gaps", 1, 2, 2, 1, (6,), (2,), 4, ((3, 2),), 1, 1, (2,)),     # stride > kernel
    ("2d", 2, 4, 6, 2, (6, 5), (3, 2), (2, 3), ((1, 2), (0, 3)), (1, 0), (1, 2), (4, 2)),
    ("3d", 1, 4, 3, 1, (4, 3, 5), (3, 2, 3), (2, 1, 2), (1, 0, (2, 1)), (0, 0, 1), 1,
     (3, 1, 2)),
]


def transposed_data(case, dtype=np.float64, bias=True):
    _, n, c, k, g, s, ks, *_ = case
    x = ints((n, c) + s, dtype)
    w = ints((c, k // g) + ks, dtype)
    b = ints((k,), dtype) if bias else None
    return x, w, b


def transposed_kw(case, mode, layout):
    _, _, _, _, g, _, _, stride, padding, op, dil, _ = case
    return dict(stride=stride, padding=padding, output_padding=op, dilation=dil, groups=g,
                padding_mode=mode, layout=layout)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", TRANSPOSED, ids=[c[0] for c in TRANSPOSED])
def test_conv_transpose_equals_in_memory(case, mode, layout):
    x, w, b = transposed_data(case)
    xd, xl = dask_of(x, case[-1], layout)
    kw = transposed_kw(case, mode, layout)
    want = convnd.conv_transpose(xl, w, b, **kw)
    with dask.config.set(scheduler="threads"):
        check(cdask.conv_transpose(xd, w, b, **kw), want)


@pytest.mark.parametrize("mode", MODES)
def test_float32_random_data(mode):
    x = RNG.standard_normal((2, 3, 12, 9)).astype(np.float32)
    w = RNG.standard_normal((4, 3, 3, 4)).astype(np.float32)
    b = RNG.standard_normal(4).astype(np.float32)
    kw = dict(stride=(2, 1), padding=((3, 1), 2), dilation=(1, 2), padding_mode=mode)
    xd = da.from_array(x, chunks=(1, 3, 5, 2))
    check(cdask.conv(xd, w, b, **kw), convnd.conv(x, w, b, **kw), np.float32)
    wt = RNG.standard_normal((3, 4, 3, 2)).astype(np.float32)
    kw = dict(stride=(2, 3), padding=(1, (2, 0)), output_padding=(1, 2), padding_mode=mode)
    check(cdask.conv_transpose(xd, wt, b, **kw), convnd.conv_transpose(x, wt, b, **kw),
          np.float32)


def test_float64_random_data_within_1e12():
    x = RNG.standard_normal((1, 4, 15, 8, 6))
    w = RNG.standard_normal((2, 2, 3, 2, 3))
    kw = dict(stride=(1, 2, 1), padding=(2, (1, 0), 1), groups=2, padding_mode="reflect",
              layout="channels_first")
    got = cdask.conv(da.from_array(x, chunks=(1, 4, 4, 3, 2)), w, **kw).compute()
    want = convnd.conv(x, w, **kw)
    assert np.max(np.abs(got - want)) <= 1e-12 * np.max(np.abs(want))


def test_lazy_and_chunked_like_the_input():
    calls = []

    def make(block):
        calls.append(block.shape)
        return block

    x = da.from_array(ints((2, 3, 40)), chunks=(1, 3, 10)).map_blocks(
        make, meta=np.empty((0, 0, 0)))
    w = ints((5, 3, 3))
    y = cdask.conv(x, w, padding="same")
    assert not calls, "building the graph computed something"
    assert y.chunks == ((1, 1), (5,), (10, 10, 10, 10))   # stride 1, 'same': x's chunks
    y2 = cdask.conv(x, w, stride=2, padding="same", same_policy="tf")
    assert y2.chunks == ((1, 1), (5,), (5, 5, 5, 5))


def test_each_block_reads_only_its_halo():
    # 1-D, 8 chunks of 10, kernel 5, dilation 2: halo 4 each side, from the two neighbours.
    x = da.from_array(ints((1, 1, 80)), chunks=(1, 1, 10))
    y = cdask.conv(x, ints((1, 1, 5)), dilation=2, padding=4)
    graph = dict(y.__dask_graph__())
    deps = {k: v for k, v in graph.items() if isinstance(k, tuple) and k[0] == y.name}
    halo = {k: v for k, v in graph.items() if isinstance(k, tuple) and "halo" in k[0]}
    # Interior block 3: its own chunk whole, and 4 elements of chunks 2 and 4.
    pieces = deps[(y.name, 0, 0, 3)][3]
    flat = [p for a in pieces for b in a for p in b]
    assert (x.name, 0, 0, 3) in flat
    cut = sorted(halo[p][2][2] for p in flat if p[0] != x.name)
    assert cut == [slice(0, 4), slice(6, 10)], cut


def test_numpy_input_is_accepted():
    x, w = ints((1, 2, 7)), ints((3, 2, 3))
    check(cdask.conv(x, w, padding=1), convnd.conv(x, w, padding=1))


@pytest.mark.parametrize("call, kw, exc, text", [
    ("conv", dict(stride=0), ValueError, "'stride'"),
    ("conv", dict(padding_mode="mirrored"), ValueError, "'padding_mode'"),
    ("conv", dict(groups=3), ValueError, "'groups'"),
    ("conv", dict(layout="nhwc"), ValueError, "'layout'"),
    ("conv", dict(padding=(1, 2)), ValueError, "'padding'"),
    ("conv", dict(dilation=(1, 1)), ValueError, "'dilation'"),
    ("conv_transpose", dict(output_padding=1), ValueError, "'output_padding'"),
])
def test_bad_arguments_name_the_argument(call, kw, exc, text):
    x = da.zeros((1, 2, 8), chunks=3)
    w = np.zeros((2, 2, 3))
    with pytest.raises(exc, match=text):
        getattr(cdask, call)(x, w, **kw)


def test_bad_arrays_name_the_argument():
    x = da.zeros((1, 2, 8), chunks=3)
    w = np.zeros((2, 2, 3))
    with pytest.raises(ValueError, match="'x'"):
        cdask.conv(da.zeros((2, 8)), w)
    with pytest.raises(ValueError, match="'x' and 'w'"):
        cdask.conv(x, w[0])
    with pytest.raises(TypeError, match="'x' and 'w'"):
        cdask.conv(x, w.astype(np.float32))
    with pytest.raises(TypeError, match="'x'"):
        cdask.conv(x.astype(np.int32), w)
    with pytest.raises(TypeError, match="'bias'"):
        cdask.conv(x, w, np.zeros(2, np.float32))
    unknown = x[x[0, 0] > 0][None, None]   # unknown chunk sizes
    with pytest.raises(ValueError, match="'x': chunk sizes must be known"):
        cdask.conv(unknown, np.zeros((1, 1, 1)))


# Other schedulers: a few small problems each (processes and a cluster are slow to start).
SMALL = [
    ("conv", FORWARD[5], "reflect", "channels_last"),
    ("conv_transpose", TRANSPOSED[4], "circular", "channels_first"),
    ("conv", FORWARD[8], "symmetric", "channels_first"),
]


def run_small(call, case, mode, layout):
    if call == "conv":
        x, w, b = forward_data(case)
        kw = forward_kw(case, mode, layout)
    else:
        x, w, b = transposed_data(case)
        kw = transposed_kw(case, mode, layout)
    xd, xl = dask_of(x, case[-1], layout)
    return getattr(cdask, call)(xd, w, b, **kw), getattr(convnd, call)(xl, w, b, **kw)


@pytest.mark.parametrize("call, case, mode, layout", SMALL[:2], ids=["conv", "transpose"])
def test_processes_scheduler(call, case, mode, layout):
    got, want = run_small(call, case, mode, layout)
    check(got.compute(scheduler="processes", num_workers=2), want)


@pytest.fixture(scope="module")
def cluster_client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


@pytest.mark.filterwarnings("ignore:make_current is deprecated:DeprecationWarning")
@pytest.mark.parametrize("call, case, mode, layout", SMALL,
                         ids=["conv", "transpose", "conv-3d"])
def test_distributed_local_cluster(cluster_client, call, case, mode, layout):
    got, want = run_small(call, case, mode, layout)
    check(cluster_client.compute(got).result(), want)
