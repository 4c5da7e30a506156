"""Cost-matrix pictures like the thesis's figure 4.5: dark = similar, the tour in red, ground truth in green."""

from __future__ import annotations

import cv2
import numpy as np

from .tour import Tour


def cost_image(costs: np.ndarray, tour: Tour | None = None, truth: np.ndarray | None = None,
               scale: int = 2) -> np.ndarray:
    """RGB float image of a cost matrix (rows: video A) with the tour and (row, col) ground-truth pairs marked."""
    lo, hi = np.percentile(costs, [1, 99])
    grey = np.clip((costs - lo) / max(hi - lo, 1e-9), 0, 1).astype(np.float32)
    image = np.repeat(grey[..., None], 3, axis=2)
    if truth is not None and len(truth):
        image[truth[:, 0], truth[:, 1]] = (0.1, 0.8, 0.1)
    if tour is not None:
        image[tour.rows, tour.cols] = (0.95, 0.1, 0.1)
    return cv2.resize(image, (costs.shape[1] * scale, costs.shape[0] * scale), interpolation=cv2.INTER_NEAREST)
