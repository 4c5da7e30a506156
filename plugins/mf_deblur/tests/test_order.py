"""Bursts sorted sharpest first (lucky imaging): the order the RDN takes them in by default."""

import cv2
import numpy as np
from mf_deblur.order import sharpest_first

from mfcore.kit import crop, photo


def test_frames_come_sharpest_first_whatever_order_they_arrive_in():
    sharp = crop(photo("astronaut"), 96)
    rng = np.random.default_rng(3)
    sigmas = (0.0, 0.8, 1.5, 2.5, 4.0)  # increasing blur, one frame each
    frames = np.stack([sharp if s == 0 else cv2.GaussianBlur(sharp, (0, 0), s) for s in sigmas])
    frames = np.clip(frames + rng.normal(0, 0.005, frames.shape), 0, 1).astype(np.float32)  # the same noise level
    for _ in range(5):
        shuffled = rng.permutation(len(sigmas))
        got = sharpest_first(frames[shuffled])
        np.testing.assert_array_equal(got, frames)


def test_equally_sharp_frames_keep_their_order():
    frame = crop(photo("coffee"), 64)
    frames = np.stack([frame, frame[:, ::-1], frame[::-1]])  # mirror images: the same mean gradient
    np.testing.assert_array_equal(sharpest_first(frames), frames)
