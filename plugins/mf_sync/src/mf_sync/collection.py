"""``mf sync collection``: find and align every video of a collection that shows a reference snippet (4.4.4).

Coarse descriptors (every 10th frame) of the whole collection go into a
nearest-neighbour index from the core's registry (:func:`mfcore.index_type`):
``mf-ann``'s Product Quantization Tree when it is installed, else the core's
exact search; ``--index`` names one. Each coarse frame of the reference
snippet asks for its nearest neighbours; a video that answers for a good share
of the snippet, around a consistent place, is a candidate, and the snippet is
aligned to the window of that video around its answers with the full pipeline
(tour, full-rate band, smoothing; with the network, SIFT matches in the band by
default, as ``mf run sync``). The index keeps this cheap for large
collections: only candidates are aligned, and only within their windows.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from mfcore import IndexSpec, InputError, RunContext, SearchIndex, atomic_path, check_writable_dir, index_type

from .align import STEP, Scale
from .bank import videos_in
from .baselines.sift import SiftStream
from .fused import align_fused
from .methods import Band, Method, align_features, video_features
from .model_io import SHIPPED, load_descriptor_net
from .tour import MIN_SECONDS

#: The index holds every ``STEP``-th frame, so a snippet is aligned at that step too (tours of ``MIN_SECONDS``).
COARSE = Scale(STEP, MIN_SECONDS)
#: A video is a candidate when at least this share of the snippet's coarse frames find it among their neighbours.
MIN_VOTES = 0.3


def index_coarse(coarse: list[np.ndarray], kind: IndexSpec) -> tuple[SearchIndex, np.ndarray, np.ndarray]:
    """An index of type ``kind`` over every video's coarse features; also (video, coarse frame) of each
    indexed vector."""
    index = kind.build(np.concatenate(coarse).astype(np.float32))
    owners = np.concatenate([np.full(len(c), v) for v, c in enumerate(coarse)])
    frames = np.concatenate([np.arange(len(c)) for c in coarse])
    return index, owners, frames


def candidates(index: SearchIndex, owners: np.ndarray, frames: np.ndarray, queries: np.ndarray,
               k: int = 10) -> dict[int, tuple[float, int]]:
    """Videos answering for at least ``MIN_VOTES`` of the queries: video → (share, median coarse frame)."""
    _, ids = index.search(queries.astype(np.float32), k=min(k, len(owners)))
    hits: dict[int, list[int]] = {}
    for row in ids:
        seen = set()
        for vector in row[row >= 0]:
            video = int(owners[vector])
            if video not in seen:
                seen.add(video)
                hits.setdefault(video, []).append(int(frames[vector]))
    return {v: (len(f) / len(queries), int(np.median(f))) for v, f in hits.items()
            if len(f) >= MIN_VOTES * len(queries)}


def collection(
    ctx: RunContext,
    folder: Annotated[Path, typer.Argument(help="Folder of videos to search.")],
    reference: Annotated[Path, typer.Option(help="Reference video; its snippet is aligned to every match.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV: video, frame_reference, frame_video, "
                                                                "frame_video_exact, confidence.")]
    = Path("collection.csv"),
    start: Annotated[float, typer.Option(min=0.0, help="Snippet start in the reference (s).")] = 0.0,
    seconds: Annotated[float | None, typer.Option(min=1.0, help="Snippet length (s; default: to the end).")] = None,
    method: Annotated[Method, typer.Option(help="Frame representation: net (default) or seqslam.")] = Method.net,
    weights: Annotated[Path, typer.Option(help="Descriptor network weights (with their card).")] = SHIPPED,
    band: Annotated[Band, typer.Option(help="With the network: SIFT matches in the full-rate band (fused) or the "
                                            "network alone (net); as `mf run sync`.")] = Band.fused,
    index: Annotated[str | None, typer.Option(help="Index type for the coarse frames (see `mf plugins list`; "
                                                   "default: pqt when mf-ann is installed, else exact).")] = None,
) -> dict[str, Any]:
    """Find the videos of a collection that show the reference snippet and align each of them to it."""
    if method is Method.sift:
        raise InputError("--method sift has no descriptors to index; use net or seqslam")
    check_writable_dir(output)
    kind = index_type(index)
    files = [v for v in videos_in(folder) if v.resolve() != reference.resolve()]
    model = load_descriptor_net(ctx, weights)[0] if method is Method.net else None
    ref, fps, _ = video_features(reference, method, model)
    first = int(round(start * fps))
    last = len(ref) if seconds is None else min(len(ref), first + int(round(seconds * fps)))
    if last - first < 2 * STEP:
        raise InputError(f"{reference}: the snippet from {start:g} s holds {max(0, last - first)} frames, too few")
    snippet = ref[first:last]
    features = [video_features(f, method, model)[0] for f in files]
    searcher, owners, frames = index_coarse([f[::STEP] for f in features], kind)
    found = candidates(searcher, owners, frames, snippet[::STEP])
    rows, summary = [], []
    for video, (share, centre) in sorted(found.items()):
        span = len(snippet)
        lo, hi = max(0, centre * STEP - 2 * span), min(len(features[video]), centre * STEP + 2 * span)
        if method is Method.net and band is Band.fused:
            result = align_fused(snippet, features[video][lo:hi], SiftStream(reference, first).window,
                                 SiftStream(files[video], lo).window, fps, COARSE)
        else:
            result = align_features(snippet, features[video][lo:hi], fps, COARSE)
        entry = {"video": files[video].name, "votes": round(share, 2), "aligned": result.found}
        if result.found:
            rows += [(files[video].name, int(a) + first, int(round(b)) + lo, b + lo, c)
                     for a, b, c in zip(result.frames_a, result.frames_b, result.confidence)]
            entry["frames"] = [int(round(result.frames_b[0])) + lo, int(round(result.frames_b[-1])) + lo]
        summary.append(entry)
    with atomic_path(output) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["video", "frame_reference", "frame_video", "frame_video_exact", "confidence"])
        writer.writerows((v, a, b, f"{e:.2f}", f"{c:.3f}") for v, a, b, e, c in rows)
    return {"collection": str(output), "snippet_frames": [first, last - 1], "videos_searched": len(files),
            "index": kind.name, "matches": summary}
