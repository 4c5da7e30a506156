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


def test_outputs_blend_residuals_and_canonical_images_by_eq_5_4(keras):
    from mf_reflect.network import build_network

    keras.utils.set_random_seed(0)
    model = build_network(ANGLES, 0.125, size=32)
    images = np.random.default_rng(1).random((2, 3, 40, 48, 3)).astype(np.float32)
    out = {k: keras.ops.convert_to_numpy(v) for k, v in model.outputs(images).items()}
    assert out["reflection"].shape == out["transmission"].shape == (2, 40, 48, 3)
    assert out["gate_r"].shape == (2, 40, 48, 1) and 0 < out["gate_r"].min() and out["gate_r"].max() < 1
    np.testing.assert_allclose(out["reflection"], out["gate_r"] * out["residual_r"]
                               + (1 - out["gate_r"]) * out["canonical_perp"], atol=1e-6)
    np.testing.assert_allclose(out["transmission"], out["gate_t"] * out["residual_t"]
                               + (1 - out["gate_t"]) * out["canonical_par"], atol=1e-6)
    stacked = keras.ops.convert_to_numpy(model(images))
    np.testing.assert_allclose(stacked[:, 0], out["reflection"], atol=1e-6)
    np.testing.assert_allclose(stacked[:, 1], out["transmission"], atol=1e-6)


def test_closed_gates_return_the_canonical_projection(keras):
    """With both gates shut (ξ = 0) the estimates are exactly I⊥ and I∥: the network's starting point."""
    from mf_reflect.network import build_network

    model = build_network(ANGLES, 0.125, size=16)
    head = model.head.conv
    kernel, bias = np.zeros(tuple(head.kernel.shape), np.float32), np.zeros(tuple(head.bias.shape), np.float32)
    bias[6:] = -40.0
    head.kernel.assign(kernel)
    head.bias.assign(bias)
    images = np.random.default_rng(2).random((1, 3, 16, 24, 3)).astype(np.float32)
    r, t = keras.ops.convert_to_numpy(model(images))[0]
    perp, par, _ = canonical_projection(images[0].astype(np.float64), ANGLES)
    np.testing.assert_allclose(r, perp, atol=1e-5)
    np.testing.assert_allclose(t, par, atol=1e-5)


def test_width_multiplier_scales_parameters(keras):
    from mf_reflect.network import build_network

    small, large = build_network(ANGLES, 0.25, 16).count_params(), build_network(ANGLES, 0.5, 16).count_params()
    assert 3.0 < large / small < 4.2  # convolutions grow with the square of the width
