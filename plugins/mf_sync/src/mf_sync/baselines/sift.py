"""SIFT match-histogram costs (Wang et al. 2014, the VideoSnapping line of work): the local-feature baseline.

Every frame gets up to ``FEATURES`` SIFT keypoints (OpenCV). To compare one
frame of A with many frames of B at once, all of B's descriptors go into one
FLANN k-d forest; each keypoint of the A frame votes for the B frame that owns
its nearest neighbour when it passes Lowe's ratio test. The cost of a pair is
one minus the votes over the A frame's keypoint count: 0 when every keypoint
found its match in that frame, 1 when none did. The same tour matcher then
reads these costs.

:class:`SiftStream` serves the SIFT descriptors of a window of frames that
only moves forward, reading the video once: the network's full-rate band
(:mod:`mf_sync.fused`) needs SIFT only around its tour, and a whole
35-minute video's descriptors would fill gigabytes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from mfcore import InputError
from mfcore.kit import iter_video

FEATURES = 200
RATIO = 0.8
#: :func:`ratio_shares`: Lowe's ratio between a keypoint's nearest and second-nearest descriptor in one frame.
CHECK_RATIO = 0.7
#: :func:`match_costs`: how many nearest descriptors a keypoint looks at, how much farther than its nearest a
#: match may be, and the farthest match (L2 on OpenCV's descriptors, whose norms are about 512).
NEIGHBOURS = 12
MATCH_RATIO = 1.3
MATCH_DISTANCE = 250.0


class SiftFrames:
    """SIFT descriptors of a sequence of frames, extracted a batch at a time."""

    def __init__(self) -> None:
        self.descriptors: list[np.ndarray] = []

    def extend(self, frames: Sequence[np.ndarray]) -> None:
        self.descriptors += describe_frames(frames)

    def __len__(self) -> int:
        return len(self.descriptors)


def describe_frame(sift: cv2.SIFT, frame: np.ndarray) -> np.ndarray:
    """SIFT descriptors (n, 128) of one RGB frame in [0, 1], as uint8.

    OpenCV's float descriptors hold whole numbers up to 255, so bytes lose nothing and take a quarter of the
    memory: a frame's 200 keypoints need 25 KB instead of 100 KB (a 35-minute video, 1.6 GB instead of 6.4).
    """
    grey = cv2.cvtColor(np.clip(frame * 255 + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    _, desc = sift.detectAndCompute(grey, None)
    return np.zeros((0, 128), np.uint8) if desc is None else desc.astype(np.uint8)


_per_thread = threading.local()
#: Frames :class:`SiftStream` decodes before describing them together: a few per core.
_BATCH = 4 * (os.cpu_count() or 1)


def _describe_here(frame: np.ndarray) -> np.ndarray:
    """:func:`describe_frame` with this thread's own detector (OpenCV does not promise one is thread-safe)."""
    if not hasattr(_per_thread, "sift"):
        _per_thread.sift = cv2.SIFT_create(nfeatures=FEATURES)
    return describe_frame(_per_thread.sift, frame)


