"""The precision contract: precision="highest" never uses Winograd; the default lets float32
3x3 stride-1 layers use it, and the Plan reports a bound that the measured error respects."""
import numpy as np
import pytest

import convnd


def _layer(rng, dtype=np.float32, n=2, c=32, k=32, size=(18, 17)):
    x = rng.standard_normal((n, c) + size).astype(dtype)
    w = rng.standard_normal((k, c, 3, 3)).astype(dtype)
    return x, w


def test_default_uses_winograd_for_a_float32_3x3_layer():
    # 64 channels: below that, direct convolution measured faster (src/algo/winograd_crossover.cc)
    plan = convnd.Plan((2, 64, 28, 28), (64, 64, 3, 3), padding=1)
    assert plan.algorithm.startswith("winograd"), plan.algorithm
    exact = convnd.Plan((2, 64, 28, 28), (64, 64, 3, 3), padding=1, precision="highest")
    assert "winograd" not in exact.algorithm
    assert plan.error_bound > exact.error_bound > 0


def test_float64_keeps_direct_summation_unless_forced():
    plan = convnd.Plan((2, 32, 18, 17), (32, 32, 3, 3), padding=1, dtype="float64")
    assert "winograd" not in plan.algorithm
    forced = convnd.Plan((2, 32, 18, 17), (32, 32, 3, 3), padding=1, dtype="float64",
                         algorithm="winograd_f4")
    assert forced.algorithm == "winograd_f4"


@pytest.mark.parametrize("algorithm", ["winograd_f2", "winograd_f4", "winograd_f6"])
@pytest.mark.parametrize("mode", ["zeros", "reflect", "circular"])
def test_error_within_the_reported_bound(algorithm, mode):
    rng = np.random.default_rng(5)
    x, w = _layer(rng)
    plan = convnd.Plan(x.shape, w.shape, padding=1, padding_mode=mode, algorithm=algorithm)
    y = plan.forward(x, w)
    exact = convnd.conv(x.astype(np.float64), w.astype(np.float64), padding=1,
                        padding_mode=mode)
    scale = convnd.conv(np.abs(x).astype(np.float64), np.abs(w).astype(np.float64), padding=1,
                        padding_mode=mode)
    err = np.max(np.abs(y - exact)) / np.max(scale)
    assert err <= plan.error_bound
    # ... and the result is not just within a loose bound: it is a float32-quality answer.
    np.testing.assert_allclose(y, exact, rtol=0, atol=1e-3 * np.max(scale))


def test_highest_matches_the_reference_exactly_on_integers():
    rng = np.random.default_rng(6)
    x = rng.integers(-8, 9, (2, 32, 12, 11)).astype(np.float32)
    w = rng.integers(-8, 9, (32, 32, 3, 3)).astype(np.float32)
    y = convnd.conv(x, w, padding=1, precision="highest")
    ref = convnd.conv(x, w, padding=1, algorithm="reference")
    assert np.array_equal(y, ref)


def test_transposed_and_backward_data_take_precision():
    rng = np.random.default_rng(7)
    x, w = _layer(rng)
    dy = rng.standard_normal((2, 32, 18, 17)).astype(np.float32)
    a = convnd.conv_backward_data(dy, w, x.shape, padding=1)
    b = convnd.conv_backward_data(dy, w, x.shape, padding=1, precision="highest")
    # Winograd's error is relative to the sums of |products| (about 200 here), not to y.
    np.testing.assert_allclose(a, b, rtol=0, atol=2e-3)
    t = convnd.conv_transpose(dy, w, padding=1, precision="highest")
    np.testing.assert_allclose(t, b, rtol=1e-5, atol=1e-5)


def test_bad_precision_is_a_clear_error():
    with pytest.raises(ValueError, match="precision"):
        convnd.Plan((1, 1, 8), (1, 1, 3), precision="fast")
    with pytest.raises(TypeError, match="precision"):
        convnd.Plan((1, 1, 8), (1, 1, 3), precision=1)


def test_weight_gradient_uses_winograd_within_its_bound():
    rng = np.random.default_rng(8)
    # 64 channels: F(3, 4) is chosen from 64 in 2-D (src/algo/winograd_crossover.cc)
    x, w = _layer(rng, n=4, c=64, k=64, size=(28, 28))
    dy = rng.standard_normal((4, 64, 28, 28)).astype(np.float32)
    plan = convnd.Plan(x.shape, w.shape, op="backward_weight", padding=1)
    assert plan.algorithm.startswith("winograd_wgrad"), plan.algorithm
    exact_plan = convnd.Plan(x.shape, w.shape, op="backward_weight", padding=1,
                             precision="highest")
    assert "winograd" not in exact_plan.algorithm
    dw = plan.backward_weight(x, dy)
    x64, dy64 = x.astype(np.float64), dy.astype(np.float64)
    exact = convnd.conv_backward_weight(x64, dy64, w.shape, padding=1)
    scale = convnd.conv_backward_weight(np.abs(x64), np.abs(dy64), w.shape, padding=1)
    err = np.max(np.abs(dw - exact)) / np.max(scale)
    assert err <= plan.error_bound
    assert err <= 1e-5
