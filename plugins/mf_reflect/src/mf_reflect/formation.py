"""Image formation through a glass pane and a linear polariser (eq. 5.2) and its canonical layers.

``I_φ = α(θ, φ⊥, φ) · I_R / 2 + (1 − α) · I_T / 2`` per pixel, in linear
intensity, where I_R and I_T are the (unpolarised) reflected and transmitted
scene radiances at the pane, θ the angle of incidence and φ⊥ the direction
perpendicular to the plane of incidence. θ and φ⊥ may vary per pixel (curved
glass) or be scalars.

The *canonical* images are what a polariser at φ⊥ and at φ⊥ + π/2 would see:
I⊥ = R'⊥ I_R/2 + T'⊥ I_T/2 and I∥ = R'∥ I_R/2 + T'∥ I_T/2. The layers a method
can hope to recover are the observable reflection at φ⊥, R = R'⊥ I_R/2 (the
reflection's share of I⊥, where it is strongest) and the observable
transmission at φ∥, T = T'∥ I_T/2 (the transmission's share of I∥): the
network's outputs are blended with exactly these canonical images (eq. 5.4).
"""

from __future__ import annotations

import numpy as np

from .fresnel import GLASS, mixing, pane_reflectance


def _per_pixel(value: np.ndarray | float, image: np.ndarray) -> np.ndarray:
    """A scalar or (H, W) map broadcast against (H, W, C) images."""
    value = np.asarray(value, dtype=np.float64)
    return value[..., None] if value.ndim == 2 and image.ndim == 3 else value


def polarised_images(reflected: np.ndarray, transmitted: np.ndarray, theta: np.ndarray | float,
                     phi_perp: np.ndarray | float, angles: tuple[float, ...], n: float = GLASS) -> np.ndarray:
    """Images (N, H, W, C) seen through a polariser at each of ``angles`` (radians), eq. 5.2."""
    theta, phi_perp = _per_pixel(theta, reflected), _per_pixel(phi_perp, reflected)
    images = []
    for phi in angles:
        alpha = mixing(theta, phi_perp, phi, n)
        images.append(alpha * reflected / 2 + (1 - alpha) * transmitted / 2)
    return np.stack(images)


def canonical_images(reflected: np.ndarray, transmitted: np.ndarray, theta: np.ndarray | float,
                     n: float = GLASS) -> tuple[np.ndarray, np.ndarray]:
    """(I⊥, I∥): the images a polariser at φ⊥ and at φ⊥ + π/2 records."""
    theta = _per_pixel(theta, reflected)
    r_s, r_p = pane_reflectance(theta, n)
    return r_s * reflected / 2 + (1 - r_s) * transmitted / 2, r_p * reflected / 2 + (1 - r_p) * transmitted / 2


def observable_layers(reflected: np.ndarray, transmitted: np.ndarray, theta: np.ndarray | float,
                      n: float = GLASS) -> tuple[np.ndarray, np.ndarray]:
    """(R, T): the reflection's share of I⊥ and the transmission's share of I∥, the layers to recover."""
    theta = _per_pixel(theta, reflected)
    r_s, r_p = pane_reflectance(theta, n)
    return r_s * reflected / 2, (1 - r_p) * transmitted / 2
