"""A flat pane in perspective: the view read from the angles of polarisation, and the separation along its AOI field.

The reference is the closed-form geometry: a pinhole camera, a plane of known
normal, the angle of incidence arccos |d·m| and the s direction d × m of
every pixel's ray d, pushed through eq. 5.2.
"""

import numpy as np
import pytest
from mf_reflect.baselines import pane_separation, schechner_separation
from mf_reflect.baselines.pane import MIN_AOI, PaneView, exclusion, fit_view, negative_share
from mf_reflect.baselines.schechner import separate_at
from mf_reflect.canonical import canonical_projection
from mf_reflect.formation import observable_layers, polarised_images
from mf_reflect.orientation import orient
from mf_reflect.synthesis import linearise

from mfcore.kit import psnr, textured_patch

ANGLES = np.radians([0.0, 45.0, 90.0])


def pane_geometry(shape, tilt, azimuth, fov):
    """(θ, φ⊥) per pixel, and κ = cot θ / f (f in frame widths), of a flat pane seen through a pinhole lens."""
    h, w = shape
    focal = w / 2 / np.tan(fov / 2)
    v, u = np.mgrid[0:h, 0:w].astype(np.float64)
    rays = np.stack([u - (w - 1) / 2, v - (h - 1) / 2, np.full(u.shape, focal)], axis=-1)
    rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
    normal = np.array([np.sin(tilt) * np.cos(azimuth), np.sin(tilt) * np.sin(azimuth), np.cos(tilt)])
    s = np.cross(rays, normal)
    theta = np.arccos(np.abs(rays @ normal))
    return theta, np.arctan2(s[..., 1], s[..., 0]), 1 / np.tan(tilt) / (focal / w)


def pane_scene(seed, shape=(96, 128)):
    rng = np.random.default_rng(seed)
    tilt, azimuth = np.radians(rng.uniform(35, 55)), rng.uniform(0, 2 * np.pi)
    theta, phi_perp, slope = pane_geometry(shape, tilt, azimuth, np.radians(rng.uniform(40, 60)))
    reflected, transmitted = (linearise(textured_patch(rng, max(shape), "held-out")[:shape[0], :shape[1]], 2.2)
                              for _ in range(2))
    images = polarised_images(reflected, transmitted, theta, phi_perp, tuple(ANGLES))
    return images, (reflected, transmitted, theta), (azimuth, slope)


@pytest.mark.parametrize("seed", range(4))
def test_the_view_is_read_from_the_angles_of_polarisation(seed):
    images, _, (azimuth, slope) = pane_scene(seed)
    view = fit_view(images, ANGLES)
    assert view.agreement > 0.99 and view.mirror == 1
    assert view.slope == pytest.approx(slope, abs=0.03)
    assert abs(np.angle(np.exp(1j * (view.azimuth - azimuth)))) < np.radians(2)


def test_a_view_read_in_the_reflections_frame_is_the_same_view():
    images, _, _ = pane_scene(7)
    turned, psi = orient(images, ANGLES)
    assert abs(psi) > np.radians(3)  # the frame really turns
    direct, read = fit_view(images, ANGLES), fit_view(turned, ANGLES, psi)
    assert read.slope == pytest.approx(direct.slope, abs=0.02)
    assert abs(np.angle(np.exp(1j * (read.azimuth - direct.azimuth)))) < np.radians(1)


@pytest.mark.parametrize("seed", range(3))
def test_the_aoi_field_separates_what_one_aoi_cannot(seed):
    images, (reflected, transmitted, theta), _ = pane_scene(seed)
    want_r, want_t = observable_layers(reflected, transmitted, theta)
    turned, psi = orient(images, ANGLES)
    r, t, aoi = pane_separation(turned, ANGLES, psi)
    uniform_r, uniform_t, _ = schechner_separation(turned, ANGLES)
    assert np.degrees(np.abs(aoi - np.maximum(theta, MIN_AOI))).max() < 5  # θ on the axis is Schechner's MI guess
    assert psnr(want_t, np.clip(t, 0, 1)) > psnr(want_t, np.clip(uniform_t, 0, 1)) + 3
    assert psnr(want_r, np.clip(r, 0, 1)) > psnr(want_r, np.clip(uniform_r, 0, 1)) + 3


def test_without_the_signature_of_one_pane_it_is_schechners_uniform_search():
    """Angles of polarisation at random (no single flat pane): the view falls back to one AOI for the frame."""
    rng = np.random.default_rng(11)
    reflected, transmitted = (linearise(textured_patch(rng, 96, "held-out"), 2.2) for _ in range(2))
    images = polarised_images(reflected, transmitted, np.radians(50.0), rng.uniform(-0.7, 0.7, (96, 96)),
                              tuple(ANGLES))
    assert fit_view(images, ANGLES).slope == 0.0
    r, t, aoi = pane_separation(images, ANGLES)
    _, uniform_t, theta = schechner_separation(images, ANGLES)
    assert np.ptp(aoi) == 0 and abs(np.degrees(aoi.flat[0] - theta)) <= 1.0
    assert psnr(uniform_t, t) > 40


