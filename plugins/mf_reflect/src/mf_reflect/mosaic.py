"""Division-of-focal-plane polarisation cameras: the 2×2 polariser mosaic to full-resolution angle images.

Sensors such as Sony's IMX250MZR put a micro-polariser over every pixel in a
repeating 2×2 super-pixel; the raw frame therefore samples each of the four
angles on every other row and column. :func:`demosaic` interpolates each angle
bilinearly at every pixel (its samples sit at known half-pixel offsets), so the
outputs keep the sensor's resolution and the four images are registered to
one another; ``half=True`` keeps the plain decimation to half size instead.

The layout is checked before anything is separated. Behind any polariser the
intensities of orthogonal angles add up to the same total,
I0 + I90 = I45 + I135 (eq. 5.3: both are 2A), so of the three ways to pair the
four mosaic positions, the pairing that the pattern declares orthogonal must
balance at least as well as the other two. A pattern that pairs the wrong
positions (a camera of another maker, a frame cropped at an odd offset) is
then an error naming the pairing that does balance, rather than a silently
wrong separation. A scene without polarised light balances every pairing and
passes: nothing can be told from it, and nothing is lost.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from mfcore import InputError

SONY_PATTERN = (90.0, 45.0, 135.0, 0.0)
#: Positions of the 2×2 super-pixel, row-major, as (row, column) offsets.
OFFSETS = ((0, 0), (0, 1), (1, 0), (1, 1))
#: The declared pairing fails when its imbalance exceeds the best other pairing's by this factor.
PAIRING_MARGIN = 1.5


def _check_raw(raw: np.ndarray, pattern: Sequence[float]) -> np.ndarray:
    if len(pattern) != 4:
        raise InputError(f"a polariser mosaic pattern has 4 angles (row-major 2x2), got {len(pattern)}")
    folded = sorted(round(float(a) % 180.0, 6) for a in pattern)
    if len(set(folded)) != 4 or any(abs((b - a) - 45.0) > 1e-6 for a, b in zip(folded, folded[1:])):
        raise InputError(f"--pattern {','.join(f'{a:g}' for a in pattern)}: a polarisation mosaic has four "
                         "polarisers 45° apart (such as 90,45,135,0)")
    if raw.ndim == 3 and raw.shape[2] == 3 and np.array_equal(raw[..., 0], raw[..., 2]):
        raw = raw[..., :1]  # a grey mosaic stored as RGB
    if raw.ndim == 3 and raw.shape[2] != 1:
        raise InputError(f"a polariser mosaic is a one-channel raw frame, got {raw.shape[2]} channels (a colour "
                         "polarisation sensor needs its colour demosaicing first)")
    h, w = raw.shape[:2]
    if h % 2 or w % 2 or h < 4 or w < 4:
        raise InputError(f"a polariser mosaic has an even number of rows and columns, at least 4x4; this frame is "
                         f"{w}x{h}: crop it at an even offset")
    return raw.reshape(h, w, 1)


def _pairs(pattern: Sequence[float]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The three ways to split the four positions into two pairs; the pattern's orthogonal pairing first."""
    orthogonal = [(i, j) for i in range(4) for j in range(i + 1, 4)
                  if abs((float(pattern[i]) - float(pattern[j])) % 180.0 - 90.0) < 1e-6]
    first = (orthogonal[0], orthogonal[1])
    splits = [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2))]
    return [first] + [s for s in splits if set(s) != set(first)]


def check_pattern(raw: np.ndarray, pattern: Sequence[float] = SONY_PATTERN) -> dict[str, float]:
    """Imbalance |Iₐ + I_b − I_c − I_d| / mean of each pairing; an error when the pattern's pairing is not the best."""
    raw = _check_raw(raw, pattern)
    views = [raw[dy::2, dx::2].astype(np.float64) for dy, dx in OFFSETS]
    mean = max(float(np.mean(views)), 1e-12)
    imbalance = {}
    for (a, b), (c, d) in _pairs(pattern):
        name = f"{pattern[a]:g}+{pattern[b]:g} vs {pattern[c]:g}+{pattern[d]:g}"
        imbalance[name] = float(np.mean(np.abs(views[a] + views[b] - views[c] - views[d]))) / (2 * mean)
    declared, *others = imbalance
    best = min(others, key=imbalance.__getitem__)
    if imbalance[declared] > PAIRING_MARGIN * imbalance[best] + 1e-3:
        raise InputError(f"the mosaic does not match --pattern {','.join(f'{a:g}' for a in pattern)}: "
                         f"the positions it calls orthogonal ({declared}) do not balance "
                         f"({imbalance[declared]:.3f} of the mean) but {best} does ({imbalance[best]:.3f}); "
                         "give your camera's layout with --pattern")
    return imbalance


def demosaic(raw: np.ndarray, pattern: Sequence[float] = SONY_PATTERN,
             half: bool = False) -> tuple[np.ndarray, list[float]]:
    """Images (4, H, W, 1) sorted by angle, and their angles in degrees, from a raw mosaic frame (H, W[, 1]).

    Each angle is interpolated bilinearly at every pixel from its own samples;
    ``half`` returns the four decimated (H/2, W/2) images instead.
    """
    check_pattern(raw, pattern)
    raw = _check_raw(raw, pattern)[..., 0].astype(np.float32)
    h, w = raw.shape
    views = []
    for dy, dx in OFFSETS:
        sparse = np.ascontiguousarray(raw[dy::2, dx::2])
        if half:
            views.append(sparse)
            continue
        xx, yy = np.meshgrid((np.arange(w, dtype=np.float32) - dx) / 2, (np.arange(h, dtype=np.float32) - dy) / 2)
        views.append(cv2.remap(sparse, xx, yy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101))
    order = np.argsort(pattern, kind="stable")
    return np.stack([views[i] for i in order])[..., None], [float(pattern[i]) for i in order]
