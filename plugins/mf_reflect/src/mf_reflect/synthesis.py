"""Training triples from two real photographs (thesis 5.2.3, figure 5.8), each step switchable.

Following the photons from the scene to the camera:

1. **DR** (dynamic range, eq. 5.5): both photographs are linearised (gamma
   ``gamma``) and the reflected one is scaled so that the mean of the
   observable reflection over that of the observable transmission (the layers
   as the camera sees them behind this pane) is ρ, log-uniform in [1/K, K]
   (K = ``dr_max``, 10: from a faint sheen to a mirror-like window at night).
   Switched off, the photographs keep their own brightness.
2. **Abrupt edges and reflection-free regions**: for a random subset
   (``edges``), the reflection is zeroed wherever it is darker than
   mean(Ĩ_R + Ĩ_T), giving reflections that stop at object boundaries (figure
   5.2, case 5); for another (``free``) it fades out over a smooth random
   region, where the glass reflects nothing bright.
3. **NRD** (non-rigid deformation): for a random subset (``nrd``), every
   polarisation image after the first sees both layers through its own smooth
   deformation (scene motion between sequential shots); for another (``shift``)
   each later shot is displaced by a sub-pixel misregistration. The first image
   is the reference: the ground truth, and so the network's output, is
   registered to it.
4. **The pane**: with LCG (local curvature) 40 % of panes are curved
   (:func:`mf_reflect.surface.curved_aoi`); the others are flat, seen through a
   lens in perspective (θ and φ⊥ vary per pixel,
   :func:`mf_reflect.surface.perspective_pane`) or from afar (one θ), half
   each. Without LCG only flat panes. φ⊥ takes any direction (U[−π/2, π/2)):
   the camera may be rolled any way against the pane, and training sees the
   frame estimate of :mod:`mf_reflect.orientation` as inference does.
5. Eq. 5.2 for each polariser angle, then the **sensor** (``sensor``): an
   exposure that puts the brightest 0.5 % of pixels anywhere from 0.2 to 1.1 of
   full scale (clipping above 1), shot noise (full well 1,000 to 30,000
   electrons), read noise, quantisation to 8 to 16 bits. Finally the stack is
   normalised by :func:`mf_reflect.exposure.exposure_scale`, exactly as
   ``mf run reflect`` normalises a capture.

The targets are the observable layers R (the reflection's share of I⊥) and T
(the transmission's share of I∥) of the reference image, in the normalised
exposure of the observations: what the network's eq. 5.4 blends towards.
Samples are in colour; training picks one channel (or their mean, a monochrome
sensor) per sample, since the network separates one channel at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from mfcore import InputError, Sample
from mfcore.kit import textured_patch

from .deformation import SIGMAS, random_flow, warp
from .exposure import exposure_scale
from .formation import observable_layers, polarised_images
from .fresnel import GLASS
from .prior import CEILING
from .surface import curved_aoi, flat_aoi, perspective_pane

#: Bound K of the ratio ρ ~ logU[1/K, K] of the observable reflection to the observable transmission.
DR_MAX = 10.0
#: Polariser angles (degrees) of the default triple.
ANGLES = (0.0, 45.0, 90.0)
#: Range of the sensor exposure: the 99.5th percentile of the raw stack, as a fraction of full scale.
EXPOSURE = (0.2, 1.1)
#: Range of the full-well capacity (electrons; shot noise) and of the read noise (fraction of full scale).
FULL_WELL = (1e3, 3e4)
READ_NOISE = (5e-4, 5e-3)
#: Bit depths a sample is quantised to.
BITS = (8, 10, 12, 14, 16)
#: Standard deviation (pixels) of the misregistration between shots.
SHIFT_SIGMA = 0.5


def linearise(image: np.ndarray, gamma: float) -> np.ndarray:
    """Gamma-encoded intensities in [0, 1] to linear ones."""
    return np.clip(image, 0.0, 1.0) ** gamma


def dynamic_range(reflected: np.ndarray, transmitted: np.ndarray, ratio: float, theta: np.ndarray,
                  n: float) -> np.ndarray:
    """Eq. 5.5 on what the camera sees: the reflected radiance scaled so that mean(R) / mean(T) = ``ratio``."""
    shown_r, shown_t = observable_layers(reflected, transmitted, theta, n)
    return reflected * ratio * float(shown_t.mean()) / max(float(shown_r.mean()), 1e-9)


def abrupt_edges(reflected: np.ndarray, transmitted: np.ndarray) -> np.ndarray:
    """The reflection zeroed where it is darker than mean(Ĩ_R + Ĩ_T)."""
    threshold = float((reflected + transmitted).mean())
    return np.where(reflected.mean(axis=-1, keepdims=True) < threshold, 0.0, reflected)


def free_region(rng: np.random.Generator, size: int) -> np.ndarray:
    """A (size, size, 1) mask in [0, 1] that fades to 0 over a smooth random region (about half the patch)."""
    coarse = rng.normal(0.0, 1.0, (4, 4)).astype(np.float32)
    field = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(field * 2.0 + 0.5, 0.0, 1.0)[..., None]


def sensor(rng: np.random.Generator, stack: np.ndarray) -> tuple[np.ndarray, float]:
    """A raw capture of linear radiances: exposure, clipping, shot and read noise, quantisation; and its gain."""
    gain = rng.uniform(*EXPOSURE) / max(float(np.quantile(stack, 0.995)), 1e-6)
    exposed = stack * gain
    electrons = np.exp(rng.uniform(*np.log(FULL_WELL)))
    read = np.exp(rng.uniform(*np.log(READ_NOISE)))
    noisy = rng.poisson(np.clip(exposed, 0.0, None) * electrons) / electrons + rng.normal(0.0, read, stack.shape)
    levels = 2 ** int(rng.choice(BITS)) - 1
    return np.round(np.clip(noisy, 0.0, 1.0) * levels) / levels, gain


def _pane(rng: np.random.Generator, size: int, lcg: bool) -> tuple[np.ndarray, np.ndarray | float]:
    """θ map and φ⊥ (map or scalar) of a random pane (step 4)."""
    if lcg and rng.random() < 0.4:
        return curved_aoi(rng, size), float(rng.uniform(-np.pi / 2, np.pi / 2))
    if rng.random() < 0.5:
        return perspective_pane(rng, size)
    return flat_aoi(rng, size), float(rng.uniform(-np.pi / 2, np.pi / 2))


def reflection_sample(rng: np.random.Generator, size: int = 128, angles: Sequence[float] = ANGLES,
                      dr: bool = True, edges: float = 0.3, free: float = 0.2, nrd: float = 0.5, shift: float = 0.5,
                      lcg: bool = True, dr_max: float = DR_MAX, gamma: float = 2.2, sensor_model: bool = True,
                      n: float = GLASS, images: str | None = None) -> Sample:
    """One training triple: ``observations`` (N, S, S, 3), targets ``reflection`` and ``transmission``.

    ``edges``, ``free``, ``nrd`` and ``shift`` are the fractions of samples that
    get abrupt edges, a reflection-free region, non-rigid deformation and
    misregistration (0 switches the step off); ``dr``, ``lcg`` and
    ``sensor_model`` switch the dynamic-range manipulation, curved glass and the
    sensor (without it: exposure only). Also returned: the AOI map ``theta``,
    the ``phi_perp`` map and the ``angles`` (radians).
    """
    if len(angles) < 3:
        raise InputError(f"a training sample needs three or more polariser angles, got {len(angles)}")
    if dr_max < 1:
        raise InputError(f"dr_max bounds the ratio ρ ~ logU[1/K, K] and must be at least 1, got {dr_max}")
    radians = np.radians(np.asarray(angles, dtype=np.float64))
    reflected = linearise(textured_patch(rng, size, images), gamma)
    transmitted = linearise(textured_patch(rng, size, images), gamma)
    theta, phi_perp = _pane(rng, size, lcg)
    if dr:
        ratio = float(np.exp(rng.uniform(-np.log(dr_max), np.log(dr_max))))
        reflected = dynamic_range(reflected, transmitted, ratio, theta, n)
    if rng.random() < edges:
        reflected = abrupt_edges(reflected, transmitted)
    elif rng.random() < free:
        reflected = reflected * free_region(rng, size)
    deform, sigma = rng.random() < nrd, float(rng.choice(SIGMAS))
    misregister = rng.random() < shift
    observations = []
    for i, phi in enumerate(radians):
        r, t = reflected, transmitted
        if deform and i > 0:
            r, t = warp(r, random_flow(rng, size, sigma)), warp(t, random_flow(rng, size, sigma))
        if misregister and i > 0:
            offset = np.broadcast_to(rng.normal(0.0, SHIFT_SIGMA, 2).astype(np.float32), (size, size, 2))
            r, t = warp(r, offset), warp(t, offset)
        observations.append(polarised_images(r, t, theta, phi_perp, (phi,), n)[0])
    stack, gain = sensor(rng, np.stack(observations)) if sensor_model else (np.stack(observations), 1.0)
    norm = exposure_scale(stack)  # the capture's normalisation, as at inference
    scale = norm / gain  # radiance → normalised exposure
    reflection, transmission = observable_layers(reflected, transmitted, theta, n)
    return {
        "observations": (stack / norm).astype(np.float32),
        "reflection": np.clip(reflection / scale, 0.0, CEILING).astype(np.float32),
        "transmission": np.clip(transmission / scale, 0.0, CEILING).astype(np.float32),
        "theta": theta.astype(np.float32),
        "phi_perp": np.broadcast_to(np.asarray(phi_perp, np.float32), theta.shape).copy(),
        "angles": radians.astype(np.float32),
    }
