"""The physical estimate the network corrects: Schechner et al.'s separation, computed the same way for
training and for inference.

The network does not start from nothing: it receives the layers of the
classical AOI-search separation (:mod:`mf_reflect.baselines.schechner`) beside
the observations and blends its own estimate with them through learned gates
(eq. 5.4, with Schechner's layers in place of the canonical images). Where it
cannot do better it keeps the physics, which is what makes a learned default
safe on captures unlike its training data. The estimate is clipped to
``[0, CEILING]`` (in normalised exposure), because a wrong AOI makes the 2×2
solve overshoot.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .baselines.schechner import schechner_separation
from .orientation import orient

#: Upper clip of the prior's layers, in units of the normalised exposure (:mod:`mf_reflect.exposure`).
CEILING = 1.5


def physics_prior(images: np.ndarray, angles: Sequence[float], max_side: int = 256) -> np.ndarray:
    """(2, H, W, C): Schechner's R̂ then T̂ of exposure-normalised images (N, H, W, C) at ``angles``."""
    r, t, _ = schechner_separation(images, angles, max_side=max_side)
    return np.clip(np.stack([r, t]), 0.0, CEILING).astype(np.float32)


def oriented_prior(images: np.ndarray, angles: Sequence[float],
                   max_side: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """The images turned into the reflection's frame (:mod:`mf_reflect.orientation`) and their prior."""
    oriented, _ = orient(images, angles)
    return oriented, physics_prior(oriented, angles, max_side)
