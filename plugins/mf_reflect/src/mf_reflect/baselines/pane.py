"""Schechner's search for a flat pane seen in perspective: one AOI per pixel, its shape read from the polarisation.

Schechner et al. assume one angle of incidence for the whole frame. A window
seen through a lens is not like that: each pixel's ray meets the pane at its
own angle, ±15° across a 30° field of view, and a uniform AOI leaves part of
the reflection in T̂ wherever the true angle differs. The pane's geometry can
be read from the captures, though. Light reflected by the pane is polarised
along s, perpendicular to the plane of incidence, which contains the ray d
and the pane's normal m; transmitted light along p, at 90° to s. So the angle
of polarisation (modulo 90°) at every pixel is the image direction of d × m,
whatever the layers' brightness. With d = (u, v, f) in pixel units
(u, v from the frame's centre, over its width) and m = (sin θ cos α,
sin θ sin α, cos θ), that direction is (v κ − sin α, cos α − u κ) with
κ = cot θ / f: the orientation field fixes the azimuth α and κ, but not θ
and f apart. :func:`fit_view` finds (α, κ) by maximising the agreement
Σ w cos 4(AoP − ψ(u, v)) over the pixels, weighted by their polarised
amplitude (a coarse grid, then two finer ones), for either handedness of the
camera's angle convention; κ = 0 is the uniform case, and the fallback
wherever the field explains the angles poorly (:data:`AGREEMENT`). The remaining unknown,
θ at the centre, is Schechner's one-dimensional search: every candidate θ
gives f = cot θ / κ and so an AOI field, and the field whose separated layers
share the least mutual information wins, among the fields that leave T̂
non-negative (:func:`negative_share`). An angle below the true one makes the
solve subtract more reflection than there is, which drives T̂ negative
wherever the reflection outshines the transmission; mutual information alone
can have a flat minimum over such angles (a capture of the independent
synthesiser: 33° chosen, the separation best near 40°, 5.9 dB lost).

A curved window (a shop front, a car's) breaks the flat pane's geometry but
often not its signature: the angles of polarisation of a glass cylinder still
fit a flat field, while its angles of incidence vary less, or otherwise, than
that field says. So the field is searched at three strengths (:data:`GAINS`:
the fitted field, half its variation about the centre, and none, Schechner's
uniform AOI), each with its own θ, and the separations compete on how well they
separate: the gradients of T̂ and R̂ should not coincide (:func:`exclusion`, the
exclusion criterion of Zhang et al., CVPR 2018, as a score). A strength whose
T̂ goes more negative than the best one's by :data:`MISFIT` is out; the fitted
field keeps its place unless another strength's score is :data:`MARGIN` lower.

Below about 20° of incidence the pane polarises too little (R'⊥ − R'∥ under
0.02) for the 2×2 solve to do more than amplify noise, so the field is
clamped there: the separation is conservative where it cannot be precise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ..canonical import fit_matrix, grey_stokes, lit
from ..denoise import noise_variance, wiener
from ..fresnel import GLASS, pane_reflectance
from .schechner import SEARCH, batched_mutual_information, separate_at, shrink

#: Clamp of the AOI field (radians): the pane barely polarises below the lower bound; grazing beyond the upper.
MIN_AOI, MAX_AOI = np.radians(20.0), np.radians(85.0)
#: Longer side (pixels) of the angle-of-polarisation map that the view is fitted on.
FIT_SIDE = 24
#: The search for θ: Schechner's grid every 2°, then every 0.5° around the best.
COARSE, FINE = SEARCH[::4], np.radians(np.arange(-1.5, 1.6, 0.5))
#: Least agreement for a field: below it the angles of polarisation are not the signature of one flat pane
#: (a curved pane, several surfaces, polarised sources; cos 4Δ = 0.9 is an RMS misfit of about 6°), and the
#: view falls back to a uniform AOI, Schechner's own model. Between 0.8 and 0.9 the field did no better than
#: the uniform AOI on the training generator's held-out captures and worse on a real capture (Lei et al.'s
#: IMG_0287, agreement 0.80: AOIs up to 85° and a dark patch in T̂); flat panes reach 0.97 to 0.9999.
AGREEMENT = 0.9
#: Largest κ = cot θ / f searched (f in frame widths): θ = 20° seen with a 100° field of view.
MAX_SLOPE = 3.0
#: The angle search keeps to the angles whose T̂ is non-negative: a pixel counts as negative below −DARK times
#: the mean brightness, and an angle is kept while its share of negative pixels is within SLACK of the least
#: share of any angle. On the independent synthesiser's 72 captures DARK from 0.01 to 0.02 and SLACK from
#: 0.002 to 0.005 give the same mean T̂ to 0.01 dB and none below the best input; SLACK 0.01 with DARK 0.02, or
#: DARK 0.05, lets one search go wrong (3.3 dB below the best input).
DARK, SLACK = 0.01, 0.005
#: Strengths of the fitted field searched (1: the flat pane's field, 0: one AOI for the frame): the AOI at a
#: pixel is θ + gain · (field − θ).
GAINS = (1.0, 0.5, 0.0)
#: A strength is dropped when its best angle leaves this share of T̂'s pixels more negative than the least
#: negative strength does: the pane is not flat (a curved window) and the field subtracts reflection where
#: there is none.
MISFIT = 0.01
#: Another strength replaces the fitted field only when its :func:`exclusion` is this share lower. Checked on
#: captures the benchmark does not use (``independent_scores([Method.pane, Method.schechner], None, 16, 7,
#: (0.5,))`` of :mod:`mf_reflect.evaluation`: 16 flat and 16 curved), mean T̂ for a margin of 0 / 0.03 / 0.1 /
#: ∞ (∞: the fitted field unless it drives T̂ negative, the rule before): flat 29.94 / 30.18 / 30.12 / 30.06 dB,
#: curved 24.41 / 24.31 / 23.88 / 23.12 dB, below Schechner's on 4 / 4 / 5 / 7 of the 32 captures.
MARGIN = 0.03


@dataclass(frozen=True)
class PaneView:
    """The orientation field's parameters: azimuth α of the pane's normal, κ = cot θ / f, handedness ±1."""

    azimuth: float
    slope: float
    mirror: int
    agreement: float  # weighted mean of cos 4(AoP − ψ): 1 = the field explains every polarised pixel

    def aoi(self, shape: tuple[int, int], theta: float | np.ndarray, gain: float = 1.0) -> np.ndarray:
        """Angle of incidence (radians, clamped) per pixel of a pane at ``theta`` on the optical axis.

        One ``theta`` gives an (H, W) field; an array of K candidates gives (K, H, W). ``gain`` scales the
        field's variation about ``theta`` (:data:`GAINS`; 0 is the uniform AOI).
        """
        theta = np.asarray(theta, dtype=np.float64)
        t = theta[..., None, None]
        if self.slope <= 0 or gain == 0:
            return np.clip(np.broadcast_to(t, (*theta.shape, *shape)), MIN_AOI, MAX_AOI)
        u, v = _coordinates(shape, self.mirror)
        focal = 1.0 / (np.tan(t) * self.slope)
        along = u * np.cos(self.azimuth) + v * np.sin(self.azimuth)
        cos_i = np.abs(along * np.sin(t) + focal * np.cos(t)) / np.sqrt(u * u + v * v + focal * focal)
        field = np.arccos(np.minimum(cos_i, 1.0))
        return np.clip(t + gain * (field - t), MIN_AOI, MAX_AOI)


    def s_direction(self, shape: tuple[int, int]) -> np.ndarray:
        """Angle (radians, camera frame) of the s direction per pixel, as :func:`fit_view` fits it: modulo 90°."""
        u, v = _coordinates(shape, self.mirror)
        return np.arctan2(np.cos(self.azimuth) - u * self.slope, v * self.slope - np.sin(self.azimuth))


def fold_canonical(images: np.ndarray, angles: Sequence[float], s_angle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(I⊥, I∥) of images (N, H, W[, C]), I⊥ on the side of the s direction ``s_angle`` (H, W; radians, in the
    images' polariser frame) at every pixel.

    The canonical projection folds each pixel's angle of polarisation into ±45° of one frame. Where the s
    direction turns farther from it, I⊥ and I∥ trade places and the solve returns reflection as transmission
    there; the s direction of a glass cylinder can turn by 90° and more across the frame.
    """
    a, b, c = np.tensordot(fit_matrix(angles), np.asarray(images, dtype=np.float64), axes=1)
    s_angle = s_angle[..., None] if a.ndim == 3 else s_angle
    half = np.hypot(b, c) * np.where(np.cos(np.arctan2(c, b) - 2 * s_angle) >= 0, 1.0, -1.0)
    return a + half, a - half


