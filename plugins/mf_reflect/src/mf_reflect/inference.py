"""Running the separation network on real captures: any angles, any size.

The network was trained on images at the polariser angles of its card
(0°, 45°, 90°). Captures at other angles, or at more of them (the 0/45/90/135
of a polarisation camera), are first fitted by eq. 5.3 (least squares) and
re-rendered at the trained angles, which loses nothing the sinusoid holds.
Frames are reflect-padded to a multiple of 8 and, with ``tile``, cut into
overlapping tiles blended seamlessly (:mod:`mfcore.kit.tiling`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mfcore.kit import pad_to_multiple, tiled

from .canonical import fit_matrix

#: The network's input sides must be multiples of this (three stride-2 stages).
MULTIPLE = 8


def at_angles(images: np.ndarray, angles: Sequence[float], wanted: Sequence[float]) -> np.ndarray:
    """Polarisation images (N, H, W, C) at ``angles`` re-rendered at ``wanted`` (radians) by eq. 5.3."""
    if len(angles) == len(wanted) and np.allclose(np.mod(angles, np.pi), np.mod(wanted, np.pi), atol=1e-9):
        return images
    wanted = np.asarray(wanted, dtype=np.float64)
    design = np.stack([np.ones_like(wanted), np.cos(2 * wanted), np.sin(2 * wanted)], axis=1)  # (M, 3)
    return np.tensordot(design @ fit_matrix(angles), images, axes=1).astype(np.float32)


def separate(model: Any, images: np.ndarray, angles: Sequence[float], tile: int | None = None,
             overlap: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """(R̂, T̂), each (H, W, 3), from linear polarisation images (N, H, W, 3) at ``angles`` (radians)."""
    from keras import ops

    observations = np.ascontiguousarray(at_angles(images, angles, model.angles), dtype=np.float32)

    def run(crop: np.ndarray) -> np.ndarray:
        padded, h, w = pad_to_multiple(crop, MULTIPLE)
        return ops.convert_to_numpy(model(padded[None]))[0, :, :h, :w]

    out = tiled(run, observations, tile, overlap)
    return out[0], out[1]
