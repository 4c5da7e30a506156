"""``mf run reflect``: your polarisation captures separated into transmission and reflection."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from mfcore import InputError, RunContext, output_folder
from mfcore.kit import network_available, read_burst, read_image, write_image

from .canonical import check_angles
from .methods import Method, separate_with
from .model_io import SHIPPED, load_separation_net
from .mosaic import SONY_PATTERN, split_mosaic

DEFAULT_ANGLES = {3: (0.0, 45.0, 90.0), 4: (0.0, 45.0, 90.0, 135.0)}


def _floats(text: str | None, what: str) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError as exc:
        raise InputError(f"{what} must be comma-separated degrees, got {text!r}") from exc


def read_captures(inputs: list[Path], angles: str | None, mosaic: bool, pattern: str | None,
                  gamma: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Linear polarisation images (N, H, W, 3) and their angles (radians) from the command's inputs."""
    if mosaic:
        if len(inputs) != 1:
            raise InputError(f"--mosaic takes one raw polarisation-camera frame, got {len(inputs)} files")
        images, degrees = split_mosaic(read_image(inputs[0]), _floats(pattern, "--pattern") or SONY_PATTERN)
        if angles is not None:
            raise InputError("--angles does not apply to --mosaic; the --pattern gives the angles")
    else:
        if pattern is not None:
            raise InputError("--pattern only applies to --mosaic")
        if len(inputs) < 3:
            raise InputError(f"need polarisation images at three or more angles, got {len(inputs)}")
        degrees = _floats(angles, "--angles") or DEFAULT_ANGLES.get(len(inputs))
        if degrees is None:
            raise InputError(f"give the polariser angles of the {len(inputs)} images with --angles")
        if len(degrees) != len(inputs):
            raise InputError(f"--angles lists {len(degrees)} angles for {len(inputs)} images")
        images = read_burst(inputs, min_frames=3)
    radians = check_angles(np.radians(degrees))
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    images = images.astype(np.float32)
    return (images ** gamma if gamma else images), radians


def run(
    ctx: RunContext,
    inputs: Annotated[list[Path], typer.Argument(help="Images at three or more polariser angles (default "
                                                      "0,45,90[,135]), or one raw mosaic frame with --mosaic.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for transmission.png, reflection.png "
                                                                "(and <method>_*.png for extra methods).")],
    angles: Annotated[str | None, typer.Option(help="Polariser angles of the images, in degrees, e.g. 0,45,90.")]
    = None,
    mosaic: Annotated[bool, typer.Option(help="The input is a division-of-focal-plane camera frame (2x2 "
                                              "polariser mosaic).")] = False,
    pattern: Annotated[str | None, typer.Option(help="Mosaic angles, row-major 2x2 (default Sony: 90,45,135,0).")]
    = None,
    gamma: Annotated[float | None, typer.Option(min=1.0, help="Inputs are gamma-encoded (8-bit JPEG/PNG): "
                                                              "linearise with this gamma, encode outputs back. "
                                                              "Without it inputs are linear (RAW, 16-bit).")] = None,
    method: Annotated[list[Method] | None, typer.Option(help="net (default when its weights and PyTorch or "
                                                             "TensorFlow are present), canonical, schechner, farid; "
                                                             "repeatable.")] = None,
    weights: Annotated[Path | None, typer.Option(help="Your trained .weights.h5 (with its .json card).")] = None,
    tile: Annotated[int | None, typer.Option(min=32, help="Network: process in tiles of this size (bounded "
                                                         "memory).")] = None,
    overlap: Annotated[int, typer.Option(min=0, help="Network: tile overlap in pixels, blended smoothly.")] = 16,
) -> dict[str, Any]:
    """Separate the reflection and the transmission seen through glass, from polarisation images."""
    images, radians = read_captures(inputs, angles, mosaic, pattern, gamma)
    # Your --weights are an order: if they cannot be read, that is an error, not a quiet switch to Schechner's.
    methods = list(dict.fromkeys(method or [Method.net if weights is not None or network_available(ctx, SHIPPED)
                                            else Method.schechner]))
    output_folder(output)
    model = load_separation_net(ctx, weights or SHIPPED)[0] if Method.net in methods else None
    written: dict[str, dict[str, str]] = {}
    for i, m in enumerate(methods):
        r, t = separate_with(m, images, radians, model, tile, overlap)
        prefix = "" if i == 0 else f"{m.value}_"
        files = {}
        for name, layer in (("transmission", t), ("reflection", r)):
            path = output / f"{prefix}{name}.png"
            if gamma:
                write_image(path, layer ** (1.0 / gamma))
            else:
                write_image(path, layer, bits=16)  # linear data keeps its dark tones
            files[name] = str(path)
        written[m.value] = files
    return {"methods": written, "angles_degrees": [round(float(a), 6) for a in np.degrees(radians)],
            "size": list(images.shape[1:3]), "linear_output": gamma is None}
