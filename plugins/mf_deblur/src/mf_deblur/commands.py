"""``mf run deblur``: your bursts and videos, deblurred by the RDN, FourierNet or FBA."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from mfcore import InputError, RunContext, check_writable_dir
from mfcore.kit import (
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    collect_frames,
    iter_video,
    keras_backend_for,
    load_model,
    network_available,
    read_burst,
    video_info,
    write_image,
    write_video,
)

from .align import align_to_first
from .fourier_inference import OUT, STRIDE, Colour, restore_burst
from .inference import MAX_MEMORY_GB, deblur, video_windows
from .methods import Alignment, Method, Order, deblur_burst
from .model_io import FOURIERNET, SHIPPED, SHIPPED_BURST, burst_start, load_rdn
from .order import burst_sequence, sharpest_first


def _is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def run(
    ctx: RunContext,
    frames: Annotated[list[Path], typer.Argument(help="Frame files or folders of one burst, or one video file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Image to write (.png, .jpg, .tif...), or a "
                                                               "video (.mp4) when the input is a video.")],
    method: Annotated[Method | None, typer.Option(help="rdn (default when its weights and PyTorch or TensorFlow "
                                                       "are installed), fouriernet (aligned bursts of a static "
                                                       "scene only: unaligned or moving content is the RDN's job; "
                                                       "its shipped weights are below FBA on real bursts, see the "
                                                       "model card) or fba.")] = None,
    weights: Annotated[Path | None, typer.Option(help="Network weights (.weights.h5 with its .json card beside "
                                                      "it); default: the shipped ones for the method and input.")]
    = None,
    tile: Annotated[int | None, typer.Option(min=64, help="RDN: process in tiles of this many pixels "
                                                          "(default: chosen from --max-memory).")] = None,
    max_memory: Annotated[float, typer.Option(min=0.05, help="Networks: working memory one step may use (GiB); "
                                                             "larger frames are tiled (RDN) or their patches "
                                                             "batched (FourierNet) to fit. Memory does not grow "
                                                             "with the number of frames.")] = MAX_MEMORY_GB,
    overlap: Annotated[int, typer.Option(min=0, help="RDN: tile overlap in pixels, blended smoothly.")] = 32,
    levels: Annotated[int, typer.Option(min=1, max=4, help="RDN: multi-scale input levels (6.4.2).")] = 1,
    colour: Annotated[bool, typer.Option("--colour/--no-colour", help="RDN: match the output's colour histograms "
                                                                      "to the target frame (appendix A.2).")] = False,
    stride: Annotated[int, typer.Option(min=1, max=OUT, help="FourierNet: pixels between neighbouring patches (the "
                                                             "thesis used 5).")] = STRIDE,
    colour_transfer: Annotated[Colour, typer.Option(help="FourierNet: colours from FBA's result by its Lab a, b "
                                                         "channels or by histogram matching, or none.")] = Colour.lab,
    radius: Annotated[int, typer.Option(min=1, help="Video: deblur each frame from this many neighbours on "
                                                    "each side.")] = 2,
    p: Annotated[float, typer.Option(min=0.0, help="FBA exponent: 0 averages, larger favours the sharpest frame.")] = 11.0,
    sigma: Annotated[float | None, typer.Option(min=0.0, help="FBA: std of the weight smoothing in frequency samples "
                                                           "(default min(H, W)/50; 0 disables).")] = None,
    order: Annotated[Order, typer.Option(help="Burst: sharpest restores the sharpest frame, the others following "
                                              "from sharp to blurred (lucky imaging); given restores the first "
                                              "frame, the others in the order given. A video keeps its order.")]
    = Order.sharpest,
    align: Annotated[Alignment | None, typer.Option(help="Register frames to the target before deblurring. Default: "
                                                         "ecc for a video (a frame that does not register stays as "
                                                         "it is), none for a burst.")] = None,
) -> dict[str, Any]:
    """Deblur a burst into one sharp image, or a video frame by frame from its neighbours.

    Bursts are sorted sharpest first by default (:mod:`mf_deblur.order`): the
    RDN restores the sharpest frame. Video frames are registered to the frame
    being restored by default: on held-out clips the RDN then gains from 12
    frames over 5 instead of losing (``docs/benchmarks/deblur.md``).
    """
    video = len(frames) == 1 and _is_video(frames[0])
    suffixes = VIDEO_SUFFIXES if video else IMAGE_SUFFIXES
    if output.suffix.lower() not in suffixes:
        kind = "video" if video else "image"
        raise InputError(f"{output}: unknown {kind} format {output.suffix!r}; use one of {', '.join(sorted(suffixes))}")
    check_writable_dir(output)
    if video:  # inputs first: a bad file fails at once, before the network loads
        info = video_info(frames[0])
        if info["frames"] < 2:
            raise InputError(f"{frames[0]}: a video needs at least 2 frames, this one has {info['frames']}")
    else:
        paths = collect_frames(frames)
        burst = read_burst(paths, min_frames=2)
    if video and method is Method.fouriernet:
        raise InputError("FourierNet restores aligned bursts of a static scene; deblur videos with --method rdn")
    # Your --weights are an order: if they cannot be read, that is an error, not a quiet switch to FBA.
    shipped = SHIPPED if video else SHIPPED_BURST
    chosen = method or (Method.rdn if weights is not None or network_available(ctx, shipped) else Method.fba)
    model = fourier = None
    card: dict[str, Any] = {}
    if chosen is Method.fouriernet:
        fourier, _ = load_model(FOURIERNET, ctx, weights)
    elif chosen is Method.rdn:
        model, card = load_rdn(ctx, weights or shipped)
    options = {"tile": tile, "overlap": overlap, "levels": levels, "colour": colour, "max_memory_gb": max_memory}
    registration = (align or (Alignment.ecc if video else Alignment.none)).value

    def fuse(burst: np.ndarray) -> np.ndarray:
        if not video and order is Order.sharpest:
            burst = sharpest_first(burst)
        burst = align_to_first(burst, registration, strict=not video)
        if fourier is not None:
            return restore_burst(fourier, burst, deblur_burst(ctx, burst, p, sigma), stride, max_memory,
                                 colour_transfer)
        if model is not None:
            if burst.shape[-1] != 3:
                burst = np.repeat(burst[..., :1], 3, axis=-1)
            if not video:  # weights trained to improve on FBA start from it
                burst = burst_sequence(burst, burst_start(card), lambda frames: deblur_burst(ctx, frames, p, sigma))
            return deblur(model, burst, **options)
        return np.clip(deblur_burst(ctx, burst, p, sigma), 0.0, 1.0)

    start = time.perf_counter()
    if video:
        written = (fuse(window) for window in video_windows(iter_video(frames[0], complete=True), radius))
        count = 0

        def counted(frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
            nonlocal count
            for frame in frames:
                count += 1
                yield frame

        write_video(output, counted(written), info["fps"] or 30.0)
        size = f"{info['width']}x{info['height']}"
    else:
        write_image(output, fuse(burst))
        count, size = len(paths), f"{burst.shape[2]}x{burst.shape[1]}"
    seconds = time.perf_counter() - start
    result = {"output": str(output), "method": chosen.value, "frames": count, "size": size,
              "backend": ctx.backend.name, "device": ctx.backend.device(), "seconds": round(seconds, 4)}
    if model is not None or fourier is not None:
        result["keras_backend"] = keras_backend_for(ctx)
        result["weights"] = str(weights or (FOURIERNET.weights if fourier is not None else shipped))
    return result
