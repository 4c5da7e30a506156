"""The ``deblur`` task's commands: ``mf run deblur`` and its ``mf demo`` section."""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from mfcore.atomic import check_writable_dir
from mfcore.errors import InputError
from mfcore.images import IMAGE_SUFFIXES, collect_frames, read_burst, write_image
from mfcore.metrics import psnr, ssim
from mfcore.report import figure, table
from mfcore.sample_images import crop, photo
from mfcore.task import DemoSection, RunContext

from .align import align_to_first
from .burst import synthesize_burst
from .fba import fba


class Method(str, Enum):
    fba = "fba"


class Alignment(str, Enum):
    none = "none"
    ecc = "ecc"
    features = "features"


def deblur_burst(ctx: RunContext, frames: np.ndarray, p: float, sigma: float | None) -> np.ndarray:
    """Fuse an aligned NumPy burst with FBA on the context's backend; return NumPy."""
    backend = ctx.backend
    return backend.to_numpy(fba(backend.asarray(frames), p=p, sigma=sigma))


def run(
    ctx: RunContext,
    frames: Annotated[list[Path], typer.Argument(help="Frame files, or folders of frames, of one burst.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Image file to write (.png, .jpg, .tif...).")],
    method: Annotated[Method, typer.Option(help="Deblurring method.")] = Method.fba,
    p: Annotated[float, typer.Option(min=0.0, help="FBA exponent: 0 averages, larger favours the sharpest frame.")] = 11.0,
    sigma: Annotated[float | None, typer.Option(min=0.0, help="Std of the weight smoothing in frequency samples "
                                                           "(default min(H, W)/50; 0 disables).")] = None,
    align: Annotated[Alignment, typer.Option(help="Register frames to the first one before fusing.")] = Alignment.none,
) -> dict[str, Any]:
    """Deblur a burst of frames of a static scene into one sharp image."""
    if output.suffix.lower() not in IMAGE_SUFFIXES:
        raise InputError(f"{output}: unknown image format {output.suffix!r}; use one of {', '.join(sorted(IMAGE_SUFFIXES))}")
    check_writable_dir(output)
    paths = collect_frames(frames)
    burst = read_burst(paths, min_frames=2)
    start = time.perf_counter()
    burst = align_to_first(burst, align.value)
    image = deblur_burst(ctx, burst, p, sigma)
    seconds = time.perf_counter() - start
    write_image(output, image)
    return {"output": str(output), "method": method.value, "frames": len(paths),
            "size": f"{burst.shape[2]}x{burst.shape[1]}", "backend": ctx.backend.name,
            "device": ctx.backend.device(), "seconds": round(seconds, 4)}


DEMO_PHOTOS = ("astronaut", "coffee", "chelsea")


def demo(ctx: RunContext, folder: Path) -> DemoSection:
    """Synthesise camera-shake bursts from bundled photos, fuse them with FBA, score every image."""
    rng = np.random.default_rng(ctx.seed)
    rows, figures, metrics = [], [], {}
    for name in DEMO_PHOTOS:
        sharp = crop(photo(name), 256)
        burst, _ = synthesize_burst(sharp, rng, frames=8, sizes=(17,), noise=0.01)
        fused = deblur_burst(ctx, burst, p=11.0, sigma=None)
        mean = burst.mean(axis=0)
        scores = [(f"input frame {i}", psnr(sharp, f), ssim(sharp, f)) for i, f in enumerate(burst)]
        best = max(scores, key=lambda s: s[1])
        rows += [(name, label, a, b) for label, a, b in scores]
        rows += [(name, "mean of frames", psnr(sharp, mean), ssim(sharp, mean)),
                 (name, "FBA (p=11)", psnr(sharp, fused), ssim(sharp, fused))]
        metrics[name] = {"fba_psnr": psnr(sharp, fused), "fba_ssim": ssim(sharp, fused),
                         "mean_psnr": psnr(sharp, mean), "best_frame_psnr": best[1]}
        figures.append("<div>" + "".join([
            figure(folder, f"{name}_sharp", sharp, f"{name}: sharp"),
            figure(folder, f"{name}_frame0", burst[0], f"input frame 0 ({scores[0][1]:.2f} dB)"),
            figure(folder, f"{name}_best", burst[int(best[0].split()[-1])], f"best frame ({best[1]:.2f} dB)"),
            figure(folder, f"{name}_mean", mean, f"mean ({psnr(sharp, mean):.2f} dB)"),
            figure(folder, f"{name}_fba", fused, f"FBA ({psnr(sharp, fused):.2f} dB)"),
        ]) + "</div>")
    html = ("<p>8-frame bursts, random-walk camera-shake kernels (17 px), Gaussian noise σ=0.01, fused with "
            f"Fourier Burst Accumulation on the <b>{ctx.backend.name}</b> backend.</p>"
            + "".join(figures) + table(("photo", "image", "PSNR (dB)", "SSIM"), rows))
    return DemoSection("Burst deblurring (FBA)", html, metrics)
