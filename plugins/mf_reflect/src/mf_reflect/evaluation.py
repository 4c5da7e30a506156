"""Scoring beyond the training generator: the independent synthesiser at three exposures, and real captures.

:func:`independent_scores` runs every method on captures of
:mod:`mf_reflect.independent` at several exposures (the same scenes at each)
and compares per capture, not only on average: how often the network loses to
Schechner's separation it could have kept, and to the best single input image
(doing nothing). :func:`real_rows` runs them on real polarisation-camera frames,
which have no ground truth, and reports what physics can still check: how
strongly each separated layer is polarised in the captures (the reflection
must be the more polarised: glass polarises what it reflects far more than
what it transmits) and whether a monochrome capture stays monochrome.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from mfcore.kit import IMAGE_SUFFIXES, files_in, read_image

from .baselines.pane import fold_canonical, separate_field
from .baselines.schechner import shrink
from .canonical import fit_matrix
from .captures import read_captures
from .independent import GLASS_KINDS, exact_separation, expose, scene_pair, si_psnr
from .methods import LABELS, Method, physics_holds, separate_with

#: Brightest pixel of the independent captures, as a fraction of full scale.
EXPOSURES = (0.25, 0.5, 0.9)
BEST_INPUT = "best single input image"
#: The reference no method can reach: eq. 5.2 inverted with the pane's true weights (the sensor-noise floor).
EXACT = "exact pane physics (noise floor)"
#: The pane's solve with the true angle of incidence and s direction at every pixel (glass index assumed, as every
#: method does): what knowing the glass's geometry is worth, between the methods and the noise floor.
GEOMETRY = "pane solve with the true geometry"
#: Rows that are references, not methods.
REFERENCES = (BEST_INPUT, EXACT, GEOMETRY)
#: Stem suffix of a reference transmission beside a real frame: ``frame.transmission.png`` for ``frame.png``.
REFERENCE = ".transmission"


def independent_scores(methods: Sequence[Method], model: Any, cases: int, seed: int,
                       exposures: Sequence[float] = EXPOSURES) -> dict[str, Any]:
    """Scale-invariant PSNR of T̂ and R̂ for each method, capture and exposure: {"t": {(label, exposure): [...]}, ...}.

    ``cases`` captures of each kind of glass (:data:`mf_reflect.independent.GLASS_KINDS`); ``"glass"`` lists the
    kind of each capture, in the order of every score list, and ``"one pane"`` whether its angles of
    polarisation show one pane (:func:`mf_reflect.methods.physics_holds`), per exposure.
    """
    t_scores: dict[tuple[str, float], list[float]] = {}
    r_scores: dict[tuple[str, float], list[float]] = {}
    kinds: list[str] = []
    fits: dict[float, list[bool]] = {}
    for k, glass in enumerate(GLASS_KINDS):
        rng = np.random.default_rng(seed if k == 0 else [seed, k])  # the flat captures as before curved ones
        for case in range(cases):
            pair = scene_pair(rng, glass=glass)
            kinds.append(glass)
            noise = [seed, case] if k == 0 else [seed, case, k]
            for exposure in exposures:
                capture = expose(pair, exposure, np.random.default_rng(noise))
                truth_t, truth_r = capture["transmission"], capture["reflection"]
                t_scores.setdefault((BEST_INPUT, exposure), []).append(
                    max(si_psnr(truth_t, o) for o in capture["observations"]))
                r, t = exact_separation(pair, capture["observations"])
                t_scores.setdefault((EXACT, exposure), []).append(si_psnr(truth_t, np.clip(t, 0.0, 1.0)))
                r_scores.setdefault((EXACT, exposure), []).append(si_psnr(truth_r, np.clip(r, 0.0, 1.0)))
                i_perp, i_par = fold_canonical(capture["observations"], capture["angles"], pair["pane"][2][..., 0])
                r, t = separate_field(i_perp, i_par, pair["aoi"])
                t_scores.setdefault((GEOMETRY, exposure), []).append(si_psnr(truth_t, np.clip(t, 0.0, 1.0)))
                r_scores.setdefault((GEOMETRY, exposure), []).append(si_psnr(truth_r, np.clip(r, 0.0, 1.0)))
                fits.setdefault(exposure, []).append(physics_holds(capture["observations"], capture["angles"]))
                for method in methods:
                    r, t = separate_with(method, capture["observations"], capture["angles"], model)
                    t_scores.setdefault((LABELS[method], exposure), []).append(si_psnr(truth_t, t))
                    r_scores.setdefault((LABELS[method], exposure), []).append(si_psnr(truth_r, r))
    return {"t": t_scores, "r": r_scores, "glass": kinds, "one pane": fits}


def independent_rows(scores: dict[str, Any], exposures: Sequence[float] = EXPOSURES) -> list[dict[str, Any]]:
    """One row per method: mean T̂ and R̂ scale-invariant PSNR at each exposure, the spread across them, and the
    mean T̂ on each kind of glass."""
    rows = []
    kinds = np.asarray(scores["glass"])
    for label in dict.fromkeys(label for label, _ in scores["t"]):
        t_means = [float(np.mean(scores["t"][(label, e)])) for e in exposures]
        row: dict[str, Any] = {"method": label}
        for e, m in zip(exposures, t_means):
            row[f"T̂ @{e:g}"] = round(m, 2)
        row["T̂ spread (dB)"] = round(max(t_means) - min(t_means), 2)
        for glass in dict.fromkeys(scores["glass"]):
            row[f"T̂ {glass} glass"] = round(float(np.mean([np.asarray(scores["t"][(label, e)])[kinds == glass]
                                                            for e in exposures])), 2)
        if (label, exposures[0]) in scores["r"]:
            row["R̂ (mean)"] = round(float(np.mean([np.mean(scores["r"][(label, e)]) for e in exposures])), 2)
        rows.append(row)
    return rows


def per_capture_losses(scores: dict[str, Any], label: str, against: str,
                       only: dict[float, list[bool]] | None = None) -> tuple[int, int, float]:
    """(captures × exposures where ``label``'s T̂ is below ``against``'s, their total, the largest deficit in dB),
    over the captures that ``only`` marks at each exposure, or all of them."""
    losses = total = 0
    worst = 0.0
    for (name, exposure), values in scores["t"].items():
        if name != label:
            continue
        pairs = zip(values, scores["t"][(against, exposure)])
        deficits = [b - a for i, (a, b) in enumerate(pairs) if only is None or only[exposure][i]]
        losses += sum(d > 0 for d in deficits)
        worst = max([worst, *deficits])
        total += len(deficits)
    return losses, total, worst


def layer_polarisation(reflection: np.ndarray, transmission: np.ndarray, images: np.ndarray,
                       angles: np.ndarray) -> tuple[float, float]:
    """Degree of polarisation of each separated layer, as the captures themselves show it.

    Each image is regressed on the two layers over all pixels, I_φ ≈ a_φ R̂ + b_φ T̂;
    a layer's coefficient varies with the polariser angle as eq. 5.3, and its
    degree of polarisation is that sinusoid's amplitude over its mean. Glass
    polarises the light it reflects strongly (about 0.5-1 between 30° and 70°
    of incidence) and the light it transmits weakly (under 0.2), so the layer
    with the larger degree is the reflection, whatever the scene.
    """
    design = np.stack([reflection.mean(axis=-1).ravel(), transmission.mean(axis=-1).ravel()], axis=1)
    targets = images.mean(axis=-1).reshape(len(images), -1).T
    coefficients = np.linalg.lstsq(design.astype(np.float64), targets.astype(np.float64), rcond=1e-6)[0]  # (2, N)
    a, b, c = fit_matrix(angles) @ coefficients.T  # (3, 2): per layer
    degree = np.hypot(b, c) / np.maximum(np.abs(a), 1e-12)
    return float(degree[0]), float(degree[1])


def real_frames(folder: Path) -> list[tuple[Path, Path | None]]:
    """The mosaic frames of ``folder``, each with its reference transmission if one lies beside it.

    ``<frame stem>.transmission.<ext>`` is another method's transmission of
    that frame (a published network's output, say), not a frame.
    """
    files = files_in(folder, IMAGE_SUFFIXES, "mosaic frames")
    references = {p.name[: -len(REFERENCE + p.suffix)]: p for p in files if p.stem.endswith(REFERENCE)}
    return [(p, references.get(p.stem)) for p in files if not p.stem.endswith(REFERENCE)]


def reference_correlation(layer: np.ndarray, reference: np.ndarray) -> float:
    """Pearson correlation of a separated layer (H, W, C) with a reference image of the same view.

    Another pipeline's output may be smaller and cropped (Lei et al.'s lose a
    few rows to their network's stride): the reference is scaled to fit inside
    the layer and compared at the shift that agrees best.
    """
    a = np.ascontiguousarray(layer.mean(axis=-1), dtype=np.float32)
    b = reference.mean(axis=-1) if reference.ndim == 3 else reference
    factor = min(a.shape[0] / b.shape[0], a.shape[1] / b.shape[1])
    size = (max(1, round(b.shape[1] * factor)), max(1, round(b.shape[0] * factor)))
    b = cv2.resize(np.ascontiguousarray(b, dtype=np.float32), size, interpolation=cv2.INTER_AREA)
    return float(cv2.matchTemplate(a, b, cv2.TM_CCOEFF_NORMED).max())  # Pearson correlation at every shift


def _three_channels(image: np.ndarray) -> np.ndarray:
    """A monochrome (H, W, 1) layer as grey RGB, so that mono and colour captures share one picture."""
    return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image


def real_rows(frames: Sequence[tuple[Path, Path | None]], methods: Sequence[Method], model: Any, side: int,
              pattern: str | None = None) -> tuple[list[dict[str, Any]], list[list[np.ndarray | None]]]:
    """Per real mosaic frame and method: physical checks, agreement with the frame's reference transmission if
    it has one; and the picture rows (inputs, then T̂, R̂ per method)."""
    rows, pictures = [], []
    for path, reference_path in frames:
        images, angles = read_captures([path], mosaic=True, pattern=pattern)
        reference = read_image(reference_path) if reference_path is not None else None
        shrunk = [shrink(im, side) for im in images]  # area-averaged, the longer side at most ``side``
        images = np.stack([im.reshape(*im.shape[:2], -1) for im in shrunk])
        images = images / float(images.max())
        cells: list[np.ndarray | None] = [_three_channels(im) for im in images]
        for method in methods:
            r, t = separate_with(method, images, angles, model)
            dop_r, dop_t = layer_polarisation(r, t, images, angles)
            rows.append({"capture": path.name, "method": LABELS[method], "polarisation of R̂": round(dop_r, 3),
                         "polarisation of T̂": round(dop_t, 3), "layers swapped": "yes" if dop_t > dop_r else "no",
                         "channels out": int(t.shape[-1]),
                         "T̂ vs reference": "" if reference is None else round(reference_correlation(t, reference), 3),
                         "R̂ vs reference": "" if reference is None else round(reference_correlation(r, reference), 3)})
            cells += [_three_channels(t), _three_channels(r)]
        pictures.append(cells)
    return rows, pictures
