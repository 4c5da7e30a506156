"""Random camera-shake blur kernels from random-walk trajectories.

A hand-held camera drifts with some inertia during the exposure: the
trajectory is a 2-D random walk whose velocity changes smoothly (momentum),
rescaled to a random extent and rasterised with bilinear weights. The
trajectory is centred on its mean, so blurring with the kernel does not shift
the image (the kernel's centroid is its centre pixel). The Gaussian-process
kernels of the thesis (section 6.3) are a separate generator.
"""

from __future__ import annotations

import cv2
import numpy as np


def random_walk_kernel(rng: np.random.Generator, size: int = 17, steps: int = 128, momentum: float = 0.9,
                       min_extent: float = 0.25) -> np.ndarray:
    """A (size, size) float32 kernel, non-negative, summing to one, centroid at the centre."""
    if size < 3 or size % 2 == 0:
        raise ValueError(f"kernel size must be odd and >= 3, got {size}")
    velocity = rng.normal(size=2)
    points = np.zeros((steps, 2))
    for t in range(1, steps):
        velocity = momentum * velocity + (1.0 - momentum) * rng.normal(size=2) * 3.0
        points[t] = points[t - 1] + velocity
    points -= points.mean(axis=0)
    radius = np.abs(points).max()
    extent = rng.uniform(min_extent, 1.0) * (size // 2 - 1)
    if radius > 0:
        points *= extent / radius
    coords = points + size // 2
    base = np.floor(coords).astype(int)
    frac = coords - base
    kernel = np.zeros((size, size), dtype=np.float64)
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
        wy = frac[:, 0] if dy else 1.0 - frac[:, 0]
        wx = frac[:, 1] if dx else 1.0 - frac[:, 1]
        np.add.at(kernel, (base[:, 0] + dy, base[:, 1] + dx), wy * wx)
    return (kernel / kernel.sum()).astype(np.float32)


def blur(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve an (H, W) or (H, W, C) image with ``kernel`` (reflected borders)."""
    flipped = np.ascontiguousarray(kernel[::-1, ::-1])
    out = cv2.filter2D(image, -1, flipped, borderType=cv2.BORDER_REFLECT)
    return out.reshape(image.shape)
