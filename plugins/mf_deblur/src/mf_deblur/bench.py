"""``mf bench deblur``: FBA quality against its baselines, and its speed on every backend.

Quality: synthetic camera-shake bursts of scikit-image's bundled photos (the
same synthesiser as ``mf synth deblur``), PSNR/SSIM of FBA against the two
baselines it claims to beat, the mean of the aligned frames and the best
single frame (lucky imaging). Speed: FBA on random bursts at several sizes on
each available backend among numpy, torch and cupy, in one run.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from mfcore.backends import all_backends
from mfcore.bench_report import environment, write_markdown
from mfcore.metrics import psnr, ssim
from mfcore.sample_images import PHOTOS, crop, photo
from mfcore.task import RunContext

from .burst import synthesize_burst
from .fba import fba

SPEED_SIZES = ((8, 256), (8, 512), (8, 1024))


def _quality_rows(frames: int, seeds: int, size: int, p: float) -> list[dict[str, Any]]:
    rows = []
    for name in PHOTOS:
        sharp = crop(photo(name), size)
        scores: dict[str, list[float]] = {k: [] for k in ("mean", "best", "fba", "fba_ssim", "best_ssim")}
        for seed in range(seeds):
            burst, _ = synthesize_burst(sharp, np.random.default_rng(seed), frames=frames, sizes=(17,), noise=0.01)
            fused = fba(burst, p=p)
            per_frame = [psnr(sharp, f) for f in burst]
            best = int(np.argmax(per_frame))
            scores["mean"].append(psnr(sharp, burst.mean(axis=0)))
            scores["best"].append(per_frame[best])
            scores["best_ssim"].append(ssim(sharp, burst[best]))
            scores["fba"].append(psnr(sharp, fused))
            scores["fba_ssim"].append(ssim(sharp, fused))
        rows.append({"photo": name, "bursts": seeds,
                     "mean of frames PSNR": round(float(np.mean(scores["mean"])), 2),
                     "best frame PSNR": round(float(np.mean(scores["best"])), 2),
                     "FBA PSNR": round(float(np.mean(scores["fba"])), 2),
                     "best frame SSIM": round(float(np.mean(scores["best_ssim"])), 3),
                     "FBA SSIM": round(float(np.mean(scores["fba_ssim"])), 3),
                     "FBA beats best frame": f"{sum(f > b for f, b in zip(scores['fba'], scores['best']))}/{seeds}"})
    return rows


def _speed_rows(backends: tuple[str, ...], repeats: int) -> list[dict[str, Any]]:
    rows = []
    for name in backends:
        backend = all_backends().get(name)
        if backend is None or not backend.is_available():
            continue
        backend.activate(0)
        for n, size in SPEED_SIZES:
            frames = np.random.default_rng(0).random((n, size, size, 3), dtype=np.float32)
            on_device = backend.asarray(frames)
            backend.to_numpy(fba(on_device))  # warm-up: plans, allocations, kernels
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                backend.to_numpy(fba(on_device))  # includes the copy back: what a caller waits for
                times.append(time.perf_counter() - start)
            rows.append({"backend": name, "device": backend.device(), "frames": n, "size": f"{size}x{size}x3",
                         "median ms": round(1000 * float(np.median(times)), 1),
                         "megapixels/s": round(n * size * size / 1e6 / float(np.median(times)), 1)})
    return rows


def bench(
    ctx: RunContext,
    frames: Annotated[int, typer.Option(help="Frames per synthetic burst.")] = 8,
    seeds: Annotated[int, typer.Option(help="Bursts per photo.")] = 3,
    size: Annotated[int, typer.Option(help="Crop size of each photo.")] = 256,
    p: Annotated[float, typer.Option(help="FBA exponent.")] = 11.0,
    repeats: Annotated[int, typer.Option(help="Timed repetitions per speed case.")] = 5,
    markdown: Annotated[Path | None, typer.Option(help="Also write the tables to this Markdown file.")] = None,
) -> dict[str, Any]:
    """FBA against mean-of-frames and best-frame baselines, and FBA speed per backend."""
    quality = _quality_rows(frames, seeds, size, p)
    speed = _speed_rows(("numpy", "torch", "cupy"), repeats)
    command = f"mf bench deblur --frames {frames} --seeds {seeds} --size {size} --p {p} --repeats {repeats}"
    env = environment(("mf-core", "mf-deblur", "numpy", "torch", "cupy-cuda12x", "opencv-python-headless"))
    if markdown is not None:
        write_markdown(markdown, "Burst deblurring benchmark (FBA)", command, env, [
            ("Quality", f"{frames}-frame bursts of {size}x{size} crops, random-walk camera-shake kernels (17 px), "
                        "noise σ=0.01; numbers are means over the bursts of each photo.", quality),
            ("Speed", "Median wall time of FBA (FFTs, weights, fusion) plus the copy back to NumPy.", speed),
        ])
    return {"command": command, **env, "quality": quality, "speed": speed}
