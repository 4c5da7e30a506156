"""The frame representations ``mf run sync`` and ``mf bench sync`` compare, read from videos as streams.

- ``net``: the learned descriptor network (the thesis's method; shipped weights or ``--weights``): its
  descriptors for the coarse tour, its fine features for the full-rate band (:class:`NetFeatures`);
- ``seqslam``: patch-normalised thumbnails (:mod:`mf_sync.seqslam`);
- ``sift``: SIFT match-histogram costs (:mod:`mf_sync.sift`).

Videos are read frame by frame and only the features are kept, so long, large
videos never sit in memory.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from mfcore.errors import InputError
from mfcore.video import iter_video, video_info

from .align import Alignment, align_costs, align_descriptors
from .inputs import prepare
from .seqslam import seqslam_descriptors
from .sift import SiftFrames, sift_costs

#: Frames described per network call.
BATCH = 128


class Method(str, Enum):
    net = "net"
    seqslam = "seqslam"
    sift = "sift"


LABELS = {Method.net: "mf_sync network", Method.seqslam: "SeqSLAM-style pixels", Method.sift: "SIFT histograms"}


@dataclass(frozen=True)
class NetFeatures:
    """The network's view of a video: descriptors (N, dim) and fine features (N, FINE_DIM) of every frame.

    Sliced like an array (``features[lo:hi]``, ``features[::10]``) and as long as the video.
    """

    descriptors: np.ndarray
    fine: np.ndarray

    def __len__(self) -> int:
        return len(self.descriptors)

    def __getitem__(self, index: slice) -> NetFeatures:
        return NetFeatures(self.descriptors[index], self.fine[index])

    def descriptor_band(self) -> NetFeatures:
        """The thesis's full-rate stage (4.3.4): the descriptors decide the band too (for comparison)."""
        return NetFeatures(self.descriptors, self.descriptors)


def coarse_vectors(features: Any) -> np.ndarray:
    """The vectors a method compares places with: descriptors of the network, the arrays of the others."""
    return features.descriptors if isinstance(features, NetFeatures) else features


def _batches(path: Path, size: int) -> Any:
    chunk: list[np.ndarray] = []
    for frame in iter_video(path):
        chunk.append(frame)
        if len(chunk) == size:
            yield np.stack(chunk)
            chunk = []
    if chunk:
        yield np.stack(chunk)


def video_features(path: Path, method: Method, model: Any = None) -> tuple[Any, float, float]:
    """(features, frames per second, seconds spent) of a whole video; one line when it has under 2 frames."""
    fps = video_info(path)["fps"] or 30.0
    start = time.perf_counter()
    if method is Method.sift:
        features: Any = SiftFrames()
        for chunk in _batches(path, BATCH):
            for frame in chunk:
                features.add(frame)
        count = len(features)
    elif method is Method.net:
        from .network import describe_with_fine, with_fine_output

        two_outputs = with_fine_output(model)
        parts = [describe_with_fine(two_outputs, prepare(chunk)) for chunk in _batches(path, BATCH)]
        empty = np.zeros((0, 1), np.float32)
        features = NetFeatures(*(np.concatenate(p) for p in zip(*parts))) if parts else NetFeatures(empty, empty)
        count = len(features)
    else:
        parts = [seqslam_descriptors(chunk) for chunk in _batches(path, BATCH)]
        features = np.concatenate(parts) if parts else np.zeros((0, 1), np.float32)
        count = len(features)
    if count < 2:
        raise InputError(f"{path}: a video of {count} frame(s) cannot be synchronised")
    return features, fps, time.perf_counter() - start


def align_features(a: Any, b: Any, fps: float, step: int = 10) -> Alignment:
    """Align two videos' features of one method."""
    if isinstance(a, SiftFrames):
        return align_costs(lambda: sift_costs(a.descriptors[::step], b.descriptors[::step]),
                           lambda a0, a1, b0, b1: sift_costs(a.descriptors[a0:a1 + 1], b.descriptors[b0:b1 + 1]),
                           len(b), fps, step)
    if isinstance(a, NetFeatures):
        return align_descriptors(a.descriptors, b.descriptors, fps, step, a.fine, b.fine)
    return align_descriptors(a, b, fps, step)
