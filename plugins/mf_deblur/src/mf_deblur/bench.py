"""``mf bench deblur``: the Recurrent Deblur Network and FourierNet against FBA and the simple baselines.

Quality is measured on data the network never saw: bursts and clips built only
from ``HELD_OUT_PHOTOS`` (training uses ``TRAIN_PHOTOS``), with the same
synthesisers as training, 12 frames each.

* static bursts: one sharp crop, 12 GP camera shakes, read noise;
* dynamic clips: a scene (camera motion and moving objects) rendered from the
  held-out photos, motion-blurred by eq. 6.12, shaken, noisy; the target is the
  middle frame and frames are used centre-out, as a video is.

For k = 2, 3, 5, 8 and 12 frames it scores the mean of the frames, FBA (on
dynamic clips after ECC registration to the target, since FBA assumes aligned
frames) and the RDN after k-1 recurrent steps (and, for bursts, FourierNet), next to the target frame alone
(and, for bursts, the sharpest frame alone: the lucky-imaging baseline). The
RDN has two rows: the frames as given, and the frames as ``mf run deblur``
prepares them by default (bursts sorted sharpest first, video frames
registered to the target), so that what the preparation adds is visible. Each
target is reported as a mean over the paired cases with its standard error.
It also reports how the temporal skips' activations evolve over the steps
(frames as given), the sign of a recurrence that drifts. Speed: one RDN step
and FBA on 1280x720 frames, FourierNet on one channel of 14 frames of 1000x700 (the thesis's 5 minutes).

Beyond the training generator (:mod:`mf_deblur.evaluation`): bursts of the
independent synthesiser (:mod:`mf_deblur.independent`, ``--independent N``)
and real bursts (``--real DIR``, a sub-folder per burst, ``reference.*`` its
sharp reference) at 2, 3, 5 and all frames, with per-burst counts of where the RDN
or FourierNet falls below FBA or the sharpest frame and the largest drop when frames are
added. Memory: peak RSS against frame count and size (``--memory-size`` adds
sizes such as 3840x2160).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from mfcore import InputError, RunContext, all_backends
from mfcore.kit import (
    environment,
    keras_backend_for,
    load_model,
    pad_to_multiple,
    peak_rss,
    psnr,
    ssim,
    write_image,
    write_markdown,
)

from .align import align_to_first
from .baselines.fba import fba
from .evaluation import (
    FBA,
    FOURIERNET,
    RDN,
    SHARPEST,
    burst_scores,
    drops,
    losses,
    methods_on,
    rdn_burst,
    real_bursts,
    score_rows,
)
from .fourier_inference import STRIDE, restore_burst, restore_channel
from .independent import independent_burst
from .inference import MULTIPLE, deblur, deblur_steps, recurrence
from .model_io import FOURIERNET as FOURIERNET_SPEC
from .model_io import SHIPPED, SHIPPED_BURST, load_rdn
from .order import sharpest_first
from .synthesis.burst import static_sample
from .synthesis.dynamic import dynamic_sample
from .synthesis.kernels import SIZES, gp_kernel, kernel_sheet

FRAME_COUNTS = (2, 3, 5, 8, 12)
SPEED_SIZE = (720, 1280)
#: Frame counts of the independent bursts (8 frames each), and of real bursts (plus all their frames).
INDEPENDENT_COUNTS, REAL_COUNTS = (3, 5, 8), (2, 3, 5)
#: FourierNet's speed case: one channel of a burst of the size of Delbracio & Sapiro's (frames, height, width).
FOURIER_SPEED = (14, 700, 1000)
#: Frame counts and sizes (height, width) of the memory table.
MEMORY_COUNTS, MEMORY_SIZES = (3, 6, 12), ((512, 512), (701, 1101))


def _cases(kind: str, count: int, size: int, seed: int) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    make = static_sample if kind == "static" else dynamic_sample
    return [make(rng, size=size, frames=max(FRAME_COUNTS), noise=0.01, images="held-out") for _ in range(count)]


#: The RDN's rows: how its input is prepared, the last being what ``mf run deblur`` does by default.
RDN_ROWS = {"static": ("RDN, frames as given", "RDN, as mf run deblur prepares the burst"),
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


def _score(model: Any, burst: tuple[Any, dict[str, Any]], cases: list[dict[str, np.ndarray]],
           kind: str, fourier: Any = None) -> tuple[dict[str, dict[int, list]], dict]:
    """Per method and frame count, the (PSNR, SSIM) of every case; plus the images of case 0.

    ``model`` is the video RDN (rows "frames as given" and dynamic clips); ``burst`` the burst weights and
    their card, which restore static bursts as ``mf run deblur`` does; ``fourier`` FourierNet (static bursts).
    """
    with_fourier = fourier is not None and kind == "static"
    methods = ("mean", "FBA", *RDN_ROWS[kind], *((FOURIERNET,) if with_fourier else ()))
    scores: dict[str, dict[int, list]] = {m: {k: [] for k in FRAME_COUNTS} for m in methods}
    scores["target frame alone"] = {1: []}
    if kind == "static":
        scores["sharpest frame alone"] = {k: [] for k in FRAME_COUNTS}
    example: dict[str, np.ndarray] = {}
    for i, case in enumerate(cases):
        sharp, frames = case["sharp"], case["blurred"]
        prepared = _prepared(frames, kind)
        given, product = RDN_ROWS[kind]
        restored = ({k: rdn_burst(*burst, frames[:k]) for k in FRAME_COUNTS} if kind == "static"
                    else _rdn(model, prepared))
        estimates = {given: _rdn(model, {k: frames[:k] for k in FRAME_COUNTS}), product: restored}
        scores["target frame alone"][1].append((psnr(sharp, frames[0]), ssim(sharp, frames[0])))
        for k in FRAME_COUNTS:
            # FBA assumes aligned frames: dynamic clips get the registered ones (order does not matter to it)
            fused = np.clip(fba(prepared[k] if kind == "dynamic" else frames[:k]), 0, 1)
            images = {"mean": frames[:k].mean(axis=0), "FBA": fused, **{row: e[k] for row, e in estimates.items()}}
            if kind == "static":
                images["sharpest frame alone"] = prepared[k][0]
            if with_fourier:
                images[FOURIERNET] = restore_burst(fourier, frames[:k], fused)
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


def _targets(scores: dict[str, dict[int, list]], kind: str, networks: Sequence[str],
             need: float) -> list[dict[str, Any]]:
    """The issues' targets for each network row: its PSNR - FBA's at 5 frames (>= ``need``, or > 0 when ``need``
    is 0), and no drop from 5 to 12 frames."""
    rows = []
    for row in networks:
        gap, gap_text = _paired(_psnrs(scores, row, 5), _psnrs(scores, "FBA", 5))
        drift, drift_text = _paired(_psnrs(scores, row, 12), _psnrs(scores, row, 5))
        rows.append({"data": kind, "network": row, "network - FBA at 5 frames (dB)": gap_text,
                     "target": f">= {need:g} dB" if need else "> 0 dB",
                     "met": "yes" if gap >= need and (need or gap > 0) else "no",
                     "12 frames - 5 frames (dB)": drift_text,
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


def _per_burst_targets(scores: dict, data: str, fba_at: Sequence[int], gap: float,
                       sharpest_at: Sequence[int], method: str = RDN) -> list[dict[str, Any]]:
    """Target rows of ``method``: its mean - FBA's at ``fba_at`` frames (>= ``gap``), >= the sharpest frame at
    ``sharpest_at``, per-burst losses, and the largest drop from fewer to more frames."""
    name = "RDN" if method == RDN else method
    rows = []
    for k in fba_at:
        diff = float(np.mean([a[0] - b[0] for a, b in zip(scores[(method, k)], scores[(FBA, k)])]))
        rows.append({"data": data, "target": f"{name} - FBA at {k} frames >= {gap:g} dB", "measured": f"{diff:.2f}",
                     "met": "yes" if diff >= gap else "no"})
    for k in sharpest_at:
        diff = float(np.mean([a[0] - b[0] for a, b in zip(scores[(method, k)], scores[(SHARPEST, k)])]))
        rows.append({"data": data, "target": f"{name} - sharpest input at {k} frames >= 0 dB",
                     "measured": f"{diff:.2f}", "met": "yes" if diff >= 0 else "no"})
    for against in (FBA, SHARPEST):
        lost, total, worst = losses(scores, against, method)
        rows.append({"data": data, "target": f"per burst and frame count: {name} never below {against}",
                     "measured": f"{lost} of {total} below (worst by {worst:.2f} dB)",
                     "met": "yes" if not lost else "no"})
    drop = drops(scores, method)
    rows.append({"data": data, "target": f"more frames never lower the {name} by more than 0.1 dB",
                 "measured": f"largest drop {drop:.2f} dB", "met": "yes" if drop <= 0.1 else "no"})
    return rows


def _independent(model: Any, card: dict[str, Any], count: int, size: int, seed: int,
                 fourier: Any = None) -> tuple[list, list]:
    """Rows and targets on bursts of :mod:`mf_deblur.independent` (8 frames each)."""
    rng = np.random.default_rng(seed)
    bursts = []
    for _ in range(count):
        burst = independent_burst(rng, size, max(INDEPENDENT_COUNTS))
        bursts.append((burst["sharp"], burst["blurred"]))
    scores = burst_scores(model, card, bursts, lambda n: INDEPENDENT_COUNTS, fit=False, fourier=fourier)
    targets = _per_burst_targets(scores, "independent", (5,), 1.5, (3,))
    if fourier is not None:
        targets += _per_burst_targets(scores, "independent", INDEPENDENT_COUNTS, 0.0, (3,), FOURIERNET)
    return score_rows(scores), targets


def _real(model: Any, card: dict[str, Any], folder: Path, picture: Path | None,
          fourier: Any = None) -> tuple[list, list]:
    """Rows and targets on real bursts with a reference (photometrically fitted), and a picture of every burst."""
    found = real_bursts(folder)
    rows: list[dict[str, Any]] = []
    targets: list[dict[str, Any]] = []
    for name, frames, reference in found:
        if reference is None:
            continue
        scores = burst_scores(model, card, [(reference, frames)], lambda n: (*REAL_COUNTS, n), fit=True,
                              fourier=fourier)
        rows += [{"burst": f"{name} ({len(frames)} frames, {frames.shape[2]}x{frames.shape[1]})", **row}
                 for row in score_rows(scores)]
        # the issues' columns: 3, 5 and all frames (RDN), 2, 3, 5 and all (FourierNet, thesis figure 6.10)
        targets += _per_burst_targets(scores, f"real: {name}", (5, len(frames)), 0.0, (3,))
        if fourier is not None:
            targets += _per_burst_targets(scores, f"real: {name}", (*REAL_COUNTS, len(frames)), 0.0, (3,),
                                          FOURIERNET)
    if picture is not None:
        strips = []
        for name, frames, reference in found:
            images = methods_on(model, card, frames, fourier)
            columns = [frames[0], images[SHARPEST], images[FBA]] + [images[m] for m in (RDN, FOURIERNET) if m in images]
            columns += [reference] if reference is not None else []
            strips.append(_row_of(columns, height=256))
        width = max(s.shape[1] for s in strips)
        strips = [np.pad(s, ((0, 4), (0, width - s.shape[1]), (0, 0)), constant_values=1.0) for s in strips]
        write_image(picture, np.concatenate(strips)[:-4])
    return rows, targets


def _row_of(images: list[np.ndarray], height: int) -> np.ndarray:
    """Images scaled to ``height`` px and set side by side with 4 px gaps."""
    import cv2

    scaled = [cv2.resize(np.clip(i, 0, 1).astype(np.float32), (round(i.shape[1] * height / i.shape[0]), height),
                         interpolation=cv2.INTER_AREA) for i in images]
    gap = np.ones((height, 4, 3), np.float32)
    return np.concatenate([x for image in scaled for x in (image, gap)][:-1], axis=1)


def _fourier_speed(fourier: Any) -> dict[str, Any]:
    """Seconds FourierNet takes for one channel of a 14-frame 1000x700 burst at the default stride."""
    frames = np.random.default_rng(2).random(FOURIER_SPEED, dtype=np.float32)
    start = time.perf_counter()
    restore_channel(fourier, frames)
    n, h, w = FOURIER_SPEED
    return {"method": "FourierNet, one channel (thesis: about 300 s)", "backend": "keras", "frames": str(n),
            "size": f"{w}x{h}", "median s": round(time.perf_counter() - start, 1)}


def _memory(model: Any, sizes: Sequence[tuple[int, int]]) -> list[dict[str, Any]]:
    """Peak RSS of ``deblur`` (the whole process, and its rise during the call) against frame count and size."""
    rows = []
    rng = np.random.default_rng(0)
    for h, w in sizes:
        for count in MEMORY_COUNTS:
            frames = rng.random((count, h, w, 3), dtype=np.float32)
            start = time.perf_counter()
            with peak_rss() as measured:
                deblur(model, frames)
            rows.append({"frames": count, "size": f"{w}x{h}", "peak RSS (GiB)": round(measured.peak / 2**30, 2),
                         "rise during the call (GiB)": round(measured.growth / 2**30, 2),
                         "seconds": round(time.perf_counter() - start, 1)})
    return rows


def _size(text: str) -> tuple[int, int]:
    """"WIDTHxHEIGHT" → (height, width); one-line error otherwise."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError(f"--memory-size {text!r}: expected WIDTHxHEIGHT, e.g. 3840x2160") from None
    return height, width


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
    weights: Annotated[Path | None, typer.Option(help="RDN weights for videos (default: the shipped ones).")]
    = None,
    burst_weights: Annotated[Path | None, typer.Option(help="RDN weights for bursts (default: the shipped "
                                                            "ones).")] = None,
    repeats: Annotated[int, typer.Option(min=1, help="Timed repetitions per speed case.")] = 3,
    markdown: Annotated[Path | None, typer.Option(help="Write the tables to this Markdown file.")] = None,
    strip: Annotated[Path | None, typer.Option(help="Write a picture strip (PNG) of one case of each kind.")] = None,
    kernels: Annotated[Path | None, typer.Option(help="Write a sheet of GP camera-shake kernels (PNG, fig. 6.3).")]
    = None,
    independent: Annotated[int, typer.Option(min=0, help="Bursts of the independent synthesiser "
                                                          "(mf_deblur.independent), 8 frames each.")] = 12,
    real: Annotated[Path | None, typer.Option(help="Folder of real bursts, one sub-folder each; a frame named "
                                                   "reference.* or sharp.* is that burst's sharp reference.")] = None,
    real_picture: Annotated[Path | None, typer.Option(help="With --real: a PNG of every burst (first frame, "
                                                           "sharpest frame, FBA, RDN, FourierNet, reference).")] = None,
    memory: Annotated[bool, typer.Option(help="Measure peak RSS against frame count and size.")] = True,
    memory_size: Annotated[list[str] | None, typer.Option(help="Extra WIDTHxHEIGHT for the memory table "
                                                               "(repeatable), e.g. 3840x2160.")] = None,
    fourier_weights: Annotated[Path | None, typer.Option(help="FourierNet weights (default: the shipped ones).")]
    = None,
    fouriernet: Annotated[bool, typer.Option(help="Also score FourierNet on static, independent and real "
                                                  "bursts.")] = True,
    fourier_speed: Annotated[bool, typer.Option(help="Time FourierNet on one channel of a 14-frame 1000x700 burst "
                                                     "(minutes on a CPU).")] = True,
) -> dict[str, Any]:
    """RDN and FourierNet against FBA, the mean and the target frame on held-out bursts and clips; speed."""
    model, card = load_rdn(ctx, weights or SHIPPED)
    burst_model, burst_card = load_rdn(ctx, burst_weights or SHIPPED_BURST)
    fourier, fourier_card = load_model(FOURIERNET_SPEC, ctx, fourier_weights) if fouriernet else (None, {})
    sizes = [*MEMORY_SIZES, *(_size(text) for text in memory_size or [])]
    real_rows, real_targets = (_real(burst_model, burst_card, real, real_picture, fourier) if real is not None
                               else ([], []))
    independent_rows, independent_targets = (_independent(burst_model, burst_card, independent, size, ctx.seed + 7,
                                                           fourier) if independent else ([], []))
    tables, targets, examples, spreads = {}, [], {}, []
    for offset, kind in enumerate(("static", "dynamic")):
        cases = _cases(kind, bursts, size, ctx.seed + offset)
        scores, examples[kind] = _score(model, (burst_model, burst_card), cases, kind, fourier)
        tables[kind] = _table(scores)
        spreads.append({"data": kind, **_skip_spread(model, cases)})
        targets += _targets(scores, kind, RDN_ROWS[kind], 2.0 if kind == "static" else 0.0)
        if fourier is not None and kind == "static":  # issue 34: FourierNet >= FBA + 1 dB at 5 frames
            targets += _targets(scores, kind, (FOURIERNET,), 1.0)
    speed = _speed(model, keras_backend_for(ctx), repeats)
    if fourier is not None and fourier_speed:
        speed.append(_fourier_speed(fourier))
    memory_rows = _memory(model, sizes) if memory else []
    weights_name = str(weights or "shipped rdn.weights.h5")
    burst_name = str(burst_weights or "shipped rdn_burst.weights.h5")
    command = (f"mf bench deblur --bursts {bursts} --size {size} --repeats {repeats} --independent {independent}"
               + (f" --weights {weights}" if weights else "")
               + (f" --burst-weights {burst_weights}" if burst_weights else "") + (f" --real {real}" if real else "")
               + (f" --real-picture {real_picture}" if real_picture else "")
               + "".join(f" --memory-size {m}" for m in memory_size or []) + ("" if memory else " --no-memory")
               + (f" --fourier-weights {fourier_weights}" if fourier_weights else "")
               + ("" if fouriernet else " --no-fouriernet") + ("" if fourier_speed else " --no-fourier-speed")
               + f" --backend {ctx.backend.name}")
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
        generalisation = [
            ("Targets beyond the training generator", "Independent synthetic bursts and real bursts, per burst; the "
             "RDN as mf run deblur runs it by default (burst weights).", independent_targets + real_targets),
            ("Independent synthetic bursts (the deciding benchmark)",
             f"{independent} bursts of 8 frames, {size}x{size} px, from mf_deblur.independent (inertial camera "
             "trajectories of 1-17 px, blur in linear light, shot and read noise, per-frame exposure, residual "
             "sub-pixel misregistration, sRGB, 8 bits, JPEG 75-95; held-out photographs and the moon). No training "
             "run uses this generator. Mean PSNR (dB) / SSIM against the truth.", independent_rows),
            ("Real bursts", "Bursts of --real with a sharp reference; every estimate is fitted to the reference by "
             "a gain and offset per channel first (the reference is another exposure). The picture "
             f"{real_picture.name if real_picture else '(not written)'} shows every burst: first frame, sharpest "
             "frame, FBA, RDN, FourierNet (and the reference).", real_rows),
            ("Memory", "Peak resident memory of the whole process while `deblur` fuses random frames (the RDN "
             "keeps only its state; frames over the --max-memory budget, 2 GiB by default, are tiled), and its "
             "rise during the call.", memory_rows),
        ]
        sections = [*[section for section in generalisation if section[2]],
            ("Targets", f"Weights: {weights_name} (width {card.get('width')}, preset {card.get('preset', '?')}, "
                        f"{card.get('trained_steps', '?')} steps) for videos and frames as given, "
                        f"{burst_name} ({burst_card.get('trained_steps', '?')} steps, refining FBA) for bursts "
                        "as mf run deblur prepares them. Differences are means over the "
                        "paired cases ± their standard error; the RDN rows named after mf run deblur are what "
                        "it does by default."
                        + (f" FourierNet: {fourier_weights or 'shipped fouriernet.weights.h5'} (width "
                           f"{fourier_card.get('width')}, {fourier_card.get('trained_steps', '?')} steps), patches "
                           f"every {STRIDE} px, colours from FBA's Lab a, b." if fourier is not None else "")
                        + picture, targets),
            ("Static bursts (camera shake only)", static_note, tables["static"]),
            ("Dynamic clips (moving objects, camera motion, shake)", dynamic_note, tables["dynamic"]),
            ("Temporal skips", "Standard deviation of the temporal-skip activations the next step blends in, "
                               "after k frames (mean over the three skips and the cases above): level means a "
                               "stable recurrence, growth means one that drifts on long sequences.", spreads),
            ("Speed", "Median seconds on this machine, including the copy back to NumPy.", speed),
        ]
        write_markdown(markdown, "Burst and video deblurring benchmark (RDN and FourierNet vs FBA)", command, env,
                       sections)
    return {"command": command, **env, "targets": targets, "generalisation_targets": independent_targets + real_targets,
            "independent": independent_rows, "real": real_rows, "memory": memory_rows, "static": tables["static"],
            "dynamic": tables["dynamic"], "temporal_skips": spreads, "speed": speed,
            "weights": weights_name, "burst_weights": burst_name}
