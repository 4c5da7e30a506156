"""Training triples from two real photographs (thesis 5.2.3, figure 5.8), each step switchable.

Following the photons from the scene to the camera:

1. **DR** (dynamic range, eq. 5.5): both photographs are linearised (gamma
   ``gamma``), the reflected one is multiplied by β ~ U[1, K] and the
   transmitted one divided by it, so that the reflection can range from faint to
   mirror-like, as in real high-dynamic-range scenes. Switched off, β = 1.
2. **Abrupt edges**: for a random subset (``edges``), the reflection is zeroed
   wherever it is darker than mean(Ĩ_R + Ĩ_T), giving reflections that stop at
   object boundaries (figure 5.2, case 5). The thesis allows the transmission
   too; divided by β it is almost all below that mean, so zeroing it leaves a
   bare mirror, which the unedged DR samples with large β already cover.
3. **NRD** (non-rigid deformation): for a random subset (``nrd``), every
   polarisation image after the first sees both layers through its own smooth
   deformation (scene motion between sequential shots). The first image is the
   reference: the ground truth, and so the network's output, is registered to
   it (the thesis deforms each image; a fixed reference gives users outputs
   aligned with their first frame).
4. **LCG** (local curvature): the angle of incidence varies over the patch as on
   a parabolic cross-section (:mod:`mf_reflect.surface`); switched off, the pane
   is flat with one AOI.
5. Eq. 5.2 for each polariser angle, with φ⊥ ~ U[−π/4, π/4), then an automatic
   exposure (the brightest 0.5 % of pixels land in [0.7, 1]), sensor clipping and
   read noise.

The targets are the observable layers R (the reflection's share of I⊥) and T
(the transmission's share of I∥) of the reference image, exposed like the
observations: what the network's eq. 5.4 blends towards.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mfcore import InputError, Sample
from mfcore.kit import textured_patch

from .deformation import SIGMAS, random_flow, warp
from .formation import observable_layers, polarised_images
from .fresnel import GLASS
from .surface import curved_aoi, flat_aoi

#: Upper bound K of the dynamic-range factor β ~ U[1, K] (the thesis asks K > 1 and does not give it).
DR_MAX = 3.0
#: Polariser angles (degrees) of the default triple.
ANGLES = (0.0, 45.0, 90.0)


def linearise(image: np.ndarray, gamma: float) -> np.ndarray:
    """Gamma-encoded intensities in [0, 1] to linear ones."""
    return np.clip(image, 0.0, 1.0) ** gamma


def dynamic_range(reflected: np.ndarray, transmitted: np.ndarray, beta: float,
                  gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Eq. 5.5: Ĩ_R = β·lin(I_R), Ĩ_T = lin(I_T)/β."""
    return beta * linearise(reflected, gamma), linearise(transmitted, gamma) / beta


def abrupt_edges(reflected: np.ndarray, transmitted: np.ndarray) -> np.ndarray:
    """The reflection zeroed where it is darker than mean(Ĩ_R + Ĩ_T)."""
    threshold = float((reflected + transmitted).mean())
    return np.where(reflected.mean(axis=-1, keepdims=True) < threshold, 0.0, reflected)


def reflection_sample(rng: np.random.Generator, size: int = 128, angles: Sequence[float] = ANGLES,
                      dr: bool = True, edges: float = 0.3, nrd: float = 0.5, lcg: bool = True,
                      dr_max: float = DR_MAX, gamma: float = 2.2, noise: float = 0.005, n: float = GLASS,
                      images: str | None = None) -> Sample:
    """One training triple: ``observations`` (N, S, S, 3), targets ``reflection`` and ``transmission``.

    ``edges`` and ``nrd`` are the fractions of samples that get abrupt edges and
    non-rigid deformation (0 switches the step off); ``dr`` and ``lcg`` switch
    the dynamic-range manipulation and the curved surface. Also returned: the AOI
    map ``theta``, ``phi_perp`` and the ``angles`` (radians).
    """
    if len(angles) < 3:
        raise InputError(f"a training sample needs three or more polariser angles, got {len(angles)}")
    if dr_max < 1:
        raise InputError(f"dr_max is the upper bound of β ~ U[1, K] and must be at least 1, got {dr_max}")
    radians = np.radians(np.asarray(angles, dtype=np.float64))
    beta = float(rng.uniform(1.0, dr_max)) if dr else 1.0
    reflected, transmitted = dynamic_range(textured_patch(rng, size, images), textured_patch(rng, size, images),
                                           beta, gamma)
    if rng.random() < edges:
        reflected = abrupt_edges(reflected, transmitted)
    theta = curved_aoi(rng, size) if lcg else flat_aoi(rng, size)
    phi_perp = float(rng.uniform(-np.pi / 4, np.pi / 4))
    deform, sigma, level = rng.random() < nrd, float(rng.choice(SIGMAS)), float(rng.uniform(0.7, 1.0))
    observations = []
    for i, phi in enumerate(radians):
        r, t = reflected, transmitted
        if deform and i > 0:
            r, t = warp(r, random_flow(rng, size, sigma)), warp(t, random_flow(rng, size, sigma))
        observations.append(polarised_images(r, t, theta, phi_perp, (phi,), n)[0])
    stack = np.stack(observations)
    reflection, transmission = observable_layers(reflected, transmitted, theta, n)
    exposure = max(float(np.quantile(stack, 0.995)), 1e-6) / level
    stack = stack / exposure + rng.normal(0.0, noise, stack.shape)
    return {
        "observations": np.clip(stack, 0.0, 1.0).astype(np.float32),
        "reflection": np.clip(reflection / exposure, 0.0, 1.0).astype(np.float32),
        "transmission": np.clip(transmission / exposure, 0.0, 1.0).astype(np.float32),
        "theta": theta.astype(np.float32),
        "phi_perp": np.float32(phi_perp).reshape(()),
        "angles": radians.astype(np.float32),
    }
