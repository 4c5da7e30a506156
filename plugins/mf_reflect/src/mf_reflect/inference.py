"""Running the separation network on real captures: any angles, any size, any exposure, mono or colour.

The stack is first divided by its exposure (:mod:`mf_reflect.exposure`, as in
training), turned into the frame of the reflection's polarisation
(:mod:`mf_reflect.orientation`), and the physical prior computed on the whole
frame (:mod:`mf_reflect.prior`); each colour channel then goes through the
network on its own, and the layers are multiplied back into the input's scale.
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

from mfcore.kit import inference_mode, pad_to_multiple, tiled

from .canonical import render_at
from .exposure import exposure_scale
from .prior import oriented_prior

#: The network's input sides must be multiples of this (three stride-2 stages).
MULTIPLE = 8


def separate(model: Any, images: np.ndarray, angles: Sequence[float], tile: int | None = None,
             overlap: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """(R̂, T̂), each (H, W, C), from linear polarisation images (N, H, W, C) at ``angles`` (radians)."""
    from keras import ops

    scale = exposure_scale(images)
    oriented, prior = oriented_prior(images.astype(np.float32) / scale, angles)
    stack = np.concatenate([render_at(oriented, angles, model.angles), prior])

    def run(crop: np.ndarray) -> np.ndarray:
        padded, h, w = pad_to_multiple(crop, MULTIPLE)
        with inference_mode():
            return ops.convert_to_numpy(model(padded[None]))[0, :, :h, :w]

    channels = [tiled(run, np.ascontiguousarray(stack[..., c:c + 1], dtype=np.float32), tile, overlap)
                for c in range(stack.shape[-1])]
    out = np.concatenate(channels, axis=-1) * scale
    return out[0], out[1]
