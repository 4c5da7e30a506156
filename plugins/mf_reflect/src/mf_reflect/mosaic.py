"""Division-of-focal-plane polarisation cameras: split the 2×2 polariser mosaic into angle images.

Sensors such as Sony's IMX250MZR put a micro-polariser over every pixel in a
repeating 2×2 super-pixel; the raw frame therefore holds four half-resolution
images. The default layout is Sony's (row-major: 90°, 45° / 135°, 0°); cameras
that differ pass their own ``pattern``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mfcore import InputError

SONY_PATTERN = (90.0, 45.0, 135.0, 0.0)


def split_mosaic(raw: np.ndarray, pattern: Sequence[float] = SONY_PATTERN) -> tuple[np.ndarray, list[float]]:
    """Images (4, H/2, W/2[, C]) sorted by angle, and their angles in degrees, from a raw mosaic frame."""
    if len(pattern) != 4:
        raise InputError(f"a polariser mosaic pattern has 4 angles (row-major 2x2), got {len(pattern)}")
    if raw.ndim == 3 and raw.shape[2] == 3 and np.array_equal(raw[..., 0], raw[..., 2]):
        raw = raw[..., :1]  # a grey mosaic stored as RGB
    h, w = raw.shape[0] // 2 * 2, raw.shape[1] // 2 * 2
    if h < 2 or w < 2:
        raise InputError(f"a polariser mosaic needs at least 2x2 pixels, got {raw.shape[1]}x{raw.shape[0]}")
    views = [raw[dy:h:2, dx:w:2] for dy in (0, 1) for dx in (0, 1)]
    order = np.argsort(pattern, kind="stable")
    return np.stack([views[i] for i in order]), [float(pattern[i]) for i in order]
