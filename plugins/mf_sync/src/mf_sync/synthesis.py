"""``mf synth sync``: render drives with ground truth, in worker processes.

Routes are built from the photo pool (``--pool train`` for training data,
``--pool held-out`` for benchmarks, or a folder of your photographs); each
route gets ``--drives`` drives with their own start, end, detours, speed
profile and appearance. The folder receives one ``.mp4`` and one
``.truth.csv`` per drive and a ``drives.json`` manifest.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from mfcore import InputError, RunContext, output_folder
from mfcore.kit import tracked

from .drives import RouteSpec, plan_drives, render_drive, write_manifest

DEFAULT_SIZE = "192x128"


def parse_size(text: str) -> tuple[int, int]:
    """``WxH`` with even sides (the MPEG-4 encoder needs them)."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise InputError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. {DEFAULT_SIZE}") from exc
    if width < 32 or height < 32 or width % 2 or height % 2:
        raise InputError(f"--size {text!r}: sides must be even and at least 32 px")
    return width, height


def render_collection(output: Path, routes: int, drives: int, length: float, pool: str, detours: float,
                      size: tuple[int, int], fps: float, workers: int, seed: int, quiet: bool) -> dict[str, Any]:
    """Plan and render ``routes`` x ``drives`` drives into ``output``; returns the manifest it writes."""
    if pool not in ("train", "held-out") and not Path(pool).is_dir():
        raise InputError(f"--pool {pool}: not train, held-out or a folder")
    output_folder(output)
    pool_key = pool if pool in ("train", "held-out") else str(Path(pool).resolve())
    rng = np.random.default_rng(seed)
    route_specs = [RouteSpec(f"{'h' if pool == 'held-out' else 'r'}{i}", length, int(rng.integers(2**31)), pool_key)
                   for i in range(routes)]
    by_name = {r.name: r for r in route_specs}
    plans = plan_drives(route_specs, drives, rng, detours)
    entries = []
    with ProcessPoolExecutor(max_workers=min(workers, len(plans), os.cpu_count() or 1)) as executor:
        jobs = [executor.submit(render_drive, plan, by_name, output, size[0], size[1], fps) for plan in plans]
        for job in tracked(jobs, "rendering drives", len(jobs), quiet=quiet):
            entries.append(job.result())
    manifest = {"routes": [vars(r) for r in route_specs], "drives": entries, "fps": fps, "width": size[0],
                "height": size[1], "seed": seed, "pool": pool}
    write_manifest(output, manifest)
    return manifest


def synth(
    ctx: RunContext,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the drives (created).")],
    routes: Annotated[int, typer.Option(min=1, help="Number of routes.")] = 4,
    drives: Annotated[int, typer.Option(min=2, help="Drives per route.")] = 3,
    length: Annotated[float, typer.Option(min=100.0, help="Route length in metres (drives cover 50-100 %).")]
    = 600.0,
    pool: Annotated[str, typer.Option(help="Photographs for the façades: train, held-out or a folder.")]
    = "train",
    detours: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of drives with a detour through "
                                                                   "another route.")] = 0.4,
    size: Annotated[str, typer.Option(help="Frame size WIDTHxHEIGHT.")] = DEFAULT_SIZE,
    fps: Annotated[float, typer.Option(min=1.0, help="Frames per second.")] = 30.0,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Worker processes.")] = 1,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Write into a folder that has drives.")]
    = False,
) -> dict[str, Any]:
    """Render drives along routes made of real photographs, each with per-frame ground-truth positions."""
    frame_size = parse_size(size)
    if (output / "drives.json").exists() and not overwrite:
        raise InputError(f"{output} already holds drives; pass --overwrite to replace them")
    manifest = render_collection(output, routes, drives, length, pool, detours, frame_size, fps, workers,
                                 ctx.seed, ctx.json)
    return {"folder": str(output), "routes": routes, "drives": len(manifest["drives"]),
            "frames": sum(e["frames"] for e in manifest["drives"])}
