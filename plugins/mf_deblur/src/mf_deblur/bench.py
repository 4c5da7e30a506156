"""``mf bench deblur``: the Recurrent Deblur Network against FBA and the simple baselines.

Quality is measured on data the network never saw: bursts and clips built only
from ``HELD_OUT_PHOTOS`` (training uses ``TRAIN_PHOTOS``), with the same
synthesisers as training, 12 frames each.

* static bursts: one sharp crop, 12 GP camera shakes, read noise;
* dynamic clips: a scene (camera motion and moving objects) rendered from the
  held-out photos, motion-blurred by eq. 6.12, shaken, noisy; the target is the
  middle frame and frames are used centre-out, as a video is.

For k = 2, 3, 5, 8 and 12 frames it scores the mean of the frames, FBA (on
dynamic clips after ECC registration to the target, since FBA assumes aligned
frames) and the RDN after k-1 recurrent steps, next to the target frame alone
(and, for bursts, the sharpest frame alone: the lucky-imaging baseline). The
RDN has two rows: the frames as given, and the frames as ``mf run deblur``
prepares them by default (bursts sorted sharpest first, video frames
registered to the target), so that what the preparation adds is visible. Each
target is reported as a mean over the paired cases with its standard error.
It also reports how the temporal skips' activations evolve over the steps
(frames as given), the sign of a recurrence that drifts. Speed: one RDN step
and FBA on 1280x720 frames.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from mfcore import RunContext, all_backends
from mfcore.kit import environment, keras_backend_for, pad_to_multiple, psnr, ssim, write_image, write_markdown

from .align import align_to_first
from .baselines.fba import fba
from .inference import MULTIPLE, deblur_steps, recurrence
from .model_io import SHIPPED, load_rdn
from .order import sharpest_first
from .synthesis.burst import static_sample
from .synthesis.dynamic import dynamic_sample
from .synthesis.kernels import SIZES, gp_kernel, kernel_sheet

FRAME_COUNTS = (2, 3, 5, 8, 12)
SPEED_SIZE = (720, 1280)


def _cases(kind: str, count: int, size: int, seed: int) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    make = static_sample if kind == "static" else dynamic_sample
    return [make(rng, size=size, frames=max(FRAME_COUNTS), noise=0.01, images="held-out") for _ in range(count)]


#: The RDN's rows: how its input is prepared, the last being what ``mf run deblur`` does by default.
RDN_ROWS = {"static": ("RDN, frames as given", "RDN, sharpest first (mf run deblur)"),
            "dynamic": ("RDN, frames as given", "RDN, ECC-registered (mf run deblur)")}


def _prepared(frames: np.ndarray, kind: str) -> dict[int, np.ndarray]:
    """Per frame count k, the first k frames as ``mf run deblur`` prepares them (target first).

    Static bursts: sorted sharpest first (:mod:`mf_deblur.order`; the target
    changes with k). Dynamic clips: registered to the target by ECC, once for all
    k, as for videos (a frame that does not register stays as it is).
    """
    if kind == "static":
        return {k: sharpest_first(frames[:k]) for k in FRAME_COUNTS}
    registered = align_to_first(frames, "ecc", strict=False)
    return {k: registered[:k] for k in FRAME_COUNTS}


def _rdn(model: Any, sequences: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """The RDN's estimate after each k frames; one pass when the sequences are prefixes of the longest."""
    longest = sequences[max(FRAME_COUNTS)]
    if all(np.array_equal(sequences[k], longest[:k]) for k in FRAME_COUNTS):
        steps = np.clip(deblur_steps(model, longest), 0, 1)
        return {k: steps[k - 2] for k in FRAME_COUNTS}
    return {k: np.clip(deblur_steps(model, sequence)[-1], 0, 1) for k, sequence in sequences.items()}


def _score(model: Any, cases: list[dict[str, np.ndarray]], kind: str) -> tuple[dict[str, dict[int, list]], dict]:
    """Per method and frame count, the (PSNR, SSIM) of every case; plus the images of case 0."""
    methods = ("mean", "FBA", *RDN_ROWS[kind])
    scores: dict[str, dict[int, list]] = {m: {k: [] for k in FRAME_COUNTS} for m in methods}
    scores["target frame alone"] = {1: []}
    if kind == "static":
        scores["sharpest frame alone"] = {k: [] for k in FRAME_COUNTS}
    example: dict[str, np.ndarray] = {}
    for i, case in enumerate(cases):
        sharp, frames = case["sharp"], case["blurred"]
        prepared = _prepared(frames, kind)
        given, product = RDN_ROWS[kind]
        estimates = {given: _rdn(model, {k: frames[:k] for k in FRAME_COUNTS}), product: _rdn(model, prepared)}
        scores["target frame alone"][1].append((psnr(sharp, frames[0]), ssim(sharp, frames[0])))
        for k in FRAME_COUNTS:
            # FBA assumes aligned frames: dynamic clips get the registered ones (order does not matter to it)
            fused = np.clip(fba(prepared[k] if kind == "dynamic" else frames[:k]), 0, 1)
            images = {"mean": frames[:k].mean(axis=0), "FBA": fused, **{row: e[k] for row, e in estimates.items()}}
            if kind == "static":
                images["sharpest frame alone"] = prepared[k][0]
            for method, image in images.items():
                scores[method][k].append((psnr(sharp, image), ssim(sharp, image)))
            if i == 0 and k in (5, 12):
                example[f"FBA {k}"], example[f"RDN {k}"] = fused, images[product]
        if i == 0:
            example["sharp"], example["target frame"] = sharp, frames[0]
    return scores, example


