"""The canonical projection (eq. 5.3): I⊥, I∥ and φ⊥ per pixel from three or more polariser angles.

Behind a polariser at angle φ every pixel follows
``I_φ = I⊥ cos²(φ − φ⊥) + I∥ sin²(φ − φ⊥) = A + B cos 2φ + C sin 2φ`` with
A = (I⊥ + I∥)/2 and (B, C) = (I⊥ − I∥)/2 · (cos 2φ⊥, sin 2φ⊥): linear in
(A, B, C). Three images at distinct angles (mod π) determine them exactly (for
φ0 + i·π/4 the solution is the closed form A = (I0 + I2)/2, B' = (I0 − I2)/2,
C' = A − I1 in the frame of φ0); more angles, such as the 0/45/90/135 of a
polarisation camera, are fitted by least squares. The matrix depends on the
angles only, so one 3×N pseudo-inverse serves every pixel.

The sinusoid alone cannot tell φ⊥ from φ⊥ + π/2 (swapping I⊥ and I∥), so, as
in the thesis, φ⊥ is taken in [−π/4, π/4) of the polariser's frame; I⊥ − I∥
may then be negative (where the transmission is brighter than the reflection).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mfcore import InputError


def check_angles(angles: Sequence[float]) -> np.ndarray:
    """Angles (radians) as an array; one-line errors unless there are ≥ 3, distinct modulo π."""
    angles = np.asarray(angles, dtype=np.float64)
    if angles.ndim != 1 or len(angles) < 3:
        raise InputError(f"need images at three or more polariser angles, got {angles.size}")
    folded = np.round(np.degrees(np.mod(angles, np.pi)), 6) % 180.0
    if len(set(folded.tolist())) < len(angles):
        raise InputError(f"polariser angles {', '.join(f'{a:g}°' for a in np.degrees(angles))} are not distinct "
                         f"(modulo 180°)")
    return angles


def fit_matrix(angles: Sequence[float]) -> np.ndarray:
    """The (3, N) pseudo-inverse mapping N polarised intensities to (A, B, C)."""
    angles = check_angles(angles)
    design = np.stack([np.ones_like(angles), np.cos(2 * angles), np.sin(2 * angles)], axis=1)
    return np.linalg.pinv(design)


def grey_stokes(images: np.ndarray, angles: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(A, B, C) of images (N, H, W[, C]) averaged over colour, in float64.

    The polarisation-field estimators (the reflection's direction, the pane's
    view) read only the angle and degree of polarisation, which colour does not
    change.
    """
    grey = np.asarray(images, dtype=np.float64)
    grey = grey.mean(axis=-1) if grey.ndim == 4 else grey
    a, b, c = np.tensordot(fit_matrix(angles), grey, axes=1)
    return a, b, c


def lit(a: np.ndarray) -> np.ndarray:
    """Where the unpolarised part A is above 2 % of its bright end: darker pixels carry noise, not polarisation."""
    return a > 0.02 * max(float(np.quantile(a, 0.99)), 1e-12)


def canonical_projection(images: np.ndarray, angles: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(I⊥, I∥, φ⊥) from images (N, H, W[, C]) taken at ``angles`` (radians); φ⊥ in [−π/4, π/4)."""
    images = np.asarray(images)
    if images.ndim < 3 or len(images) != len(angles):
        raise InputError(f"need one image per polariser angle: {len(angles)} angles, images of shape {images.shape}")
    a, b, c = np.tensordot(fit_matrix(angles), images.astype(np.float64), axes=1)
    half = np.hypot(b, c)  # |I⊥ − I∥| / 2
    phi = 0.5 * np.arctan2(c, b)  # in (−π/2, π/2]
    fold = (phi >= np.pi / 4) | (phi < -np.pi / 4)
    phi = np.where(phi >= np.pi / 4, phi - np.pi / 2, np.where(phi < -np.pi / 4, phi + np.pi / 2, phi))
    half = np.where(fold, -half, half)
    dtype = images.dtype if images.dtype.kind == "f" else np.float32
    return (a + half).astype(dtype), (a - half).astype(dtype), phi.astype(dtype)


def render_at(images: np.ndarray, angles: Sequence[float], wanted: Sequence[float]) -> np.ndarray:
    """Polarisation images (N, H, W[, C]) at ``angles`` re-rendered at ``wanted`` (radians) by eq. 5.3."""
    if len(angles) == len(wanted) and np.allclose(np.mod(angles, np.pi), np.mod(wanted, np.pi), atol=1e-9):
        return images
    wanted = np.asarray(wanted, dtype=np.float64)
    design = np.stack([np.ones_like(wanted), np.cos(2 * wanted), np.sin(2 * wanted)], axis=1)  # (M, 3)
    rendered = np.tensordot(design @ fit_matrix(angles), images, axes=1)
    return rendered.astype(images.dtype if images.dtype.kind == "f" else np.float32)
