"""Fresnel physics, eq. 5.2 and the canonical projection against float64 references."""

import numpy as np
import pytest
from mf_reflect.canonical import canonical_projection, check_angles
from mf_reflect.formation import canonical_images, observable_layers, polarised_images
from mf_reflect.fresnel import brewster_angle, mixing, pane_reflectance, reflectance, refraction_angle
from mf_reflect.mosaic import check_pattern, demosaic

from mfcore import InputError

THETA = np.linspace(0.01, np.pi / 2 - 0.01, 400)


def test_brewster_angle_reflects_only_the_s_component():
    theta_b = brewster_angle(1.5)
    assert np.degrees(theta_b) == pytest.approx(56.3099, abs=1e-4)
    r_s, r_p = reflectance(np.float64(theta_b), 1.5)
    assert r_p < 1e-20 and r_s > 0.1
    # through a polariser along the plane of incidence (φ⊥ + π/2) the pane shows no reflection at all
    rng = np.random.default_rng(0)
    reflected = rng.random((8, 8, 3))
    seen = polarised_images(reflected, np.zeros_like(reflected), theta_b, 0.3, (0.3 + np.pi / 2,))
    assert np.abs(seen).max() < 1e-15
    # and R∥ is smallest there
    assert abs(THETA[np.argmin(reflectance(THETA)[1])] - theta_b) < 0.005


def test_reflectance_matches_the_sine_and_tangent_forms_and_conserves_energy():
    n = 1.5
    cos_i, theta_t = np.cos(THETA), refraction_angle(THETA, n)
    cos_t = np.cos(theta_t)
    r_s, r_p = reflectance(THETA, n)
    np.testing.assert_allclose(r_s, np.sin(THETA - theta_t) ** 2 / np.sin(THETA + theta_t) ** 2, rtol=1e-12)
    np.testing.assert_allclose(r_p, np.tan(THETA - theta_t) ** 2 / np.tan(THETA + theta_t) ** 2, rtol=1e-9,
                               atol=1e-15)
    # transmitted power from the Fresnel transmission amplitudes: R + T = 1 for each polarisation
    t_s = 2 * cos_i / (cos_i + n * cos_t)
    t_p = 2 * cos_i / (n * cos_i + cos_t)
    np.testing.assert_allclose(r_s + n * cos_t / cos_i * t_s**2, 1.0, atol=1e-12)
    np.testing.assert_allclose(r_p + n * cos_t / cos_i * t_p**2, 1.0, atol=1e-12)
    # normal incidence: ((n - 1) / (n + 1))², where the textbook forms are 0/0
    assert reflectance(np.float64(0.0), n)[0] == pytest.approx(0.04, abs=1e-15)


def test_pane_reflectance_is_the_sum_over_internal_bounces():
    """Front-surface reflection plus every path through the glass and back out: R + T² R Σ R^2k."""
    for r, pane in zip(reflectance(THETA), pane_reflectance(THETA)):
        series = r + sum((1 - r) ** 2 * r ** (2 * k + 1) for k in range(5000))
        np.testing.assert_allclose(pane, series, rtol=1e-12, atol=1e-18)
        assert np.all(pane >= r) and np.all(pane < 1)


def test_eq_5_2_orthogonal_polarisers_see_all_the_light():
    rng = np.random.default_rng(1)
    reflected, transmitted = rng.random((2, 16, 16, 3))
    theta, phi_perp = rng.uniform(0, 1.5, (16, 16)), rng.uniform(-np.pi / 4, np.pi / 4, (16, 16))
    for phi in rng.uniform(0, np.pi, 5):
        a, b = polarised_images(reflected, transmitted, theta, phi_perp, (phi, phi + np.pi / 2))
        r_s, r_p = pane_reflectance(theta)
        mean_r = ((r_s + r_p) / 2)[..., None]
        np.testing.assert_allclose(a + b, mean_r * reflected + (1 - mean_r) * transmitted, atol=1e-14)
    alpha = mixing(theta, phi_perp, phi_perp)
    np.testing.assert_allclose(alpha, pane_reflectance(theta)[0], atol=1e-15)


@pytest.mark.parametrize("degrees", [(0, 45, 90), (20, 65, 110), (0, 45, 90, 135), (10, 50, 100, 170, 135)])
def test_canonical_projection_recovers_the_canonical_images_and_phi_perp(degrees):
    rng = np.random.default_rng(2)
    reflected, transmitted = rng.random((2, 12, 10, 3))
    theta = rng.uniform(0.05, 1.4, (12, 10))
    phi_perp = rng.uniform(-np.pi / 4, np.pi / 4 - 1e-3, (12, 10))
    angles = np.radians(degrees)
    images = polarised_images(reflected, transmitted, theta, phi_perp, tuple(angles))
    i_perp, i_par, phi = canonical_projection(images, angles)
    want_perp, want_par = canonical_images(reflected, transmitted, theta)
    np.testing.assert_allclose(i_perp, want_perp, atol=1e-12)
    np.testing.assert_allclose(i_par, want_par, atol=1e-12)
    np.testing.assert_allclose(phi, np.repeat(phi_perp[..., None], 3, axis=2), atol=1e-9)
    r, t = observable_layers(reflected, transmitted, theta)
    assert np.all(r <= i_perp + 1e-12) and np.all(t <= i_par + 1e-12)