def _skip_spread(model: Any, cases: list[dict[str, np.ndarray]]) -> dict[str, Any]:
    """Mean standard deviation of the temporal-skip activations after k frames, over cases and skips.

    A recurrence that is stable keeps it roughly level as frames are added; one that grows with k
    (as the RDN trained with batch statistics only did on dynamic clips) drifts on long sequences.
    """
    from keras import ops

    spread = np.zeros(max(FRAME_COUNTS) - 1)
    for case in cases:
        padded, _, _ = pad_to_multiple(case["blurred"], MULTIPLE)
        spread += [np.mean([np.std(ops.convert_to_numpy(s)) for s in skips]) for _, skips in recurrence(model, padded)]
    spread /= len(cases)
    return {f"{k} frames": round(float(spread[k - 2]), 2) for k in FRAME_COUNTS}


def _table(scores: dict[str, dict[int, list]]) -> list[dict[str, Any]]:
    rows = []
    for method, by_k in scores.items():
        row: dict[str, Any] = {"method": method}
        for k in FRAME_COUNTS:
            values = by_k.get(k) or by_k.get(1)
            p, s = np.mean([v[0] for v in values]), np.mean([v[1] for v in values])
            row[f"{k} frames PSNR / SSIM"] = f"{p:.2f} / {s:.3f}"
        rows.append(row)
    return rows


def _psnrs(scores: dict[str, dict[int, list]], method: str, k: int) -> np.ndarray:
    return np.array([v[0] for v in scores[method][k]])


def _paired(a: np.ndarray, b: np.ndarray) -> tuple[float, str]:
    """Mean of a - b over the cases, and "mean ± standard error" of it (the cases are paired).

    One case has no standard error: the text is then the mean alone.
    """
    d = a - b
    if len(d) < 2:
        return float(d.mean()), f"{d.mean():.2f}"
    return float(d.mean()), f"{d.mean():.2f} ± {d.std(ddof=1) / np.sqrt(len(d)):.2f}"


def _targets(scores: dict[str, dict[int, list]], kind: str) -> list[dict[str, Any]]:
    """The issue's targets for each RDN row: RDN - FBA at 5 frames, and no drop from 5 to 12 frames."""
    need = 2.0 if kind == "static" else 0.0
    rows = []
    for row in RDN_ROWS[kind]:
        gap, gap_text = _paired(_psnrs(scores, row, 5), _psnrs(scores, "FBA", 5))
        drift, drift_text = _paired(_psnrs(scores, row, 12), _psnrs(scores, row, 5))
        rows.append({"data": kind, "RDN": row, "RDN - FBA at 5 frames (dB)": gap_text,
                     "target": f">= {need:g} dB" if need else "> 0 dB",
                     "met": "yes" if gap >= need and (need or gap > 0) else "no",
                     "RDN 12 frames - RDN 5 frames (dB)": drift_text,
                     "no drop from 5 to 12": "yes" if drift >= 0 else "no"})
    return rows


def _speed(model: Any, keras_name: str, repeats: int) -> list[dict[str, Any]]:
    h, w = SPEED_SIZE
    frames = np.random.default_rng(0).random((2, h, w, 3), dtype=np.float32)
    deblur_steps(model, frames)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        deblur_steps(model, frames)
        times.append(time.perf_counter() - start)
    rows = [{"method": "RDN, one recurrent step", "backend": f"keras on {keras_name}",
             "frames": "2", "size": f"{w}x{h}", "median s": round(float(np.median(times)), 3)}]
    five = np.random.default_rng(1).random((5, h, w, 3), dtype=np.float32)
    for name in ("numpy", "torch", "cupy"):
        backend = all_backends().get(name)
        if backend is None or not backend.is_available():
            continue
        on_device = backend.asarray(five)
        backend.to_numpy(fba(on_device))
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            backend.to_numpy(fba(on_device))
            times.append(time.perf_counter() - start)
        rows.append({"method": "FBA", "backend": f"{name} ({backend.device()})", "frames": "5",
                     "size": f"{w}x{h}", "median s": round(float(np.median(times)), 3)})
    return rows


