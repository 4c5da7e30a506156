"""Schechner, Shamir & Kiryati (2000): the uniform angle of incidence that makes the layers independent.

With I⊥ and I∥ known (estimated per pixel by the canonical projection, as Kong
et al. do), a candidate AOI θ gives the pane's reflectances and so a 2×2
linear system per pixel, I⊥ = R'⊥ I_R/2 + T'⊥ I_T/2 and I∥ = R'∥ I_R/2 + T'∥ I_T/2,
whose solution is a candidate separation. The method picks the θ whose
separated layers share the least mutual information, searched exhaustively on
a grid, then separates the full-resolution images at that θ. The search runs
on images down-sampled to at most ``max_side`` pixels (the thesis down-samples
24 MP captures 16× against scene motion); the joint histogram gets about
√pixels / 4 bins per axis, so that it stays well filled.

The output layers are the observable ones, R = R'⊥ I_R/2 and T = T'∥ I_T/2.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ..canonical import canonical_projection
from ..fresnel import GLASS, pane_reflectance

#: Candidate AOIs. Below ~5° the two reflectances are nearly equal and the system is singular.
SEARCH = np.radians(np.arange(5.0, 85.5, 0.5))


def mutual_information(a: np.ndarray, b: np.ndarray, bins: int | None = None) -> float:
    """Mutual information (nats) of two images' intensities from their joint histogram."""
    bins = bins or int(np.clip(np.sqrt(a.size) / 4, 8, 64))
    joint, _, _ = np.histogram2d(a.ravel(), b.ravel(), bins=bins)
    joint /= joint.sum()
    pa, pb = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
    nonzero = joint > 0
    return float((joint[nonzero] * np.log(joint[nonzero] / (pa @ pb)[nonzero])).sum())


def separate_at(i_perp: np.ndarray, i_par: np.ndarray, theta: float | np.ndarray,
                n: float = GLASS) -> tuple[np.ndarray, np.ndarray]:
    """Observable (R, T) from the canonical images at the AOI ``theta``: one angle, or one per pixel (broadcast)."""
    r_s, r_p = pane_reflectance(np.asarray(theta, dtype=np.float64), n)
    det = r_s * (1 - r_p) - r_p * (1 - r_s)  # = R'⊥ − R'∥ > 0 for θ > 0
    half_r = ((1 - r_p) * i_perp - (1 - r_s) * i_par) / det  # I_R / 2
    half_t = (r_s * i_par - r_p * i_perp) / det  # I_T / 2
    return r_s * half_r, (1 - r_p) * half_t


def mi_curve(grey_perp: np.ndarray, grey_par: np.ndarray, aoi: np.ndarray, n: float = GLASS) -> np.ndarray:
    """Mutual information of the layers separated at each candidate AOI: ``aoi`` is (K, 1) or per pixel (K, P)."""
    grey_perp, grey_par = grey_perp.ravel().astype(np.float64), grey_par.ravel().astype(np.float64)
    return batched_mutual_information(*separate_at(grey_perp, grey_par, aoi.astype(np.float64), n))


def batched_mutual_information(layer_r: np.ndarray, layer_t: np.ndarray) -> np.ndarray:
    """(K,) mutual information of K pairs of separated layers (K, P), all histogrammed at once (one ``bincount``),
    so that a search costs about as much as a few separations, not one per candidate."""
    count, pixels = layer_r.shape
    bins = int(np.clip(np.sqrt(pixels) / 4, 8, 64))

    def quantise(layer: np.ndarray) -> np.ndarray:
        low, high = layer.min(axis=1, keepdims=True), layer.max(axis=1, keepdims=True)
        scaled = (layer - low) / np.maximum(high - low, 1e-12) * bins
        return np.minimum(scaled.astype(np.int64), bins - 1)

    rows = np.arange(count)[:, None] * bins * bins
    joint = np.bincount((rows + quantise(layer_r) * bins + quantise(layer_t)).ravel(),
                        minlength=count * bins * bins).reshape(count, bins, bins)
    joint = joint / pixels
    pa, pb = joint.sum(axis=2, keepdims=True), joint.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(joint > 0, joint * np.log(joint / (pa * pb)), 0.0)
    return terms.sum(axis=(1, 2))


def estimate_aoi(i_perp: np.ndarray, i_par: np.ndarray, n: float = GLASS,
                 search: np.ndarray = SEARCH) -> tuple[float, np.ndarray]:
    """The uniform AOI of least mutual information between the separated layers, and the MI curve."""
    curve = mi_curve(i_perp.mean(axis=-1), i_par.mean(axis=-1), search[:, None], n)
    return float(search[int(np.argmin(curve))]), curve


def shrink(image: np.ndarray, max_side: int) -> np.ndarray:
    """Area-averaged down-sampling so that the longer side is at most ``max_side``."""
    h, w = image.shape[:2]
    factor = max(1, int(np.ceil(max(h, w) / max_side)))
    if factor == 1:
        return image
    size = (max(1, w // factor), max(1, h // factor))
    return cv2.resize(np.ascontiguousarray(image, dtype=np.float32), size, interpolation=cv2.INTER_AREA)


def schechner_separation(images: np.ndarray, angles: Sequence[float], max_side: int = 256,
                         n: float = GLASS) -> tuple[np.ndarray, np.ndarray, float]:
    """(R̂, T̂, θ̂) from polarisation images (N, H, W, C) at ``angles`` (radians)."""
    i_perp, i_par, _ = canonical_projection(images, angles)
    theta, _ = estimate_aoi(shrink(i_perp.mean(axis=-1), max_side)[..., None],
                            shrink(i_par.mean(axis=-1), max_side)[..., None], n)
    r, t = separate_at(i_perp.astype(np.float64), i_par.astype(np.float64), theta, n)
    return r.astype(np.float32), t.astype(np.float32), theta
