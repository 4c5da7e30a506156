"""Training-data synthesis (thesis 5.2.3): each step, and whole samples against eq. 5.2."""

import numpy as np
import pytest
from mf_reflect.canonical import canonical_projection
from mf_reflect.deformation import random_flow, warp
from mf_reflect.exposure import LEVEL, QUANTILE
from mf_reflect.formation import observable_layers
from mf_reflect.fresnel import pane_reflectance
from mf_reflect.orientation import orient
from mf_reflect.surface import MAX_AOI, curved_aoi, flat_aoi, incidence, parabola_aoi, perspective_pane
from mf_reflect.synthesis import abrupt_edges, dynamic_range, reflection_sample, sensor

from mfcore import InputError


def test_dynamic_range_sets_the_ratio_of_the_layers_the_camera_sees():
    rng = np.random.default_rng(0)
    r, t = rng.random((2, 8, 8, 3))
    theta = rng.uniform(0.2, 1.2, (8, 8))
    for ratio in (0.1, 1.0, 10.0):
        scaled = dynamic_range(r, t, ratio, theta, 1.5)
        np.testing.assert_allclose(scaled / r, (scaled / r).flat[0], rtol=1e-12)  # one factor for the whole layer
        shown_r, shown_t = observable_layers(scaled, t, theta, 1.5)
        assert shown_r.mean() / shown_t.mean() == pytest.approx(ratio, rel=1e-9)


def test_the_sensor_quantises_clips_and_adds_noise_that_grows_with_the_signal():
    rng = np.random.default_rng(8)
    stack = np.tile(np.linspace(0.01, 1.0, 64)[None, None, :, None], (3, 64, 1, 1))
    raw, gain = sensor(rng, stack)
    assert raw.min() >= 0 and raw.max() <= 1 and gain > 0
    levels = np.unique(raw)
    steps = np.diff(levels)
    assert steps.min() >= 1 / 65535 - 1e-12  # quantised to some bit depth
    residual = raw - np.clip(stack * gain, 0, 1)
    unclipped = stack * gain < 0.95
    dark, bright = residual[..., :8, :][unclipped[..., :8, :]], residual[..., 24:40, :][unclipped[..., 24:40, :]]
    assert bright.std() > dark.std()  # shot noise


def test_samples_are_normalised_like_captures_at_inference():
    for seed in range(4):
        s = reflection_sample(np.random.default_rng(seed), size=48)
        assert np.quantile(s["observations"], QUANTILE) == pytest.approx(LEVEL, rel=1e-4)


def test_incidence_angles_and_planes_match_the_vector_geometry():
    """θ from the cross and dot products (atan2, a second formula); φ⊥ ⟂ ray and normal in 3-D."""
    rng = np.random.default_rng(9)
    rays, normal = rng.normal(size=(50, 3)), rng.normal(size=3)
    rays[:, 2] = np.abs(rays[:, 2]) + 0.5
    normal /= np.linalg.norm(normal)
    theta, phi = incidence(rays, normal)
    d = rays / np.linalg.norm(rays, axis=1, keepdims=True)
    want = np.arctan2(np.linalg.norm(np.cross(d, normal), axis=1), np.abs(d @ normal))
    np.testing.assert_allclose(theta, want, atol=1e-9)
    assert phi.min() >= -np.pi / 2 and phi.max() < np.pi / 2
    for ray, angle in zip(d, phi):  # the image direction (cos φ, sin φ) lifted to 3-D, perpendicular to the ray,
        lifted = np.array([np.cos(angle), np.sin(angle), -(ray[0] * np.cos(angle) + ray[1] * np.sin(angle)) / ray[2]])
        s = np.cross(ray, normal)
        assert abs(np.cross(lifted, s) @ ray) < 1e-9 * np.linalg.norm(lifted) * np.linalg.norm(s) + 1e-12
    for _ in range(5):
        pane_theta, pane_phi = perspective_pane(rng, 24)
        assert pane_theta.shape == pane_phi.shape == (24, 24) and pane_theta.max() <= MAX_AOI
        assert np.ptp(pane_theta) > np.radians(0.5)  # a lens sees a flat pane at many angles


def test_abrupt_edges_zero_the_reflection_below_the_mean_of_both_layers():
    rng = np.random.default_rng(1)
    r, t = 2 * rng.random((8, 16, 16, 3)), rng.random((8, 16, 16, 3)) / 2
    for old, other in zip(r, t):
        new = abrupt_edges(old, other)
        dark = old.mean(axis=-1) < (old + other).mean()
        assert dark.any() and (~dark).any()
        assert np.all(new[dark] == 0) and np.array_equal(new[~dark], old[~dark])


def test_parabola_aoi_matches_finite_difference_normals():
    rng = np.random.default_rng(2)
    assert parabola_aoi(np.array([0.0]), (0.0, 2.0), 1.0)[0] == pytest.approx(0.0, abs=1e-12)  # camera above the vertex
    assert parabola_aoi(np.array([0.0]), (3.0, 0.0), 1.0)[0] == pytest.approx(np.pi / 2)  # level with it: grazing
    for _ in range(20):
        camera, convexity, x = (rng.uniform(-3, 3), rng.uniform(-4, 4)), rng.choice((-1.0, 1.0)), rng.uniform(-2, 2)
        h = 1e-6
        tangent = np.array([2 * h, convexity * ((x + h) ** 2 - (x - h) ** 2)])
        normal = np.array([-tangent[1], tangent[0]])
        view = np.array([x - camera[0], convexity * x**2 - camera[1]])
        want = np.arccos(abs(view @ normal) / np.linalg.norm(view) / np.linalg.norm(normal))
        assert parabola_aoi(np.array([x]), camera, convexity)[0] == pytest.approx(want, abs=1e-7)


