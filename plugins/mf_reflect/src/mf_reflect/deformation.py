"""Non-rigid deformation (NRD, thesis 5.2.3, figure 5.9): scene motion between sequential captures.

Polarisation images are usually taken one after another, and things move in
between (branches, people, water). A coarse grid of anchors over the patch is
perturbed by Gaussian offsets whose standard deviation σ is drawn per patch
from {0.1, 0.05, 0.025}, in units of the half patch side (coordinates span
[−1, 1], the spatial-transformer convention); the offsets are interpolated
smoothly (bicubic) to every pixel and the image is resampled (OpenCV remap,
reflecting at the borders).
"""

from __future__ import annotations

import cv2
import numpy as np

SIGMAS = (0.1, 0.05, 0.025)
GRID = 4  # anchors per side


def random_flow(rng: np.random.Generator, size: int, sigma: float, grid: int = GRID) -> np.ndarray:
    """A smooth (size, size, 2) displacement field in pixels with anchor offsets of std ``sigma`` (half sides)."""
    anchors = rng.normal(0.0, sigma * size / 2, (grid, grid, 2)).astype(np.float32)
    return cv2.resize(anchors, (size, size), interpolation=cv2.INTER_CUBIC)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``image`` resampled at x + flow (bilinear, borders reflected)."""
    h, w = image.shape[:2]
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    out = cv2.remap(image.astype(np.float32), xx + flow[..., 0], yy + flow[..., 1], cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REFLECT_101)
    return out.reshape(image.shape)