def describe_frames(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    """:func:`describe_frame` of each frame, on one thread per core (OpenCV's SIFT releases the GIL).

    One detector keeps about one and a half of two cores busy; a frame per thread keeps all of them busy and
    gives the same descriptors (twice as fast on two cores).
    """
    if len(frames) < 2:
        return [_describe_here(frame) for frame in frames]
    with ThreadPoolExecutor(max_workers=min(len(frames), os.cpu_count() or 1)) as pool:
        return list(pool.map(_describe_here, frames))


class SiftStream:
    """SIFT descriptors of a video's frames, extracted when a window first asks for them.

    Windows must not move back: frames before the last window's first are dropped, so memory holds one
    window (a gap of the tour spans a few hundred frames) instead of the video. Frames no window asks for
    are decoded but not described. ``start``: window frames count from this frame of the video (a stretch).
    """

    def __init__(self, path: Path, start: int = 0) -> None:
        self.path, self.start = path, start
        self.frames: Iterator[np.ndarray] = iter_video(path)
        self.first = 0  # frame index of cached[0]
        self.read = 0  # frames taken from the video so far
        self.cached: list[np.ndarray] = []

    def window(self, first: int, last: int) -> list[np.ndarray]:
        """Descriptors of frames ``first`` to ``last`` (inclusive; fewer at the video's end)."""
        first, last = first + self.start, last + self.start
        if first < self.first:
            raise ValueError(f"SIFT window moved back to frame {first} after frame {self.first}")
        drop = min(first - self.first, len(self.cached))
        del self.cached[:drop]
        self.first += drop
        fresh = []
        while self.read <= last:
            frame = next(self.frames, None)
            if frame is None:
                break
            self.read += 1
            if self.read - 1 < first:  # skipped: no window will ask for it again
                self.first = self.read
                continue
            fresh.append(frame)
            if len(fresh) == _BATCH:  # decoded frames wait in memory only a batch at a time
                self.cached += describe_frames(fresh)
                fresh = []
        self.cached += describe_frames(fresh)
        if not self.cached and self.read <= first:
            raise InputError(f"{self.path}: no frame {first} (the video has {self.read} frames)")
        return self.cached[first - self.first:last - self.first + 1]


def frame_of_each(frames: list[np.ndarray]) -> np.ndarray:
    """Per descriptor of the frames' concatenated descriptors, the index of the frame that owns it."""
    return np.repeat(np.arange(len(frames)), np.array([len(d) for d in frames], np.int64))


def sift_costs(a: list[np.ndarray], b: list[np.ndarray]) -> np.ndarray:
    """(len(a), len(b)) costs in [0, 1] from SIFT descriptor lists of two frame sequences."""
    costs = np.ones((len(a), len(b)), np.float32)
    owners = frame_of_each(b)
    if len(owners) < 2:
        return costs
    matcher = cv2.FlannBasedMatcher({"algorithm": 1, "trees": 4}, {"checks": 32})
    matcher.add([np.concatenate(b).astype(np.float32)])  # FLANN's k-d trees read float32
    matcher.train()
    for i, desc in enumerate(a):
        if len(desc) == 0:
            continue
        votes = np.zeros(len(b))
        for pair in matcher.knnMatch(desc.astype(np.float32), k=2):
            if len(pair) == 2 and pair[0].distance < RATIO * pair[1].distance:
                votes[owners[pair[0].trainIdx]] += 1
        costs[i] = 1.0 - votes / len(desc)
    return costs


def match_costs(a: list[np.ndarray], b: list[np.ndarray]) -> np.ndarray:
    """(len(a), len(b)) costs in [0, 1]: one minus the share of an A frame's keypoints matched in that B frame.

    For the full-rate band (:mod:`mf_sync.fused`), where neighbouring B frames show the same points: their
    descriptors are nearly equal (SIFT is scale-invariant), so :func:`sift_costs`'s single vote per keypoint
    lands on one of them at random, and Lowe's ratio test, which compares two of them, rejects the very
    points that all of them show. Here a keypoint counts for every B frame that owns one of its
    ``NEIGHBOURS`` nearest descriptors within ``MATCH_RATIO`` times the nearest distance and
    ``MATCH_DISTANCE``. On the validation drives (see :mod:`mf_sync.fused`) this made the band's path more
    precise than votes did.
    """
    costs = np.ones((len(a), len(b)), np.float32)
    owners_a, owners_b = frame_of_each(a), frame_of_each(b)
    neighbours = min(NEIGHBOURS, len(owners_b))
    if neighbours == 0 or len(owners_a) == 0:
        return costs
    index = cv2.flann_Index(np.concatenate(b).astype(np.float32), {"algorithm": 1, "trees": 4})
    nearest, squared = index.knnSearch(np.concatenate(a).astype(np.float32), neighbours, params={"checks": 64})
    distances = np.sqrt(np.maximum(squared, 0)).reshape(-1, neighbours)
    nearest = nearest.reshape(-1, neighbours)
    close = (distances <= MATCH_RATIO * distances[:, :1]) & (distances <= MATCH_DISTANCE)
    keypoint = np.repeat(np.arange(len(close)), neighbours)[close.ravel()]
    frame_b = owners_b[nearest.ravel()[close.ravel()]]
    matched = np.unique(keypoint * len(b) + frame_b)  # a keypoint counts once per B frame
    pairs = owners_a[matched // len(b)] * len(b) + matched % len(b)
    shares = np.bincount(pairs, minlength=costs.size).reshape(costs.shape)
    keypoints = np.array([max(len(d), 1) for d in a])
    costs -= (shares / keypoints[:, None]).astype(np.float32)
    return costs


def ratio_shares(a: list[np.ndarray], b: list[np.ndarray], ratio: float = CHECK_RATIO) -> np.ndarray:
    """(len(a), len(b)): the share of an A frame's keypoints whose nearest descriptor in a B frame is ``ratio``
    times nearer than its second (Lowe's test, exact distances, one frame against one frame)."""
    shares = np.zeros((len(a), len(b)))
    if not b:
        return shares
    base = np.concatenate(b).astype(np.float32)
    base_norms = (base * base).sum(1)
    edges = np.concatenate([[0], np.cumsum([len(d) for d in b])])
    for i, frame in enumerate(a):
        if len(frame) == 0:
            continue
        query = frame.astype(np.float32)
        squared = (query * query).sum(1)[:, None] + base_norms[None, :] - 2 * query @ base.T
        for j in range(len(b)):
            if edges[j + 1] - edges[j] >= 2:
                two = np.sqrt(np.maximum(np.partition(squared[:, edges[j]:edges[j + 1]], 1, axis=1)[:, :2], 0.0))
                shares[i, j] = float((two.min(axis=1) < ratio * two.max(axis=1)).mean())
    return shares