def test_curved_panes_vary_their_aoi_and_flat_ones_do_not():
    rng = np.random.default_rng(3)
    spreads = []
    for _ in range(20):
        theta = curved_aoi(rng, 32)
        assert theta.shape == (32, 32) and theta.min() >= 0 and theta.max() <= MAX_AOI
        spreads.append(np.ptp(theta))
    assert np.median(spreads) > np.radians(5)
    assert np.ptp(flat_aoi(rng, 32)) == 0


def test_deformation_is_smooth_scaled_by_sigma_and_identity_without_flow():
    rng = np.random.default_rng(4)
    image = rng.random((40, 40, 3)).astype(np.float32)
    np.testing.assert_allclose(warp(image, np.zeros((40, 40, 2), np.float32)), image, atol=1e-6)
    small = np.std([random_flow(rng, 64, 0.025).std() for _ in range(30)])
    flows = [random_flow(rng, 64, s) for s in (0.1, 0.025) for _ in range(30)]
    big, little = np.mean([f.std() for f in flows[:30]]), np.mean([f.std() for f in flows[30:]])
    assert 2.5 < big / little < 6 and small >= 0
    assert np.abs(np.diff(flows[0], axis=0)).max() < 0.25 * np.abs(flows[0]).max() + 1e-3  # smooth, not noise


def test_sample_observations_follow_eq_5_2_of_its_targets():
    """Without motion and noise, the canonical projection of the observations is R + (T'⊥/T'∥)·T."""
    for seed in range(5):
        s = reflection_sample(np.random.default_rng(seed), size=48, nrd=0.0, shift=0.0, sensor_model=False)
        obs = s["observations"].astype(np.float64)
        assert obs.shape == (3, 48, 48, 3) and s["reflection"].shape == s["transmission"].shape == (48, 48, 3)
        angles = s["angles"].astype(np.float64)
        i_perp, i_par, phi = canonical_projection(orient(obs, angles)[0], angles)  # φ⊥ may be anywhere
        r_s, r_p = (x[..., None] for x in pane_reflectance(s["theta"].astype(np.float64)))
        r, t = s["reflection"].astype(np.float64), s["transmission"].astype(np.float64)
        ok = (r < 1.5) & (t < 1.5)  # targets not clipped at the prior's ceiling
        np.testing.assert_allclose(i_perp[ok], (r + (1 - r_s) / (1 - r_p) * t)[ok], atol=2e-5)
        np.testing.assert_allclose(i_par[ok], (t + r_p / r_s * r)[ok], atol=2e-5)
        assert ok.mean() > 0.9


def test_switches_turn_steps_off():
    flat = [reflection_sample(np.random.default_rng(seed), size=32, lcg=False)["theta"] for seed in range(8)]
    assert any(np.ptp(theta) == 0 for theta in flat)  # some panes seen from afar, the others in perspective
    quiet = dict(nrd=0.0, shift=0.0, sensor_model=False)
    still = [reflection_sample(np.random.default_rng(6), size=32, **quiet) for _ in range(2)]
    np.testing.assert_array_equal(still[0]["observations"], still[1]["observations"])  # deterministic per seed
    moving = reflection_sample(np.random.default_rng(6), size=32, **{**quiet, "nrd": 1.0})
    ratio = moving["reflection"] / np.maximum(still[0]["reflection"], 1e-9)  # the same layer; exposure may differ
    lit = still[0]["reflection"] > 1e-3
    assert np.ptp(ratio[lit]) < 1e-3 * ratio[lit].mean()
    with pytest.raises(InputError, match="three or more"):
        reflection_sample(np.random.default_rng(0), angles=(0, 90))
    with pytest.raises(InputError, match="at least 1"):
        reflection_sample(np.random.default_rng(0), dr_max=0.5)


def test_motion_moves_every_image_but_the_reference():
    """NRD leaves the first observation consistent with the targets and moves the others."""
    quiet = dict(shift=0.0, sensor_model=False, edges=0.0)
    base = reflection_sample(np.random.default_rng(7), size=48, nrd=0.0, **quiet)
    moved = reflection_sample(np.random.default_rng(7), size=48, nrd=1.0, **quiet)
    lit = base["transmission"] > 1e-3
    scale = np.median(base["transmission"][lit] / moved["transmission"][lit])  # the exposures differ
    unclipped = (base["observations"] < 1) & (moved["observations"] < 1)
    first = unclipped[0]
    np.testing.assert_allclose(moved["observations"][0][first] * scale, base["observations"][0][first], atol=1e-4)
    for i in (1, 2):
        change = np.abs(moved["observations"][i] * scale - base["observations"][i])[unclipped[i]]
        assert change.mean() > 5e-3