def test_angles_below_the_true_one_drive_the_transmission_negative():
    """Too small an AOI subtracts more reflection than there is; the true one and larger ones do not."""
    rng = np.random.default_rng(0)
    reflected = linearise(textured_patch(rng, 96, "held-out"), 2.2)
    transmitted = 0.2 * linearise(textured_patch(rng, 96, "held-out"), 2.2)  # the reflection outshines the scene
    images = polarised_images(reflected, transmitted, np.radians(45.0), np.zeros((96, 96)), tuple(ANGLES))
    i_perp, i_par, _ = canonical_projection(images, ANGLES)
    grey_perp, grey_par = i_perp.mean(axis=-1).ravel(), i_par.mean(axis=-1).ravel()
    _, layer_t = separate_at(grey_perp, grey_par, np.radians([30.0, 40.0, 45.0, 55.0])[:, None])
    share = negative_share(layer_t, grey_perp.mean() + grey_par.mean())
    assert share[0] > share[1] > 0.01 and share[2] == share[3] == 0


def test_a_field_that_drives_the_transmission_negative_gives_way_to_the_uniform_search(monkeypatch):
    """A curved window whose angles of polarisation look like a flat pane's: along the fitted field the
    transmission goes negative, so the uniform AOI is kept and the result is Schechner's, not 9 dB below it."""
    from mf_reflect.baselines import pane as pane_module
    from mf_reflect.independent import expose, scene_pair, si_psnr

    pair = scene_pair(np.random.default_rng(10), 96, 128, glass="curved")
    capture = expose(pair, 0.9, np.random.default_rng(10))
    turned, psi = orient(capture["observations"], capture["angles"])
    assert fit_view(turned, capture["angles"], psi).slope > 0  # the field fits the angles of polarisation
    truth = capture["transmission"]
    schechner = si_psnr(truth, np.clip(schechner_separation(turned, capture["angles"])[1], 0, 1))
    kept = si_psnr(truth, np.clip(pane_separation(turned, capture["angles"], psi)[1], 0, 1))
    monkeypatch.setattr(pane_module, "MISFIT", np.inf)
    monkeypatch.setattr(pane_module, "GAINS", (1.0,))
    along_field = si_psnr(truth, np.clip(pane_separation(turned, capture["angles"], psi)[1], 0, 1))
    assert kept > schechner - 0.2 and along_field < schechner - 5


def test_a_curved_window_takes_the_strength_of_the_field_that_separates_best(monkeypatch):
    """A glass cylinder whose angles of incidence vary about half as much as the fitted flat field says: the
    half-strength field wins on the exclusion score, > 2 dB above both the full field and Schechner's."""
    from mf_reflect.baselines import pane as pane_module
    from mf_reflect.independent import expose, scene_pair, si_psnr

    capture = expose(scene_pair(np.random.default_rng(0), 96, 128, glass="curved"), 0.5, np.random.default_rng(0))
    turned, psi = orient(capture["observations"], capture["angles"])
    truth, angles = capture["transmission"], capture["angles"]

    def score() -> float:
        return si_psnr(truth, np.clip(pane_separation(turned, angles, psi)[1], 0, 1))

    chosen = score()
    monkeypatch.setattr(pane_module, "GAINS", (1.0,))
    full_field = score()
    schechner = si_psnr(truth, np.clip(schechner_separation(turned, angles)[1], 0, 1))
    assert chosen > full_field + 2 and chosen > schechner + 2


def test_the_field_strength_scales_the_variation_about_the_axis():
    view = PaneView(np.radians(30.0), 0.8, 1, 1.0)
    theta = np.radians(45.0)
    full, half, none = (view.aoi((24, 32), theta, g) for g in (1.0, 0.5, 0.0))
    assert np.ptp(full) > np.radians(10) and np.all(none == theta)
    inside = (full > MIN_AOI) & (full < np.radians(85.0))  # the full field is clamped, the half one is not
    assert inside.mean() > 0.9
    np.testing.assert_allclose(half[inside], theta + 0.5 * (full[inside] - theta), atol=1e-12)


def test_exclusion_scores_shared_edges_above_independent_layers():
    rng = np.random.default_rng(3)
    r, t = (linearise(textured_patch(rng, 96, "held-out"), 2.2).mean(axis=-1) for _ in range(2))
    apart = exclusion(r, t)
    assert 0.8 < apart < 1.3
    left = [exclusion(r, t + share * r) for share in (0.5, 2.0)]  # the reflection's edges left in T
    assert apart + 0.05 < left[0] < left[1] - 0.1
    assert exclusion(r, r) > left[1] + 0.1  # E|∇r|² / (E|∇r|)²: above 1 unless the edges are uniform
    assert exclusion(r, np.full_like(r, 0.3)) == 0.0  # a flat layer shares no edge
