"""The choices of ``mf run deblur``: the method (the RDN, FourierNet or FBA), frame registration and frame order,
and FBA on the run's backend."""

from __future__ import annotations

from enum import Enum

import numpy as np
from array_api_compat import is_numpy_namespace

from mfcore import RunContext

from .baselines.fba import fba


class Method(str, Enum):
    rdn = "rdn"
    fouriernet = "fouriernet"
    fba = "fba"


class Alignment(str, Enum):
    none = "none"
    ecc = "ecc"
    features = "features"


class Order(str, Enum):
    sharpest = "sharpest"
    given = "given"


def deblur_burst(ctx: RunContext, frames: np.ndarray, p: float, sigma: float | None) -> np.ndarray:
    """Fuse an aligned NumPy burst with FBA on the context's backend; return NumPy.

    Backends without an array namespace of their own (TensorFlow) run FBA on NumPy.
    """
    backend = ctx.backend
    if is_numpy_namespace(ctx.xp):
        return fba(frames, p=p, sigma=sigma)
    return backend.to_numpy(fba(backend.asarray(frames), p=p, sigma=sigma))
