"""The camera model of training bursts (``--camera``): exposure, clipping, noise, misregistration, 8 bits, JPEG."""

import cv2
import numpy as np
import pytest
from mf_deblur.synthesis import capture
from mf_deblur.synthesis.burst import captured_burst, static_sample

from mfcore.kit import crop, photo


def test_misregistration_is_a_small_rigid_motion():
    image = crop(photo("chelsea"), 96)
    rng = np.random.default_rng(0)
    for _ in range(5):
        moved = capture.misregister(image, rng)
        (dx, dy), _ = cv2.phaseCorrelate(image.mean(axis=-1).astype(np.float64), moved.mean(axis=-1).astype(np.float64))
        assert 0 < np.hypot(dx, dy) <= np.hypot(capture.MAX_SHIFT, capture.MAX_SHIFT) + 0.5
        assert moved.shape == image.shape


def test_exposed_frames_are_8_bit_clipped_noisy_versions_with_their_gain():
    rng = np.random.default_rng(1)
    clean = np.broadcast_to(np.linspace(0.0, 1.0, 64, dtype=np.float32)[None, None, :, None], (4, 64, 64, 3)).copy()
    gains = set()
    for _ in range(30):
        out, gain = capture.expose(clean, rng, 0.01)
        assert out.shape == clean.shape and out.dtype == np.float32
        assert 0.0 <= out.min() and out.max() <= 1.0
        np.testing.assert_allclose(out * 255, np.round(out * 255), atol=1e-3)  # 8 bits, JPEG or not
        gains.add(gain > 1.0)
        if gain > 1.0:  # the bright end of the ramp clips
            assert (out[..., -4:, :] >= 254 / 255).mean() > 0.5
        residual = out.mean(axis=0) - np.clip(clean[0] * gain, 0, 1)
        assert abs(float(residual.mean())) < 0.05  # noise and per-frame gains average out
    assert gains == {True, False}


def test_jpeg_round_trip_keeps_the_image_close():
    image = crop(photo("astronaut"), 64)
    assert np.abs(capture.jpeg(image, 95) - image).mean() < 0.02
    assert np.abs(capture.jpeg(image, 70) - image).mean() > np.abs(capture.jpeg(image, 95) - image).mean()


def test_captured_bursts_and_their_targets():
    sharp = crop(photo("coffee"), 64)
    rng = np.random.default_rng(2)
    for _ in range(5):
        burst, target = captured_burst(sharp, rng, 6, (11, 15), 0.01)
        assert burst.shape == (6, 64, 64, 3) and target.shape == sharp.shape
        gain = float(np.median(target[target < 0.95] / np.maximum(sharp[target < 0.95], 1e-3)))
        assert target.max() <= 1.0 and gain == pytest.approx(round(gain, 2), abs=0.05)
    sample = static_sample(np.random.default_rng(3), size=48, frames=4, camera=True)
    assert sample["blurred"].shape == (4, 48, 48, 3) and sample["sharp"].shape == (48, 48, 3)
