"""``mf run reflect``: your polarisation captures separated into transmission and reflection."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from mfcore import RunContext, output_folder
from mfcore.kit import network_available, write_image

from .captures import read_captures
from .methods import DEFAULT, LEARNED, Method, default_method, separate_with
from .model_io import SHIPPED, load_separation_net


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
    pattern: Annotated[str | None, typer.Option(help="Mosaic angles, row-major 2x2 (default Sony: 90,45,135,0); "
                                                     "checked against the frame.")] = None,
    half: Annotated[bool, typer.Option(help="Mosaic: decimate to half size instead of interpolating every angle "
                                            "at full resolution.")] = False,
    gamma: Annotated[float | None, typer.Option(min=1.0, help="Inputs are gamma-encoded (8-bit JPEG/PNG): "
                                                              "linearise with this gamma, encode outputs back. "
                                                              "Without it inputs are linear (RAW; 8 to 16 bits in "
                                                              "PNG or TIFF, any exposure).")] = None,
    method: Annotated[list[Method] | None, typer.Option(help="auto, net, canonical, schechner, pane, farid; "
                                                             "repeatable. Default: the winner of the independent "
                                                             "benchmark (docs/benchmarks/reflect.md).")] = None,
    weights: Annotated[Path | None, typer.Option(help="Your trained .weights.h5 (with its .json card).")] = None,
    tile: Annotated[int | None, typer.Option(min=32, help="Network: process in tiles of this size (bounded "
                                                         "memory).")] = None,
    overlap: Annotated[int, typer.Option(min=0, help="Network: tile overlap in pixels, blended smoothly.")] = 16,
) -> dict[str, Any]:
    """Separate the reflection and the transmission seen through glass, from polarisation images."""
    images, radians = read_captures(inputs, angles, mosaic, pattern, gamma, half)
    # Your --weights are an order: if they cannot be read, that is an error, not a quiet switch to the classical method.
    if weights is not None:
        default = Method.net
    else:
        default = default_method(DEFAULT not in LEARNED or network_available(ctx, SHIPPED))
    methods = list(dict.fromkeys(method or [default]))
    model = load_separation_net(ctx, weights or SHIPPED)[0] if set(methods) & set(LEARNED) else None
    output_folder(output)  # only once everything that can fail on the inputs has been checked
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
            "size": list(images.shape[1:3]), "channels": int(images.shape[-1]),
            "linear_output": gamma is None}