def _strip(examples: dict[str, dict[str, np.ndarray]], path: Path) -> list[str]:
    """One row per kind: sharp, target frame, FBA 5, RDN 5, FBA 12, RDN 12."""
    columns = ["sharp", "target frame", "FBA 5", "RDN 5", "FBA 12", "RDN 12"]
    rows = []
    for example in examples.values():
        pad = np.ones((example["sharp"].shape[0], 4, 3), np.float32)
        rows.append(np.concatenate([x for c in columns for x in (np.clip(example[c], 0, 1), pad)][:-1], axis=1))
    gap = np.ones((4, rows[0].shape[1], 3), np.float32)
    write_image(path, np.concatenate([x for r in rows for x in (r, gap)][:-1], axis=0))
    return columns


def bench(
    ctx: RunContext,
    bursts: Annotated[int, typer.Option(min=1, help="Static bursts and dynamic clips, each.")] = 12,
    size: Annotated[int, typer.Option(min=32, help="Crop size in pixels (a multiple of 8 is fastest).")] = 192,
    weights: Annotated[Path | None, typer.Option(help="RDN weights (default: the shipped ones).")] = None,
    repeats: Annotated[int, typer.Option(min=1, help="Timed repetitions per speed case.")] = 3,
    markdown: Annotated[Path | None, typer.Option(help="Write the tables to this Markdown file.")] = None,
    strip: Annotated[Path | None, typer.Option(help="Write a picture strip (PNG) of one case of each kind.")] = None,
    kernels: Annotated[Path | None, typer.Option(help="Write a sheet of GP camera-shake kernels (PNG, fig. 6.3).")]
    = None,
) -> dict[str, Any]:
    """RDN against FBA, the mean and the target frame on held-out bursts and clips; speed at 1280x720."""
    model, card = load_rdn(ctx, weights or SHIPPED)
    tables, targets, examples, spreads = {}, [], {}, []
    for offset, kind in enumerate(("static", "dynamic")):
        cases = _cases(kind, bursts, size, ctx.seed + offset)
        scores, examples[kind] = _score(model, cases, kind)
        tables[kind] = _table(scores)
        spreads.append({"data": kind, **_skip_spread(model, cases)})
        targets += _targets(scores, kind)
    speed = _speed(model, keras_backend_for(ctx), repeats)
    weights_name = str(weights or "shipped rdn.weights.h5")
    command = (f"mf bench deblur --bursts {bursts} --size {size} --repeats {repeats}"
               + (f" --weights {weights}" if weights else "") + f" --backend {ctx.backend.name}")
    env = environment(("mf-core", "mf-deblur", "keras", "torch", "tensorflow", "numpy", "opencv-python-headless"))
    if strip is not None:
        columns = _strip(examples, strip)
    if kernels is not None:
        rng = np.random.default_rng(ctx.seed)
        write_image(kernels, kernel_sheet([gp_kernel(rng, SIZES[i % len(SIZES)]) for i in range(32)]))
    if markdown is not None:
        note = (f"{bursts} cases of {size}x{size} px from the held-out photographs (never used in training); "
                "cells are mean PSNR (dB) / SSIM.")
        static_note = (note + " Frames as given: the first frame is the target; sharpest first: the k frames "
                       "sorted by mean gradient, the sharpest the target. The sharpest frame alone is the "
                       "sharpest of the first k.")
        dynamic_note = (note + " The target is the middle frame, the others follow by distance. FBA and the "
                        "registered RDN get the frames ECC-registered to the target (a frame that does not "
                        "register stays as it is).")
        picture = "" if strip is None else (f"\n\n![strip]({strip.name})\n\nThe strip, rows: static burst, dynamic "
                                            "clip; columns: " + ", ".join(columns) + ".")
        sections = [
            ("Targets", f"Weights: {weights_name} (width {card.get('width')}, preset {card.get('preset', '?')}, "
                        f"{card.get('trained_steps', '?')} steps). Differences are means over the "
                        "paired cases ± their standard error; the RDN rows named after mf run deblur are what "
                        f"it does by default.{picture}", targets),
            ("Static bursts (camera shake only)", static_note, tables["static"]),
            ("Dynamic clips (moving objects, camera motion, shake)", dynamic_note, tables["dynamic"]),
            ("Temporal skips", "Standard deviation of the temporal-skip activations the next step blends in, "
                               "after k frames (mean over the three skips and the cases above): level means a "
                               "stable recurrence, growth means one that drifts on long sequences.", spreads),
            ("Speed", "Median seconds on this machine, including the copy back to NumPy.", speed),
        ]
        write_markdown(markdown, "Burst and video deblurring benchmark (RDN vs FBA)", command, env, sections)
    return {"command": command, **env, "targets": targets, "static": tables["static"],
            "dynamic": tables["dynamic"], "temporal_skips": spreads, "speed": speed,
            "weights": weights_name}
