"""Farid & Adelson ICA and Schechner et al.'s AOI search, where their assumptions hold."""

import numpy as np
import pytest
from mf_reflect.baselines import farid_separation, schechner_separation
from mf_reflect.baselines.schechner import mutual_information, separate_at
from mf_reflect.canonical import canonical_projection
from mf_reflect.formation import observable_layers, polarised_images
from mf_reflect.synthesis import reflection_sample

from mfcore.kit import psnr

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
    """Real photographs through a flat pane, no motion, no noise: the AOI search finds θ (figure 5.12, left)."""
    s = reflection_sample(np.random.default_rng(seed), size=128, lcg=False, nrd=0.0, edges=0.0, noise=0.0)
    r, t, theta = schechner_separation(s["observations"], s["angles"])
    assert abs(np.degrees(theta - s["theta"][0, 0])) < 1.0
    assert psnr(s["transmission"], np.clip(t, 0, 1)) > 35 and psnr(s["reflection"], np.clip(r, 0, 1)) > 35


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
