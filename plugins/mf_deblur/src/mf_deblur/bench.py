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
frames) and the RDN after k-1 recurrent steps (one pass over 12 frames yields
every k), next to the target frame alone. It also reports how the temporal
skips' activations evolve over the steps, the sign of a recurrence that drifts.
Speed: one RDN step and FBA on 1280x720 frames.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from mfcore.backends import all_backends
from mfcore.bench_report import environment, write_markdown
from mfcore.errors import InputError
from mfcore.images import write_image
from mfcore.keras_models import keras_backend_for
from mfcore.metrics import psnr, ssim
from mfcore.task import RunContext
from mfcore.tiling import pad_to_multiple

from .align import align_to_first
from .burst import static_sample
from .dynamic import dynamic_sample
from .fba import fba
from .inference import MULTIPLE, deblur_steps, recurrence
from .kernels import SIZES, gp_kernel, kernel_sheet
from .model_io import SHIPPED, load_rdn

FRAME_COUNTS = (2, 3, 5, 8, 12)
SPEED_SIZE = (720, 1280)


def _cases(kind: str, count: int, size: int, seed: int) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    make = static_sample if kind == "static" else dynamic_sample
    return [make(rng, size=size, frames=max(FRAME_COUNTS), noise=0.01, images="held-out") for _ in range(count)]


def _fba(frames: np.ndarray, kind: str) -> tuple[np.ndarray, bool]:
    """FBA of the frames; dynamic frames are registered to the target first (falls back to none)."""
    if kind == "dynamic":
        try:
            return np.clip(fba(align_to_first(frames, "ecc")), 0, 1), True
        except InputError:
            return np.clip(fba(frames), 0, 1), False
    return np.clip(fba(frames), 0, 1), True


def _score(model: Any, cases: list[dict[str, np.ndarray]], kind: str) -> tuple[dict[str, dict[int, list]], dict]:
    """Per method and frame count, the (PSNR, SSIM) of every case; plus the images of case 0."""
    scores: dict[str, dict[int, list]] = {m: {k: [] for k in FRAME_COUNTS} for m in ("mean", "FBA", "RDN")}
    scores["target frame alone"] = {1: []}
    example: dict[str, np.ndarray] = {}
    for i, case in enumerate(cases):
        sharp, frames = case["sharp"], case["blurred"]
        steps = np.clip(deblur_steps(model, frames), 0, 1)
        scores["target frame alone"][1].append((psnr(sharp, frames[0]), ssim(sharp, frames[0])))
        for k in FRAME_COUNTS:
            fused, _ = _fba(frames[:k], kind)
            for method, image in (("mean", frames[:k].mean(axis=0)), ("FBA", fused), ("RDN", steps[k - 2])):
                scores[method][k].append((psnr(sharp, image), ssim(sharp, image)))
            if i == 0 and k in (5, 12):
                example[f"FBA {k}"], example[f"RDN {k}"] = fused, steps[k - 2]
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


def _mean_psnr(scores: dict[str, dict[int, list]], method: str, k: int) -> float:
    return float(np.mean([v[0] for v in scores[method][k]]))


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
        gap5 = _mean_psnr(scores, "RDN", 5) - _mean_psnr(scores, "FBA", 5)
        drift = _mean_psnr(scores, "RDN", 12) - _mean_psnr(scores, "RDN", 5)
        need = 2.0 if kind == "static" else 0.0
        targets.append({"data": kind, "RDN - FBA at 5 frames (dB)": round(gap5, 2),
                        "target": f">= {need:g} dB" if need else "> 0 dB",
                        "met": "yes" if gap5 >= need and (need or gap5 > 0) else "no",
                        "RDN 12 frames - RDN 5 frames (dB)": round(drift, 2),
                        "no drop from 5 to 12": "yes" if drift >= 0 else "no"})
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
                "cells are mean PSNR (dB) / SSIM. Frames are used target first, then neighbours by distance.")
        picture = "" if strip is None else (f"\n\n![strip]({strip.name})\n\nThe strip, rows: static burst, dynamic "
                                            "clip; columns: " + ", ".join(columns) + ".")
        sections = [
            ("Targets", f"Weights: {weights_name} (width {card.get('width')}, preset {card.get('preset', '?')}, "
                        f"{card.get('trained_steps', '?')} steps).{picture}", targets),
            ("Static bursts (camera shake only)", note, tables["static"]),
            ("Dynamic clips (moving objects, camera motion, shake)", note + " FBA is given ECC-registered frames.",
             tables["dynamic"]),
            ("Temporal skips", "Standard deviation of the temporal-skip activations the next step blends in, "
                               "after k frames (mean over the three skips and the cases above): level means a "
                               "stable recurrence, growth means one that drifts on long sequences.", spreads),
            ("Speed", "Median seconds on this machine, including the copy back to NumPy.", speed),
        ]
        write_markdown(markdown, "Burst and video deblurring benchmark (RDN vs FBA)", command, env, sections)
    return {"command": command, **env, "targets": targets, "static": tables["static"],
            "dynamic": tables["dynamic"], "temporal_skips": spreads, "speed": speed,
            "weights": weights_name}
