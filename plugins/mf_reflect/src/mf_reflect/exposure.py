"""One exposure normalisation for training and inference, so that results do not depend on exposure.

A real capture's brightness depends on shutter, aperture, gain and the bit depth
of the container (12-bit data in a 16-bit PNG reaches 1/16 of full scale), none
of which a user controls for us. Every stack of polarisation images is
therefore divided by the same robust statistic before it meets the network,
the 99.5th percentile of its intensities mapped to ``LEVEL``, both when the
training triples are made and in ``mf run reflect``; outputs are multiplied
back into the input's own scale. Since the statistic is homogeneous, scaling a
capture by any factor scales the separated layers by exactly that factor.
"""

from __future__ import annotations

import numpy as np

from mfcore import InputError

#: Where the 99.5th percentile of a normalised stack lies.
LEVEL = 0.8
#: The percentile (in [0, 1]) that sets the exposure: robust to a few specular highlights.
QUANTILE = 0.995
#: Largest number of pixels the percentile is estimated from (a regular subsample of larger stacks).
SAMPLE = 1 << 20


def exposure_scale(stack: np.ndarray) -> float:
    """The factor that maps ``stack``'s 99.5th percentile to ``LEVEL``; an error for a black stack."""
    flat = np.asarray(stack).reshape(-1)
    step = max(1, flat.size // SAMPLE)
    value = float(np.quantile(flat[::step], QUANTILE))
    if not value > 0:
        raise InputError("the polarisation images are black (their 99.5th percentile is 0): nothing to separate")
    return value / LEVEL
