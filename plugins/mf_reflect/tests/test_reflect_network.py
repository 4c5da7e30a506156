"""The separation network: canonical projection layer, eq. 5.4 blending, width, shapes."""

import numpy as np
import pytest
from mf_reflect.canonical import canonical_projection

ANGLES = np.radians([0.0, 45.0, 90.0])


@pytest.mark.parametrize("degrees", [(0, 45, 90), (0, 45, 90, 135), (30, 75, 120)])
def test_projection_layer_matches_the_numpy_projection(keras, degrees):
    from mf_reflect.network import CanonicalProjection

    angles = np.radians(degrees)
    images = np.random.default_rng(0).random((2, len(angles), 8, 6, 3)).astype(np.float32)
    perp, par = (keras.ops.convert_to_numpy(x) for x in CanonicalProjection(angles)(images))
    for b in range(2):
        want_perp, want_par, _ = canonical_projection(images[b].astype(np.float64), angles)
        np.testing.assert_allclose(perp[b], want_perp, atol=1e-5)
        np.testing.assert_allclose(par[b], want_par, atol=1e-5)


def _stack(rng, batch, height, width):
    """Network inputs: three observations, then a prior (R, T) that is not the canonical projection."""
    return rng.random((batch, 5, height, width, 1)).astype(np.float32)


def test_outputs_blend_residuals_and_the_prior_by_eq_5_4(keras):
    from mf_reflect.network import build_network

    keras.utils.set_random_seed(0)
    model = build_network(ANGLES, 0.125, size=32)
    stack = _stack(np.random.default_rng(1), 2, 40, 48)
    out = {k: keras.ops.convert_to_numpy(v) for k, v in model.outputs(stack).items()}
    assert out["reflection"].shape == out["transmission"].shape == (2, 40, 48, 1)
    assert out["gate_r"].shape == (2, 40, 48, 1) and 0 < out["gate_r"].min() and out["gate_r"].max() < 1
    np.testing.assert_allclose(out["reflection"], out["gate_r"] * out["residual_r"]
                               + (1 - out["gate_r"]) * stack[:, 3], atol=1e-6)
    np.testing.assert_allclose(out["transmission"], out["gate_t"] * out["residual_t"]
                               + (1 - out["gate_t"]) * stack[:, 4], atol=1e-6)
    perp, par, _ = canonical_projection(stack[0, :3].astype(np.float64), ANGLES)
    np.testing.assert_allclose(out["canonical_perp"][0], perp, atol=1e-5)
    stacked = keras.ops.convert_to_numpy(model(stack))
    np.testing.assert_allclose(stacked[:, 0], out["reflection"], atol=1e-6)
    np.testing.assert_allclose(stacked[:, 1], out["transmission"], atol=1e-6)


def test_an_untrained_network_starts_near_the_prior_and_shut_gates_return_it(keras):
    """Gates start almost shut (the physics) and, shut, give exactly the prior's layers."""
    from mf_reflect.network import build_network

    model = build_network(ANGLES, 0.125, size=16)
    stack = _stack(np.random.default_rng(2), 1, 16, 24)
    gates = keras.ops.convert_to_numpy(model.outputs(stack)["gate_t"])
    assert gates.mean() < 0.1
    head = model.head.conv
    kernel, bias = np.zeros(tuple(head.kernel.shape), np.float32), np.zeros(tuple(head.bias.shape), np.float32)
    bias[2:] = -40.0
    head.kernel.assign(kernel)
    head.bias.assign(bias)
    r, t = keras.ops.convert_to_numpy(model(stack))[0]
    np.testing.assert_allclose(r, stack[0, 3], atol=1e-6)
    np.testing.assert_allclose(t, stack[0, 4], atol=1e-6)


def test_separation_is_exposure_invariant_and_channel_by_channel(keras, tiny_reflect_weights):
    """Scaling a capture scales its layers by the same factor; a grey capture stays grey, one channel in, one out."""
    from mf_reflect.inference import separate

    _, model = tiny_reflect_weights
    rng = np.random.default_rng(3)
    colour = rng.random((3, 24, 32, 3)).astype(np.float32)
    r1, t1 = separate(model, colour, ANGLES)
    for factor in (0.25, 0.5):
        r, t = separate(model, colour * factor, ANGLES)
        np.testing.assert_allclose(t / factor, t1, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(r / factor, r1, rtol=1e-4, atol=1e-6)
    grey = colour[..., :1]
    rg, tg = separate(model, grey, ANGLES)
    assert rg.shape == tg.shape == (24, 32, 1)
    r3, t3 = separate(model, np.repeat(grey, 3, axis=-1), ANGLES)
    for c in (1, 2):  # the same weights on each channel: no tint
        np.testing.assert_allclose(t3[..., c], t3[..., 0], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(r3[..., c], r3[..., 0], rtol=1e-6, atol=1e-7)
    # and as the one-channel run (the 99.5th percentile of three copies interpolates between other neighbours)
    np.testing.assert_allclose(t3[..., :1], tg, rtol=1e-3, atol=5e-4)


def test_width_multiplier_scales_parameters(keras):
    from mf_reflect.network import build_network

    small, large = build_network(ANGLES, 0.25, 16).count_params(), build_network(ANGLES, 0.5, 16).count_params()
    assert 3.0 < large / small < 4.2  # convolutions grow with the square of the width
