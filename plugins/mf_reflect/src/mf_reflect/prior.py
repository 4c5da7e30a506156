"""The physical estimate the network corrects: the classical separation, computed the same way for training
and for inference.

The network does not start from nothing: it receives the layers of the
classical separation beside the observations and blends its own estimate
with them through learned gates (eq. 5.4, with these layers in place of the
canonical images). The separation is Schechner et al.'s AOI search along the
AOI field of a flat pane in perspective, read from the angles of polarisation
(:mod:`mf_reflect.baselines.pane`); where the captures do not show one pane
it is Schechner's uniform search itself. Where it
cannot do better it keeps the physics, which is what makes a learned default
safe on captures unlike its training data. The estimate is clipped to
``[0, CEILING]`` (in normalised exposure), because a wrong AOI makes the 2×2
solve overshoot. The prior is the pane's separation with its noise filter
(:mod:`mf_reflect.denoise`): the noise level is measured on the whole frame,
which a 64 px training patch cannot do, so the network starts from the best
classical estimate at any exposure and learns a correction to it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .baselines.pane import pane_separation
from .orientation import orient

#: The prior's name in a model card: weights trained on another prior are refused (:mod:`mf_reflect.model_io`).
PRIOR = "pane-wiener"
#: Upper clip of the prior's layers, in units of the normalised exposure (:mod:`mf_reflect.exposure`).
CEILING = 1.5


def physics_prior(images: np.ndarray, angles: Sequence[float], frame: float = 0.0, max_side: int = 256) -> np.ndarray:
    """(2, H, W, C): R̂ then T̂ of exposure-normalised images (N, H, W, C) at ``angles``, turned by ``frame``."""
    r, t, _ = pane_separation(images, angles, frame, max_side=max_side)
    return np.clip(np.stack([r, t]), 0.0, CEILING).astype(np.float32)


def oriented_prior(images: np.ndarray, angles: Sequence[float],
                   max_side: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """The images turned into the reflection's frame (:mod:`mf_reflect.orientation`) and their prior."""
    oriented, psi = orient(images, angles)
    return oriented, physics_prior(oriented, angles, psi, max_side)
