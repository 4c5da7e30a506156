"""The frame representations ``mf run sync`` and ``mf bench sync`` compare, read from videos as streams.

- ``net``: the learned descriptor network (the thesis's method; shipped weights or ``--weights``), compared
  on its place features (:func:`mf_sync.network.describe_places`);
- ``seqslam``: patch-normalised thumbnails (:mod:`mf_sync.baselines.seqslam`);
- ``sift``: SIFT match-histogram costs (:mod:`mf_sync.baselines.sift`).

With the network, the full-rate band around its tour is costed by ``Band``:
``fused`` (default) adds SIFT match costs to the network's distances and
lets the path run on past the tour's ends (:mod:`mf_sync.fused`); ``net``
uses the network alone, as the thesis does.

Videos are read frame by frame and only the features are kept, so long, large
videos never sit in memory.
"""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from mfcore import InputError
from mfcore.kit import iter_video, video_info

from .align import Alignment, Scale, align_costs, align_descriptors, scale_for
from .baselines.seqslam import seqslam_descriptors
from .baselines.sift import SiftFrames, SiftStream, sift_costs
from .inputs import prepare

#: Frames described per network call.
BATCH = 128


class Method(str, Enum):
    net = "net"
    seqslam = "seqslam"
    sift = "sift"


class Band(str, Enum):
    fused = "fused"
    net = "net"


LABELS = {Method.net: "mf_sync network", Method.seqslam: "SeqSLAM-style pixels", Method.sift: "SIFT histograms"}


def _batches(path: Path, size: int) -> Any:
    chunk: list[np.ndarray] = []
    for frame in iter_video(path):
        chunk.append(frame)
        if len(chunk) == size:
            yield np.stack(chunk)
            chunk = []
    if chunk:
        yield np.stack(chunk)


def video_features(path: Path, method: Method, model: Any = None, descriptors: bool = False) -> tuple[Any, float,
                                                                                                   float]:
    """(features, frames per second, seconds spent) of a whole video; one line when it has under 2 frames.

    ``descriptors``: the network's unit descriptors instead of its place features (the thesis's matching,
    for comparison).
    """
    fps = video_info(path)["fps"] or 30.0
    start = time.perf_counter()
    if method is Method.sift:
        features: Any = SiftFrames()
        for chunk in _batches(path, BATCH):
            features.extend(chunk)
        count = len(features)
    else:
        if method is Method.net:
            from .network import describe, describe_places, grid_network

            grids = None if descriptors else grid_network(model)
            parts = [describe(model, prepare(chunk)) if grids is None else describe_places(grids, prepare(chunk))
                     for chunk in _batches(path, BATCH)]
        else:
            parts = [seqslam_descriptors(chunk) for chunk in _batches(path, BATCH)]
        features = np.concatenate(parts) if parts else np.zeros((0, 1), np.float32)
        count = len(features)
    if count < 2:
        raise InputError(f"{path}: a video of {count} frame(s) cannot be synchronised")
    return features, fps, time.perf_counter() - start


def align_features(a: Any, b: Any, fps: float, scale: Scale | None = None,
                   videos: tuple[Path, Path] | None = None) -> Alignment:
    """Align two videos' features of one method; ``scale``: from their lengths (:func:`scale_for`) unless given.

    ``videos``: the two videos the network's place features ``a`` and ``b`` came from, to cost the full-rate
    band with SIFT matches added (:func:`mf_sync.fused.align_fused`); without them the features alone cost it.
    """
    scale = scale or scale_for((len(a), len(b)), fps)
    if videos is not None:
        from .fused import align_fused

        return align_fused(a, b, SiftStream(videos[0]).window, SiftStream(videos[1]).window, fps, scale)
    if isinstance(a, SiftFrames):
        step = scale.step
        return align_costs(lambda: sift_costs(a.descriptors[::step], b.descriptors[::step]),
                           lambda a0, a1, b0, b1: sift_costs(a.descriptors[a0:a1 + 1], b.descriptors[b0:b1 + 1]),
                           (len(a), len(b)), fps, scale)
    return align_descriptors(a, b, fps, scale)
