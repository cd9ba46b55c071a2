"""The plan cache of the one-off entry points (convnd.conv, conv_transpose, the gradients and
convnd.torch): a repeated call reuses its Plan, every argument still gets its checks (a float
stride is a TypeError even after an int stride planned the same geometry), a failed plan is not
cached, and the cache stays bounded."""

import numpy as np
import pytest

import convnd
from convnd import _api


@pytest.fixture(autouse=True)
def empty_cache():
    _api._plan_cache.clear()
    yield
    _api._plan_cache.clear()


def test_repeated_calls_reuse_one_plan_and_give_the_same_result():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    first = convnd.conv(x, w, padding=1)
    assert len(_api._plan_cache) == 1
    plan = next(iter(_api._plan_cache.values()))
    second = convnd.conv(x, w, padding=1)
    assert len(_api._plan_cache) == 1 and next(iter(_api._plan_cache.values())) is plan
    np.testing.assert_array_equal(first, second)
    # Another geometry, dtype or pass is another plan.
    convnd.conv(x, w, padding=2)
    convnd.conv(x.astype(np.float64), w.astype(np.float64), padding=1)
    dy = rng.standard_normal(first.shape).astype(np.float32)
    convnd.conv_backward_weight(x, dy, w.shape, padding=1)
    convnd.conv_backward_data(dy, w, x.shape, padding=1)
    assert len(_api._plan_cache) == 5


def test_a_cached_geometry_does_not_skip_argument_checks():
    x = np.ones((1, 1, 8), np.float32)
    w = np.ones((1, 1, 3), np.float32)
    convnd.conv(x, w, stride=1)
    with pytest.raises(TypeError, match="stride"):
        convnd.conv(x, w, stride=1.0)
    with pytest.raises(TypeError):
        convnd.conv(x, w, stride=True)


def test_failed_plans_are_not_cached_and_fail_again():
    x = np.ones((1, 2, 8), np.float32)
    w = np.ones((1, 3, 3), np.float32)  # 3 input channels for a 2-channel x
    for _ in range(2):
        with pytest.raises(ValueError):
            convnd.conv(x, w)
    assert len(_api._plan_cache) == 0


def test_the_cache_is_bounded():
    w = np.ones((1, 1, 2), np.float32)
    for n in range(_api._PLAN_CACHE_SIZE + 10):
        convnd.conv(np.ones((1, 1, n + 2), np.float32), w)
    assert len(_api._plan_cache) == _api._PLAN_CACHE_SIZE
