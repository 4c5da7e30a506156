"""Which polariser direction passes the reflection: the frame in which every method works.

Eq. 5.3 cannot tell φ⊥ (the reflection's s-polarisation) from φ⊥ + 90°; the
thesis settles it by assuming φ⊥ within ±45° of the polariser's 0°. Real
cameras do not oblige: a window seen from the side polarises its reflection
vertically (φ⊥ = 90° for a polarisation camera, whose 0° is the sensor's
rows), and the assumption then swaps the two layers. Instead mf estimates the
direction from the captures themselves. Where the reflection dominates a
pixel, the light is polarised along s with a high degree (up to
(R'⊥ − R'∥)/(R'⊥ + R'∥), 0.5 to 1 for common angles); where the transmission
dominates it is polarised along p with a low one (under about 0.2). So the
most strongly polarised pixels (the top tenth by degree of polarisation) vote
with their angle of polarisation, as a weighted circular mean of 2·AoP, and
the images are re-rendered by eq. 5.3 at the same angles measured from that
direction. Every method then sees φ⊥ near 0, within the ±45° fold, also where
the plane of incidence turns across a perspective view or a curved pane.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .canonical import grey_stokes, lit, render_at

#: Share of the (not dark) pixels, the most strongly polarised, that vote for the direction.
VOTERS = 0.1


def reflection_direction(images: np.ndarray, angles: Sequence[float]) -> float:
    """ψ (radians, in (−π/2, π/2]): the polariser angle that passes most of the reflection."""
    a, b, c = grey_stokes(images, angles)
    amplitude = np.hypot(b, c)
    bright = lit(a)
    if not bright.any():
        return 0.0
    degree = amplitude[bright] / a[bright]
    cut = np.quantile(degree, 1 - VOTERS)
    vote = degree >= cut
    phase = np.arctan2(c[bright][vote], b[bright][vote])  # 2·AoP
    weights = degree[vote]
    total = complex(np.sum(weights * np.exp(1j * phase)))
    return 0.5 * float(np.angle(total)) if abs(total) > 0 else 0.0


def orient(images: np.ndarray, angles: Sequence[float]) -> tuple[np.ndarray, float]:
    """The images re-rendered at ψ + ``angles`` (so that, read at ``angles``, φ⊥ is near 0), and ψ."""
    psi = reflection_direction(images, angles)
    return render_at(images, angles, np.asarray(angles, dtype=np.float64) + psi), psi
