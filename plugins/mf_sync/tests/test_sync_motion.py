"""Motion from pixels alone: a still view with noise and a wiper is still, a driving view moves."""

import cv2
import numpy as np
from mf_sync.motion import moving, travel


def _video(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """120 frames panning over a texture, 90 standing still (noise, a sweeping wiper), 120 panning again."""
    texture = cv2.GaussianBlur(rng.random((64, 2000)).astype(np.float32), (0, 0), 2.0)
    texture = (texture - texture.min()) / np.ptp(texture)
    offsets = np.r_[np.arange(0, 480, 4), np.full(90, 480), np.arange(480, 960, 4)]
    frames = []
    for i, x in enumerate(offsets):
        frame = np.repeat(texture[:, x:x + 96, None], 3, axis=2) + rng.normal(0, 0.03, (64, 96, 3))
        angle = np.pi * abs(((i / 50) % 1.0) * 2 - 1)
        cv2.line(frame, (48, 68), (int(48 + 70 * np.cos(angle)), int(68 - 70 * np.sin(angle))), (0.05,) * 3, 3)
        frames.append(np.clip(frame, 0, 1))
    truly = np.r_[True, offsets[1:] != offsets[:-1]]
    return np.round(np.stack(frames) * 255).astype(np.uint8), truly


def test_a_still_view_with_a_wiper_is_still_and_a_pan_moves():
    frames, truly = _video(np.random.default_rng(0))
    found = moving(frames)
    assert found.shape == truly.shape
    settled = np.r_[np.zeros(15, bool), truly[15:] == truly[:-15]]  # away from the switches (the lag)
    assert (found[settled] == truly[settled]).mean() > 0.95
    steps = travel(frames)
    assert (np.diff(steps) >= 0).all() and steps[-1] == found.sum()
    assert steps[190] - steps[140] <= 5  # the stop adds (almost) no travel
