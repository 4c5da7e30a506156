"""Angles of incidence over a glass pane: flat, flat in perspective, or locally curved (LCG, thesis 5.2.3).

A flat pane seen from far away has one angle of incidence (AOI) everywhere, the
assumption of earlier polarisation methods. Seen through a real lens it does
not: every pixel's line of sight meets the pane at its own angle, and the plane
of incidence (spanned by the line of sight and the pane's normal), hence the
direction φ⊥ a polariser must take to pass the reflection at its strongest,
turns across the frame (:func:`perspective_pane`). Real panes are curved (car windows)
or wavy (manufacturing), so the AOI varies across the image and the polariser's
effect with it. Local Curvature Generation models a cross-section of the glass
as a parabola y = c·x² (c = ±1, the convexity) seen from a camera at (xc, yc);
the segment x ∈ [xp, xp + ℓ] is stretched over the patch along a random image
direction. The AOI at a surface point P with normal n = (−2cx, 1) is the angle
between the line of sight P − C and n, in closed form
cos θ = |(P − C)·n| / (|P − C| |n|).

The thesis prints this closed form as eq. 5.6; that expression, as printed,
gives −90° for a camera straight above the vertex (where the AOI is 0), so
this module derives the AOI from the geometry above and tests it against
finite-difference normals.
"""

from __future__ import annotations

import numpy as np

#: AOIs beyond this are grazing views through the glass that real captures avoid.
MAX_AOI = np.radians(85.0)
#: Range of the uniform AOI of a flat pane (LCG switched off).
FLAT_AOI = (np.radians(5.0), np.radians(80.0))


def parabola_aoi(x: np.ndarray, camera: tuple[float, float], convexity: float) -> np.ndarray:
    """AOI (radians) at the points (x, c·x²) of the parabola seen from ``camera`` = (xc, yc)."""
    xc, yc = camera
    view_x, view_y = x - xc, convexity * x**2 - yc
    normal_x, normal_y = -2 * convexity * x, np.ones_like(x)
    cos = np.abs(view_x * normal_x + view_y * normal_y) / (np.hypot(view_x, view_y) * np.hypot(normal_x, normal_y))
    return np.arccos(np.clip(cos, 0.0, 1.0))


def _stretch(profile: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """An (size, size) map varying along a random image direction as ``profile`` over [0, 1]."""
    direction = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size] / max(size - 1, 1) - 0.5
    u = xx * np.cos(direction) + yy * np.sin(direction)
    u = (u - u.min()) / (u.max() - u.min())
    return np.interp(u, np.linspace(0, 1, len(profile)), profile)


def curved_aoi(rng: np.random.Generator, size: int, tries: int = 100) -> np.ndarray:
    """An (size, size) AOI map from a random parabolic segment, camera and convexity (LCG)."""
    for _ in range(tries):
        convexity = float(rng.choice((-1.0, 1.0)))
        camera = (float(rng.uniform(-3, 3)), float(rng.uniform(0.5, 4.0)) * float(rng.choice((-1.0, 1.0))))
        start, length = float(rng.uniform(-1.5, 1.5)), float(rng.uniform(0.2, 2.0))
        profile = parabola_aoi(np.linspace(start, start + length, 256), camera, convexity)
        if profile.max() <= MAX_AOI:
            return _stretch(profile, size, rng)
    return flat_aoi(rng, size)  # a run of grazing draws: fall back to a flat pane


def flat_aoi(rng: np.random.Generator, size: int) -> np.ndarray:
    """A uniform AOI map: a flat pane seen from far away."""
    return np.full((size, size), rng.uniform(*FLAT_AOI))


#: Field of view (degrees) of a training patch, a crop of a wider frame, and the pane's tilt from the optical axis.
PATCH_FOV = (10.0, 60.0)
PANE_TILT = (5.0, 70.0)


def perspective_pane(rng: np.random.Generator, size: int, tries: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """(θ, φ⊥) maps (size, size) of a flat pane seen through a pinhole lens: a random patch FOV, position and tilt.

    A pixel's line of sight d and the pane's unit normal n give θ = acos |d·n|;
    the s-polarisation direction d × n, projected on the image plane, gives φ⊥
    (radians from the image's x axis, folded into [−π/2, π/2)).
    """
    for _ in range(tries):
        focal = size / 2 / np.tan(np.radians(rng.uniform(*PATCH_FOV)) / 2)
        centre = rng.uniform(-1.0, 1.0, 2) * size  # the patch's offset from the optical axis
        tilt, azimuth = np.radians(rng.uniform(*PANE_TILT)), rng.uniform(0, 2 * np.pi)
        normal = np.array([np.sin(tilt) * np.cos(azimuth), np.sin(tilt) * np.sin(azimuth), -np.cos(tilt)])
        yy, xx = np.mgrid[0:size, 0:size] - (size - 1) / 2
        rays = np.stack([xx + centre[0], yy + centre[1], np.full(xx.shape, focal)], axis=-1)
        theta, phi = incidence(rays, normal)
        if theta.max() <= MAX_AOI and theta.min() >= np.radians(1.0):
            return theta, phi
    return flat_aoi(rng, size), np.full((size, size), rng.uniform(-np.pi / 4, np.pi / 4))


def incidence(rays: np.ndarray, normal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(θ, φ⊥) of lines of sight ``rays`` (..., 3), any length, meeting a plane of unit ``normal``."""
    rays = rays / np.linalg.norm(rays, axis=-1, keepdims=True)
    theta = np.arccos(np.clip(np.abs(rays @ normal), 0.0, 1.0))
    s = np.cross(rays, normal)  # perpendicular to the plane of incidence
    phi = np.arctan2(s[..., 1], s[..., 0])
    return theta, np.mod(phi + np.pi / 2, np.pi) - np.pi / 2
