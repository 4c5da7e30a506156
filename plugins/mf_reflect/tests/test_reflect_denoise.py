"""The noise filter of the pane separation: the noise model read from an image, Lee's filter, and the separation.

References: noise drawn from a known model a + b·brightness, piecewise-constant
images whose truth is known exactly, and captures rendered by eq. 5.2 with
Gaussian sensor noise added.
"""

import numpy as np
import pytest
from mf_reflect.baselines import pane_separation
from mf_reflect.denoise import noise_variance, wiener
from mf_reflect.formation import observable_layers, polarised_images
from mf_reflect.synthesis import linearise

from mfcore.kit import psnr, textured_patch

ANGLES = np.radians([0.0, 45.0, 90.0])


def test_the_noise_model_is_read_from_the_image():
    rng = np.random.default_rng(0)
    v, u = np.mgrid[0:256, 0:256] / 255.0
    light = (0.1 + 0.8 * u * (0.6 + 0.4 * np.sin(3 * v)))[..., None]  # smooth, spans dark to bright
    a, b = 1e-5, 4e-4
    noisy = light + rng.normal(size=light.shape) * np.sqrt(a + b * light)
    got = noise_variance(noisy, light)
    want = a + b * light
    assert np.abs(got / want - 1).max() < 0.2


def test_wiener_smooths_flat_noise_and_keeps_edges():
    rng = np.random.default_rng(1)
    truth = np.zeros((128, 128, 1))
    truth[:, 64:] = 1.0
    noise = np.full(truth.shape, 0.05 ** 2)
    noisy = truth + rng.normal(size=truth.shape) * 0.05
    out = wiener(noisy, noise)
    flat = (slice(None), np.r_[0:56, 72:128])
    assert np.sqrt(np.mean((out - truth)[flat] ** 2)) < 0.5 * 0.05  # flat parts: most of the noise gone
    edge = out[:, 62:66, 0].mean(axis=0)
    assert edge[:2] == pytest.approx([0, 0], abs=0.05) and edge[2:] == pytest.approx([1, 1], abs=0.05)


def test_without_noise_the_filter_changes_nothing():
    rng = np.random.default_rng(2)
    image = rng.uniform(size=(64, 64, 3))
    assert np.allclose(wiener(image, np.zeros_like(image)), image)


@pytest.mark.parametrize("seed", range(3))
def test_a_noisy_capture_at_a_low_angle_separates_better_filtered(seed):
    """At 25° of incidence R'⊥ − R'∥ is about 0.06: the plain solve multiplies the sensor noise by about 16."""
    rng = np.random.default_rng(seed)
    reflected, transmitted = (linearise(textured_patch(rng, 128, "held-out"), 2.2) for _ in range(2))
    theta = np.radians(25.0)
    images = polarised_images(reflected, transmitted, theta, np.zeros((128, 128)), tuple(ANGLES))
    images = images + rng.normal(size=images.shape) * 0.004 * np.sqrt(np.maximum(images, 0) / 0.5)
    want_r, want_t = observable_layers(reflected, transmitted, theta)
    r, t, _ = pane_separation(images, ANGLES)
    plain_r, plain_t, _ = pane_separation(images, ANGLES, denoise=False)
    assert psnr(want_t, np.clip(t, 0, 1)) > psnr(want_t, np.clip(plain_t, 0, 1)) + 1
    assert psnr(want_r, np.clip(r, 0, 1)) > psnr(want_r, np.clip(plain_r, 0, 1)) + 1
