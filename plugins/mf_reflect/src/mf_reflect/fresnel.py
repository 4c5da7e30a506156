"""Fresnel reflectance of a glass pane and the polariser mixing coefficient (thesis 5.2.1).

Light meeting glass at an angle of incidence θ splits into a reflected and a
transmitted part, differently for the component polarised perpendicular (s, ⊥)
and parallel (p, ∥) to the plane of incidence. The amplitude form of the Fresnel
equations is used because it is exact at normal incidence too, where the
textbook forms sin²(θ−θt)/sin²(θ+θt) and tan²(θ−θt)/tan²(θ+θt) are 0/0.

A pane has two surfaces; summing the light bounced back and forth between them
(no absorption) gives R' = 2R / (1 + R) and T' = 1 − R'. Seen through a linear
polariser at angle φ, with φ⊥ the direction perpendicular to the plane of
incidence, the fraction of the reflected light that passes is
α = R'⊥ cos²(φ − φ⊥) + R'∥ sin²(φ − φ⊥), and of the transmitted light 1 − α
(eq. 5.2). All angles are in radians.
"""

from __future__ import annotations

import numpy as np

#: Refractive index of window glass, the thesis's default.
GLASS = 1.5


def brewster_angle(n: float = GLASS) -> float:
    """The angle of incidence at which reflected light is fully s-polarised (R∥ = 0): atan(n)."""
    return float(np.arctan(n))


def refraction_angle(theta: np.ndarray, n: float = GLASS) -> np.ndarray:
    """Snell's law from air into a medium of index ``n``: θt = asin(sin θ / n)."""
    return np.arcsin(np.sin(theta) / n)


def reflectance(theta: np.ndarray, n: float = GLASS) -> tuple[np.ndarray, np.ndarray]:
    """Power reflectance (R⊥, R∥) of one air-glass surface at angle of incidence ``theta``."""
    cos_i = np.cos(theta)
    cos_t = np.cos(refraction_angle(theta, n))
    r_s = (cos_i - n * cos_t) / (cos_i + n * cos_t)
    r_p = (n * cos_i - cos_t) / (n * cos_i + cos_t)
    return r_s**2, r_p**2


def pane_reflectance(theta: np.ndarray, n: float = GLASS) -> tuple[np.ndarray, np.ndarray]:
    """Reflectance (R'⊥, R'∥) of a pane (two surfaces, multiple bounces, no absorption): 2R / (1 + R)."""
    r_s, r_p = reflectance(theta, n)
    return 2 * r_s / (1 + r_s), 2 * r_p / (1 + r_p)


def mixing(theta: np.ndarray, phi_perp: np.ndarray, phi: float | np.ndarray, n: float = GLASS) -> np.ndarray:
    """α(θ, φ⊥, φ): the fraction of reflected light a polariser at ``phi`` lets through (eq. 5.2)."""
    r_s, r_p = pane_reflectance(theta, n)
    c2 = np.cos(phi - phi_perp) ** 2
    return r_s * c2 + r_p * (1 - c2)
