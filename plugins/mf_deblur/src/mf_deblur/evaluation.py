"""Scoring beyond the training generator: independent synthetic bursts and real bursts, per burst.

:func:`burst_scores` runs FBA, the sharpest input frame (lucky imaging), the
RDN as ``mf run deblur`` runs it and FourierNet on the first k frames of each burst, and keeps
every burst's score, so that the benchmark can say how often and by how much
the network loses to the classical results it could have returned
(:func:`losses`), and whether more frames ever made it worse (:func:`drops`).
Real references are separate captures with their own exposure and white
balance, so estimates are first fitted to the reference by one affine map per
channel (:func:`photometric_fit`) before PSNR and SSIM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mfcore import InputError
from mfcore.kit import IMAGE_SUFFIXES, psnr, read_burst, read_image, ssim

from .baselines.fba import fba
from .fourier_inference import restore_burst
from .inference import deblur
from .model_io import burst_start
from .order import burst_sequence, sharpest_first

#: Method labels of the per-burst tables.
FBA, SHARPEST, RDN, MEAN = "FBA", "sharpest input frame", "RDN (mf run deblur)", "mean of frames"
FOURIERNET = "FourierNet"
#: Names a real burst's sharp reference may have (any image suffix).
REFERENCE_NAMES = ("reference", "sharp")


def photometric_fit(estimate: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``estimate`` mapped onto ``reference`` by the least-squares gain and offset of each channel."""
    fitted = np.empty(estimate.shape, np.float32)
    for c in range(estimate.shape[-1]):
        x, y = estimate[..., c].astype(np.float64).ravel(), reference[..., c].astype(np.float64).ravel()
        design = np.stack([x, np.ones_like(x)], axis=1)
        (gain, offset), *_ = np.linalg.lstsq(design, y, rcond=None)
        fitted[..., c] = (gain * estimate[..., c] + offset).astype(np.float32)
    return np.clip(fitted, 0.0, 1.0)


def rdn_burst(model: Any, card: dict[str, Any], frames: np.ndarray, **options: Any) -> np.ndarray:
    """The RDN's restoration of a burst as ``mf run deblur`` does it by default (sharpest first, and from FBA's
    fusion when the weights were trained to start there)."""
    return deblur(model, burst_sequence(sharpest_first(frames), burst_start(card)), **options)


def methods_on(model: Any, card: dict[str, Any], frames: np.ndarray, fourier: Any = None) -> dict[str, np.ndarray]:
    """Every method's estimate from ``frames`` (k, H, W, 3); FourierNet's where its network ``fourier`` is given."""
    out = {MEAN: frames.mean(axis=0), FBA: np.clip(fba(frames), 0.0, 1.0), SHARPEST: sharpest_first(frames)[0]}
    if model is not None:
        out[RDN] = rdn_burst(model, card, frames)
    if fourier is not None:
        out[FOURIERNET] = restore_burst(fourier, frames, out[FBA])
    return out


def burst_scores(model: Any, card: dict[str, Any], bursts: Sequence[tuple[np.ndarray, np.ndarray]],
                 counts: Callable[[int], Sequence[int]], fit: bool,
                 fourier: Any = None) -> dict[tuple[str, int], list[tuple[float, float]]]:
    """{(method, k): [(PSNR, SSIM) per burst]} over ``bursts`` of (sharp, frames), using the first k frames for
    each k in ``counts(len(frames))``; with ``fit``, each estimate is photometrically fitted first."""
    scores: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for sharp, frames in bursts:
        for k in counts(len(frames)):
            for method, image in methods_on(model, card, frames[:k], fourier).items():
                image = photometric_fit(image, sharp) if fit else np.clip(image, 0.0, 1.0)
                scores.setdefault((method, k), []).append((psnr(sharp, image), ssim(sharp, image)))
    return scores


def losses(scores: dict[tuple[str, int], list[tuple[float, float]]], against: str,
           method: str = RDN) -> tuple[int, int, float]:
    """(bursts × frame counts where ``method``'s PSNR is below ``against``'s, their total, the largest deficit)."""
    lost = total = 0
    worst = 0.0
    for (name, k), values in scores.items():
        if name != method:
            continue
        deficits = [b[0] - a[0] for a, b in zip(values, scores[(against, k)])]
        lost += sum(d > 0 for d in deficits)
        total += len(deficits)
        worst = max([worst, *deficits])
    return lost, total, worst


def drops(scores: dict[tuple[str, int], list[tuple[float, float]]], method: str = RDN) -> float:
    """The largest PSNR drop of ``method`` from fewer to more frames, over bursts and successive counts."""
    counts = sorted(k for m, k in scores if m == method)
    worst = 0.0
    for fewer, more in zip(counts, counts[1:]):
        worst = max([worst, *(a[0] - b[0] for a, b in zip(scores[(method, fewer)], scores[(method, more)]))])
    return worst


def score_rows(scores: dict[tuple[str, int], list[tuple[float, float]]]) -> list[dict[str, Any]]:
    """One row per method: mean PSNR / SSIM at each frame count."""
    counts = sorted({k for _, k in scores})
    rows = []
    for method in dict.fromkeys(m for m, _ in scores):
        row: dict[str, Any] = {"method": method}
        for k in counts:
            values = scores.get((method, k), [])
            row[f"{k} frames PSNR / SSIM"] = (f"{np.mean([v[0] for v in values]):.2f} / "
                                              f"{np.mean([v[1] for v in values]):.3f}") if values else ""
        rows.append(row)
    return rows


def _rgb(image: np.ndarray) -> np.ndarray:
    """Three channels: grey replicated, alpha dropped."""
    return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image[..., :3]


def real_bursts(folder: Path) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    """(name, frames, reference or None) of each sub-folder of ``folder``: its images are one burst's frames in
    name order, except one named ``reference.*`` or ``sharp.*``, the sharp reference."""
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder of bursts (one sub-folder of frames per burst)")
    found = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        images = sorted(p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        references = [p for p in images if p.stem.lower() in REFERENCE_NAMES]
        frames = [p for p in images if p not in references]
        if len(frames) < 2:
            continue
        reference = _rgb(read_image(references[0])) if references else None
        burst = _rgb(read_burst(frames))
        if reference is not None and reference.shape != burst.shape[1:]:
            raise InputError(f"{references[0]}: reference is {reference.shape[1]}x{reference.shape[0]}, its "
                             f"frames {burst.shape[2]}x{burst.shape[1]}")
        found.append((sub.name, burst, reference))
    if not found:
        raise InputError(f"{folder}: no sub-folder holds a burst of two or more frames")
    return found
