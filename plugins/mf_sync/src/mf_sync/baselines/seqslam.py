"""Patch-normalised raw pixels: the SeqSLAM-style frame descriptor (Milford & Wyeth), a baseline.

Each frame is reduced to a small grey thumbnail and every pixel is normalised
by the mean and spread of its surrounding patch, which removes most global
illumination change and little else. Thumbnails are flattened and scaled to unit
length, so the same tour matcher that reads learned descriptors reads these.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Thumbnail size (width, height) and normalisation patch side, pixels.
THUMBNAIL = (32, 24)
PATCH = 8


def patch_normalise(grey: np.ndarray, patch: int = PATCH) -> np.ndarray:
    """Every pixel minus its patch mean over its patch standard deviation (box windows)."""
    mean = cv2.blur(grey, (patch, patch), borderType=cv2.BORDER_REFLECT)
    square = cv2.blur(grey * grey, (patch, patch), borderType=cv2.BORDER_REFLECT)
    std = np.sqrt(np.maximum(square - mean * mean, 0))
    return (grey - mean) / (std + 1e-3)


def seqslam_descriptors(frames: np.ndarray) -> np.ndarray:
    """Unit-length patch-normalised thumbnails (N, 32*24) of RGB frames (N, H, W, 3)."""
    out = np.empty((len(frames), THUMBNAIL[0] * THUMBNAIL[1]), np.float32)
    for i, frame in enumerate(frames):
        grey = cv2.resize(frame.mean(axis=2).astype(np.float32), THUMBNAIL, interpolation=cv2.INTER_AREA)
        vec = patch_normalise(grey).ravel()
        out[i] = vec / max(float(np.linalg.norm(vec)), 1e-6)
    return out
