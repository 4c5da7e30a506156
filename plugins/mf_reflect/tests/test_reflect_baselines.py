"""Farid & Adelson ICA and Schechner et al.'s AOI search, where their assumptions hold."""

import numpy as np
import pytest
from mf_reflect.baselines import farid_separation, schechner_separation
from mf_reflect.baselines.schechner import SEARCH, estimate_aoi, mutual_information, separate_at
from mf_reflect.canonical import canonical_projection
from mf_reflect.formation import observable_layers, polarised_images
from mf_reflect.synthesis import linearise

from mfcore.kit import psnr, textured_patch

ANGLES = np.radians([0.0, 45.0, 90.0])


def test_separation_at_the_true_aoi_inverts_eq_5_2():
    rng = np.random.default_rng(0)
    reflected, transmitted = rng.random((2, 10, 10, 3))
    theta = 0.9
    images = polarised_images(reflected, transmitted, theta, 0.2, tuple(ANGLES))
    i_perp, i_par, _ = canonical_projection(images, ANGLES)
    r, t = separate_at(i_perp, i_par, theta)
    want_r, want_t = observable_layers(reflected, transmitted, theta)
    np.testing.assert_allclose(r, want_r, atol=1e-12)
    np.testing.assert_allclose(t, want_t, atol=1e-12)


def test_mutual_information_is_zero_for_independent_and_entropy_for_equal_images():
    rng = np.random.default_rng(1)
    a, b = rng.random((2, 256, 256))
    assert mutual_information(a, b) < 0.05  # the plug-in estimate's bias is about (bins - 1)² / 2N = 0.03
    bins = 32
    hist, _ = np.histogram(a, bins=bins)
    p = hist[hist > 0] / hist.sum()
    assert mutual_information(a, a, bins) == pytest.approx(float(-(p * np.log(p)).sum()), rel=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_schechner_recovers_a_uniform_aoi(seed):
    """Real photographs through a flat pane seen from afar, no motion, no noise: the AOI search finds θ (fig. 5.12)."""
    rng = np.random.default_rng(seed)
    reflected, transmitted = (linearise(textured_patch(rng, 128, "held-out"), 2.2) for _ in range(2))
    theta = rng.uniform(np.radians(20), np.radians(75))
    images = polarised_images(reflected, transmitted, theta, rng.uniform(-0.7, 0.7), tuple(ANGLES))
    r, t, found = schechner_separation(images, ANGLES)
    assert abs(np.degrees(found - theta)) < 1.0
    want_r, want_t = observable_layers(reflected, transmitted, theta)
    assert psnr(want_t, np.clip(t, 0, 1)) > 35 and psnr(want_r, np.clip(r, 0, 1)) > 35


def test_the_vectorised_aoi_search_is_the_mutual_information_of_every_candidate():
    rng = np.random.default_rng(3)
    i_perp, i_par = rng.random((2, 40, 30, 1))
    i_par = 0.5 * i_par + 0.3 * i_perp
    best, curve = estimate_aoi(i_perp, i_par)
    want = [mutual_information(*separate_at(i_perp[..., 0], i_par[..., 0], t)) for t in SEARCH]
    np.testing.assert_allclose(curve, want, atol=1e-12)
    assert best == SEARCH[int(np.argmin(want))]


def test_farid_ica_unmixes_independent_sources():
    """Two independent sparse sources through a flat pane: ICA separates them and the physics orders them."""
    rng = np.random.default_rng(2)
    reflected = 3 * rng.laplace(0.0, 0.3, (96, 96, 3)).clip(0, None) + 0.05
    transmitted = rng.exponential(0.3, (96, 96, 3))
    images = polarised_images(reflected, transmitted, 0.8, -0.3, tuple(ANGLES))
    r, t = farid_separation(images, ANGLES)
    for got, want in zip((r, t), observable_layers(reflected, transmitted, 0.8)):  # right order, right scale
        assert np.sqrt(((got - want) ** 2).mean()) < 0.08 * want.std()
        assert abs(got.mean() / want.mean() - 1) < 0.06