def field_canonical(images: np.ndarray, angles: Sequence[float], view: PaneView,
                    frame: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fold_canonical` along ``view``'s s directions, for images read in a polariser frame turned by
    ``frame``. The view knows them modulo 90°; they are taken on the frame's side on average (the frame is the
    reflection's, :func:`mf_reflect.orientation.orient`)."""
    s_angle = view.s_direction(np.shape(images)[1:3]) - frame
    if np.cos(2 * s_angle).mean() < 0:
        s_angle = s_angle + np.pi / 2
    return fold_canonical(images, angles, s_angle)


def _coordinates(shape: tuple[int, int], mirror: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates from the frame's centre in units of its width; u mirrored for the other handedness."""
    h, w = shape
    v, u = np.mgrid[0:h, 0:w].astype(np.float64)
    return mirror * (u - (w - 1) / 2) / w, (v - (h - 1) / 2) / w


def _agreement(four_aop: np.ndarray, weights: np.ndarray, u: np.ndarray, v: np.ndarray, azimuths: np.ndarray,
               slopes: np.ndarray) -> np.ndarray:
    """(A, S) weighted mean of cos 4(AoP − ψ) for every azimuth and slope; weights sum to one."""
    a, k = azimuths[:, None, None], slopes[None, :, None]
    psi = np.arctan2(np.cos(a) - u * k, v * k - np.sin(a))
    return (weights * np.cos(four_aop - 4 * psi)).sum(axis=-1)


def fit_view(images: np.ndarray, angles: Sequence[float], frame: float = 0.0) -> PaneView:
    """The orientation field of images (N, H, W[, C]) at ``angles``, read in a polariser frame turned by ``frame``."""
    a, b, c = (shrink(x.astype(np.float32), FIT_SIDE).astype(np.float64) for x in grey_stokes(images, angles))
    amplitude = np.hypot(b, c) * lit(a)
    if amplitude.sum() <= 0:
        return PaneView(0.0, 0.0, 1, 0.0)
    weights = (amplitude / amplitude.sum()).ravel()
    four_aop = (2 * np.arctan2(c, b) + 4 * frame).ravel()
    best = PaneView(0.0, 0.0, 1, -np.inf)
    for mirror in (1, -1):
        u, v = (x.ravel() for x in _coordinates(a.shape, mirror))
        azimuths, slopes = np.radians(np.arange(0.0, 360.0, 10.0)), np.linspace(0.0, MAX_SLOPE, 16)
        for step_a, step_k in ((np.radians(2.0), 0.04), (np.radians(0.5), 0.01), (None, None)):
            scores = _agreement(four_aop, weights, u, v, azimuths, slopes)
            i, j = np.unravel_index(int(np.argmax(scores)), scores.shape)
            if step_a is None:
                break
            azimuths = azimuths[i] + step_a * np.arange(-3, 4)
            slopes = np.clip(slopes[j] + step_k * np.arange(-3, 4), 0.0, MAX_SLOPE)
        if scores[i, j] > best.agreement:
            best = PaneView(float(np.mod(azimuths[i], 2 * np.pi)), float(slopes[j]), mirror, float(scores[i, j]))
    return best if best.agreement >= AGREEMENT else PaneView(best.azimuth, 0.0, 1, best.agreement)


def negative_share(layer_t: np.ndarray, brightness: float) -> np.ndarray:
    """(K,) share of pixels whose T̂ (K, P) is below −:data:`DARK` times the mean ``brightness`` (I⊥ + I∥)."""
    return (layer_t < -DARK * brightness).mean(axis=1)


def exclusion(layer_r: np.ndarray, layer_t: np.ndarray, levels: int = 3) -> float:
    """How much the edges of two layers (H, W) coincide: E|∇R|·|∇T| / (E|∇R| · E|∇T|), averaged over
    ``levels`` octaves. About 1 for layers that ignore each other; above 1 where an edge of one is left in the
    other (a wrong angle of incidence leaves the reflection's edges in T̂, or the transmission's in R̂)."""
    scores = []
    r, t = layer_r.astype(np.float64), layer_t.astype(np.float64)
    for _ in range(levels):
        grad_r = np.hypot(cv2.Sobel(r, cv2.CV_64F, 1, 0), cv2.Sobel(r, cv2.CV_64F, 0, 1))
        grad_t = np.hypot(cv2.Sobel(t, cv2.CV_64F, 1, 0), cv2.Sobel(t, cv2.CV_64F, 0, 1))
        scores.append((grad_r * grad_t).mean() / max(grad_r.mean() * grad_t.mean(), 1e-30))
        if min(r.shape) < 8:
            break
        r, t = cv2.pyrDown(r), cv2.pyrDown(t)
    return float(np.mean(scores))


def _search(view: PaneView, shape: tuple[int, int], grey_perp: np.ndarray, grey_par: np.ndarray,
            brightness: float, n: float, gain: float = 1.0) -> tuple[float, float]:
    """Schechner's search for θ along ``view``'s AOI field at ``gain``: the least mutual information among the
    angles whose T̂ is about as non-negative as any angle can make it; that angle and its share of negative
    pixels."""
    candidates = COARSE
    for _ in range(2):
        aoi = view.aoi(shape, candidates, gain).reshape(len(candidates), -1)
        layers = separate_at(grey_perp, grey_par, aoi, n)
        curve = batched_mutual_information(*layers)
        negative = negative_share(layers[1], brightness)
        curve[negative > negative.min() + SLACK] = np.inf
        best = int(np.argmin(curve))
        theta, share = float(candidates[best]), float(negative[best])
        candidates = np.clip(theta + FINE, SEARCH[0], SEARCH[-1])
    return theta, share


def _strength(view: PaneView, small_perp: np.ndarray, small_par: np.ndarray, n: float) -> tuple[float, float]:
    """(gain, θ): the strength of ``view``'s field (:data:`GAINS`) and its angle on the axis whose separation of
    the small canonical images separates best (:func:`exclusion`), among those that leave T̂ about as
    non-negative as any; the fitted field unless another is :data:`MARGIN` better."""
    grey_perp, grey_par = small_perp.ravel(), small_par.ravel()
    brightness = float(grey_perp.mean() + grey_par.mean())
    if view.slope <= 0:
        return 0.0, _search(view, small_perp.shape, grey_perp, grey_par, brightness, n)[0]
    found = {g: _search(view, small_perp.shape, grey_perp, grey_par, brightness, n, g) for g in GAINS}
    least = min(negative for _, negative in found.values())
    scores = {}
    for g, (theta, negative) in found.items():
        if negative <= least + MISFIT:
            aoi = view.aoi(small_perp.shape, theta, g)
            scores[g] = exclusion(*separate_at(small_perp, small_par, aoi, n))
    best = min(scores, key=scores.__getitem__)
    if GAINS[0] in scores and scores[best] > (1 - MARGIN) * scores[GAINS[0]]:
        best = GAINS[0]
    return best, found[best][0]


def pane_separation(images: np.ndarray, angles: Sequence[float], frame: float = 0.0, max_side: int = 256,
                    n: float = GLASS, denoise: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(R̂, T̂, AOI field) of images (N, H, W, C) at ``angles``, rendered in a polariser frame turned by ``frame``.

    ``frame`` is the ψ of :func:`mf_reflect.orientation.orient` when the images
    were turned into the reflection's frame (as every method here receives
    them), so that the angle of polarisation is read in the camera's own frame.
    With ``denoise`` the noise that the solve amplifies is filtered out of the
    reflection (:mod:`mf_reflect.denoise`) and T̂ is the least reflecting
    canonical image less that reflection's share in it: the angle search and
    the field are the same either way.
    """
    view = fit_view(images, angles, frame)
    i_perp, i_par = field_canonical(images, angles, view, frame)
    small_perp, small_par = shrink(i_perp.mean(axis=-1), max_side), shrink(i_par.mean(axis=-1), max_side)
    gain, theta = _strength(view, small_perp.astype(np.float64), small_par.astype(np.float64), n)
    aoi = view.aoi(i_perp.shape[:2], theta, gain)
    r, t = separate_field(i_perp, i_par, aoi, n, denoise)
    return r, t, aoi.astype(np.float32)


def separate_field(i_perp: np.ndarray, i_par: np.ndarray, aoi: np.ndarray, n: float = GLASS,
                   denoise: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(R̂, T̂) of the canonical images (H, W, C) with an angle of incidence per pixel ``aoi`` (H, W), the
    reflection's amplified noise filtered out with ``denoise`` (see :func:`pane_separation`)."""
    i_perp, i_par = i_perp.astype(np.float64), i_par.astype(np.float64)
    r, t = separate_at(i_perp, i_par, aoi[..., None], n)
    if denoise:
        r_s, r_p = pane_reflectance(aoi[..., None].astype(np.float64), n)
        half_r = r / r_s  # I_R / 2, whose noise is the canonical images' over R'⊥ − R'∥
        det = r_s - r_p
        half_r = wiener(half_r, noise_variance(half_r * det, i_perp + i_par) / det ** 2)
        r, t = r_s * half_r, i_par - r_p * half_r
    return r.astype(np.float32), t.astype(np.float32)
