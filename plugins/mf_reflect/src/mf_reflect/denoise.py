"""The noise a polarisation separation amplifies, measured on the captures and filtered out where it dominates.

Inverting eq. 5.2 divides by R'⊥ − R'∥, which is small wherever the pane
polarises little (low angles of incidence): there the separated layers carry
the sensor noise several times over, and on a dim capture a separation can
score below the best single input image although its angle is right. Doing
nothing is not the answer either, since the input still holds the reflection.
The noise is measured on the captures themselves, with no knowledge of the
sensor: Donoho's median absolute deviation of the finest diagonal Haar
detail, per brightness band, with a line a + b·brightness fitted through the
bands (shot noise grows with the signal, read noise does not). A locally
adaptive Wiener filter (Lee, 1980) then keeps a pixel's deviation from its
neighbourhood in proportion to how much of the local variance is signal: an
edge of the reflection is kept, a flat patch of amplified noise is smoothed.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Side of the square window of the local statistics (pixels).
WINDOW = 7
#: Brightness bands of the noise fit, and the fewest detail coefficients a band needs to count.
BANDS, BAND_MIN = 8, 50
#: The MAD of a Gaussian's samples, in standard deviations.
MAD_SIGMA = 0.6745


def _box(image: np.ndarray) -> np.ndarray:
    return cv2.blur(image, (WINDOW, WINDOW), borderType=cv2.BORDER_REFLECT)


def noise_variance(image: np.ndarray, brightness: np.ndarray) -> np.ndarray:
    """Per-pixel noise variance of ``image`` (H, W, C), modelled as a + b·``brightness`` (same shape) per channel.

    Where a channel has too few pixels to fit (under two bands) or its fit has
    a negative term, that term is zero: the model never claims negative noise.
    """
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    if h == 0 or w == 0:
        return np.zeros(image.shape)
    z, light = image[:h, :w].astype(np.float64), brightness[:h, :w].astype(np.float64)
    detail = (z[0::2, 0::2] - z[0::2, 1::2] - z[1::2, 0::2] + z[1::2, 1::2]) / 2  # noise σ, no smooth signal
    level = (light[0::2, 0::2] + light[0::2, 1::2] + light[1::2, 0::2] + light[1::2, 1::2]) / 4
    variance = np.empty(image.shape)
    for c in range(image.shape[-1]):
        d, m = detail[..., c].ravel(), level[..., c].ravel()
        band = np.clip(np.searchsorted(np.quantile(m, np.linspace(0, 1, BANDS + 1)), m, side="right") - 1, 0,
                       BANDS - 1)
        points = [(m[band == k].mean(), (np.median(np.abs(d[band == k])) / MAD_SIGMA) ** 2)
                  for k in range(BANDS) if (band == k).sum() >= BAND_MIN]
        if len(points) < 2:
            coef = np.array([(np.median(np.abs(d)) / MAD_SIGMA) ** 2, 0.0])
        else:
            x, y = np.array(points).T
            coef = np.linalg.lstsq(np.stack([np.ones_like(x), x], axis=1), y, rcond=None)[0]
        a, b = np.maximum(coef, 0.0)
        variance[..., c] = a + b * brightness[..., c]
    return variance


def wiener(image: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Lee's locally adaptive Wiener filter of ``image`` (H, W, C) with per-pixel noise variance ``noise``."""
    out = np.empty(image.shape)
    for c in range(image.shape[-1]):
        x = np.ascontiguousarray(image[..., c], dtype=np.float64)
        mean = _box(x)
        variance = np.maximum(_box(x * x) - mean * mean, 0.0)
        signal = np.maximum(variance - _box(np.ascontiguousarray(noise[..., c], dtype=np.float64)), 0.0)
        out[..., c] = mean + signal / np.maximum(variance, 1e-30) * (x - mean)
    return out