def test_least_squares_fit_of_four_noisy_angles_matches_per_pixel_lstsq():
    rng = np.random.default_rng(3)
    angles = np.radians([0, 45, 90, 135])
    images = rng.random((4, 5, 6))
    i_perp, i_par, phi = canonical_projection(images, angles)
    design = np.stack([np.ones(4), np.cos(2 * angles), np.sin(2 * angles)], axis=1)
    for y in range(5):
        for x in range(6):
            (a, b, c), *_ = np.linalg.lstsq(design, images[:, y, x], rcond=None)
            fitted = i_perp[y, x] * np.cos(angles - phi[y, x]) ** 2 + i_par[y, x] * np.sin(angles - phi[y, x]) ** 2
            np.testing.assert_allclose(fitted, design @ (a, b, c), atol=1e-12)
            assert -np.pi / 4 <= phi[y, x] < np.pi / 4


def test_angles_must_be_three_and_distinct():
    with pytest.raises(InputError, match="three or more"):
        check_angles(np.radians([0, 45]))
    with pytest.raises(InputError, match="not distinct"):
        check_angles(np.radians([0, 45, 180]))
    with pytest.raises(InputError, match="one image per polariser angle"):
        canonical_projection(np.zeros((3, 4, 4)), np.radians([0, 45, 90, 135]))


def _mosaic(views, pattern=(90, 45, 135, 0)):
    """A raw frame from four angle images laid out row-major in ``pattern``."""
    h, w = next(iter(views.values())).shape[:2]
    raw = np.zeros((2 * h, 2 * w, 1))
    for (dy, dx), angle in zip(((0, 0), (0, 1), (1, 0), (1, 1)), pattern):
        raw[dy::2, dx::2] = views[angle]
    return raw


def _smooth_field(height, width):
    """A smoothly varying polarised scene: I(φ) = A + B cos 2φ + C sin 2φ at every full-resolution pixel."""
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    a = 0.5 + 0.2 * np.sin(3 * xx + 2 * yy)
    b, c = 0.15 * np.cos(4 * yy), 0.1 * np.sin(2 * xx - yy)
    return {angle: (a + b * np.cos(2 * np.radians(angle)) + c * np.sin(2 * np.radians(angle)))[..., None]
            for angle in (0, 45, 90, 135)}


def test_half_size_demosaicing_returns_the_four_sparse_images_sorted():
    rng = np.random.default_rng(4)
    field = _smooth_field(12, 14)
    views = {angle: field[angle][::2, ::2] + rng.normal(0, 1e-3, (6, 7, 1)) for angle in field}
    images, angles = demosaic(_mosaic(views), half=True)
    assert angles == [0.0, 45.0, 90.0, 135.0]
    for image, angle in zip(images, angles):
        np.testing.assert_allclose(image, views[int(angle)], atol=1e-6)


def test_demosaicing_interpolates_every_angle_at_full_resolution():
    """Each angle sampled on its own quarter of the sensor, interpolated back: the smooth field at every pixel."""
    field = _smooth_field(64, 80)
    views = {}
    for (dy, dx), angle in zip(((0, 0), (0, 1), (1, 0), (1, 1)), (90, 45, 135, 0)):
        views[angle] = field[angle][dy::2, dx::2]  # what the sensor samples at its own positions
    images, angles = demosaic(_mosaic(views))
    assert images.shape == (4, 64, 80, 1)
    for image, angle in zip(images, angles):
        error = np.abs(image - field[int(angle)])[2:-2, 2:-2]  # borders are extrapolated
        assert error.max() < 2e-3, angle
    decimated, _ = demosaic(_mosaic(views), half=True)
    blocky = np.repeat(np.repeat(decimated, 2, axis=1), 2, axis=2)  # half size, shown at full size
    truth = np.stack([field[int(a)] for a in angles])
    assert np.abs(images - truth)[:, 2:-2, 2:-2].mean() < 0.5 * np.abs(blocky - truth)[:, 2:-2, 2:-2].mean()


def test_a_pattern_that_pairs_the_wrong_positions_is_refused():
    rng = np.random.default_rng(5)
    field = _smooth_field(16, 16)
    views = {angle: field[angle] + rng.normal(0, 1e-3, (16, 16, 1)) for angle in field}
    raw = _mosaic(views)
    balance = check_pattern(raw)
    assert list(balance)[0] == "90+0 vs 45+135" and balance["90+0 vs 45+135"] < 0.01
    with pytest.raises(InputError, match="does not match --pattern 45,90,135,0"):
        demosaic(raw, (45, 90, 135, 0))
    unpolarised = _mosaic({angle: field[0] for angle in field})
    demosaic(unpolarised, (45, 90, 135, 0))  # nothing to tell from: accepted
    for pattern, message in (((0, 45, 90), "4 angles"), ((0, 30, 90, 135), "45° apart")):
        with pytest.raises(InputError, match=message):
            demosaic(raw, pattern)
    with pytest.raises(InputError, match="even number of rows"):
        demosaic(raw[:-1])
    with pytest.raises(InputError, match="one-channel raw frame"):
        demosaic(np.concatenate([raw, raw * 0.5], axis=-1))
