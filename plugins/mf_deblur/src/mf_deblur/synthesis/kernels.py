"""Camera-shake blur kernels drawn from a Gaussian process (thesis 6.2.1, after Schuler et al. 2015).

During an exposure a hand-held camera drifts smoothly. The kernel is the path
of one scene point on the sensor, weighted by how long it dwelt there:

* the x and y coordinates of the path over exposure time t ∈ [0, 1] are two
  independent draws from a zero-mean GP with a Matérn-3/2 covariance (paths
  that are continuous but not overly smooth, as real shake is);
* a third GP draw, exponentiated, gives the intensity along the path (the
  camera slows down and speeds up): the "3D Gaussian process" of figure 6.3;
* the path is scaled to a random extent inside the kernel, rasterised with
  bilinear weights, lightly smoothed (σ = 0.5 px, sensor and lens blur) and
  shifted by a sub-pixel amount so its energy centroid is the centre pixel.
  Blurring with it therefore does not move the image.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

#: Kernel sizes the thesis trains with (6.2.1: 7 and 17; 6.3.3: 7, 11, 15).
SIZES = (7, 11, 15, 17)


@functools.cache
def _matern_cholesky(samples: int, length_scale: float) -> np.ndarray:
    """Lower Cholesky factor of the Matérn-3/2 covariance on ``samples`` times in [0, 1]."""
    t = np.linspace(0.0, 1.0, samples)
    r = np.sqrt(3.0) * np.abs(t[:, None] - t[None, :]) / length_scale
    cov = (1.0 + r) * np.exp(-r)
    return np.linalg.cholesky(cov + 1e-9 * np.eye(samples))


def gp_kernel(rng: np.random.Generator, size: int = 17, samples: int = 64, length_scale: float = 0.3,
              intensity_std: float = 0.5, min_extent: float = 0.4, smoothing: float = 0.5) -> np.ndarray:
    """A (size, size) float32 kernel: non-negative, unit sum, energy centroid at the centre pixel."""
    if size < 3 or size % 2 == 0:
        raise ValueError(f"kernel size must be odd and >= 3, got {size}")
    chol = _matern_cholesky(samples, length_scale)
    x, y, g = (chol @ rng.standard_normal((samples, 3))).T
    path = np.stack([y, x], axis=1)
    weights = np.exp(intensity_std * g)
    weights /= weights.sum()
    path -= weights @ path  # energy centroid at the origin
    radius = np.abs(path).max()
    half = size // 2 - 1.0  # leave a pixel of margin for the bilinear footprint and smoothing
    if radius > 0:
        path *= rng.uniform(min_extent, 1.0) * half / radius
    coords = path + size // 2
    base = np.floor(coords).astype(int)
    frac = coords - base
    kernel = np.zeros((size, size), dtype=np.float64)
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
        wy = frac[:, 0] if dy else 1.0 - frac[:, 0]
        wx = frac[:, 1] if dx else 1.0 - frac[:, 1]
        np.add.at(kernel, (base[:, 0] + dy, base[:, 1] + dx), weights * wy * wx)
    if smoothing > 0:
        kernel = cv2.GaussianBlur(kernel, (0, 0), smoothing, borderType=cv2.BORDER_CONSTANT)
    return _centre(kernel / kernel.sum()).astype(np.float32)


def _centre(kernel: np.ndarray) -> np.ndarray:
    """Shift by the sub-pixel offset of the energy centroid (bilinear), so it lands on the centre."""
    size = kernel.shape[0]
    ys, xs = np.mgrid[:size, :size]
    cy, cx = (kernel * ys).sum(), (kernel * xs).sum()
    shift = np.float64([[1, 0, size // 2 - cx], [0, 1, size // 2 - cy]])
    moved = cv2.warpAffine(kernel, shift, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return moved / moved.sum()


def kernel_sheet(kernels: list[np.ndarray], columns: int = 8, cell: int = 48) -> np.ndarray:
    """Kernels scaled to their maxima and tiled into one grey image (figure 6.3), float in [0, 1]."""
    rows = -(-len(kernels) // columns)
    sheet = np.zeros((rows * (cell + 2) + 2, columns * (cell + 2) + 2), dtype=np.float32)
    for i, k in enumerate(kernels):
        r, c = divmod(i, columns)
        tile = cv2.resize(k / k.max(), (cell, cell), interpolation=cv2.INTER_NEAREST)
        sheet[2 + r * (cell + 2): 2 + r * (cell + 2) + cell, 2 + c * (cell + 2): 2 + c * (cell + 2) + cell] = tile
    return sheet


def blur(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve an (H, W) or (H, W, C) image with ``kernel`` (reflected borders)."""
    flipped = np.ascontiguousarray(kernel[::-1, ::-1])
    out = cv2.filter2D(image, -1, flipped, borderType=cv2.BORDER_REFLECT)
    return out.reshape(image.shape)
