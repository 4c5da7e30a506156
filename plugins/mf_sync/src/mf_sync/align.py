"""Aligning two videos: descriptors, coarse tour, a full-rate band, smoothed frame mapping.

This is the pipeline behind ``mf run sync``; the descriptor is a parameter
(the learned network, SeqSLAM-style pixels, or anything that maps frames to
vectors whose Euclidean distance means "same place"). Stage timings are kept
for ``mf bench sync``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from .costs import cost_matrix, decorrelate
from .ends import lead_in, lead_out
from .fine import CostBox, refine
from .smoothing import frame_mapping
from .tour import MIN_SECONDS, Tour, match_tour

#: Coarse step: every 10th frame (the thesis's), for videos long enough to keep ``MIN_COARSE`` coarse frames.
STEP = 10
#: The shorter video keeps at least this many coarse frames: a clip of a few seconds is matched at a finer step
#: (every frame below 200 frames), or its coarse matrix is too small to hold a tour.
MIN_COARSE = 100
#: Unless ``--min-overlap`` says otherwise, a tour must span ``MIN_SECONDS`` or this share of the shorter
#: video, whichever is less, so that two clips of a few seconds can still match.
CLIP_SHARE = 0.4
#: Frames of A in a gap between tour points longer than this get confidence 0 (:func:`in_long_gap`).
MAX_GAP_SECONDS = 10.0


@dataclass(frozen=True)
class Scale:
    """The two thresholds that follow the videos' length: the coarse step (frames) and a tour's shortest span."""

    step: int
    min_seconds: float


def scale_for(lengths: tuple[int, int], fps: float, min_overlap: float | None = None) -> Scale:
    """The :class:`Scale` for videos of ``lengths`` frames: the thesis's for drives, finer for short clips.

    ``min_overlap`` (seconds) fixes the shortest tour; by default it is ``MIN_SECONDS``, or ``CLIP_SHARE`` of
    the shorter video when that is less.
    """
    shorter = min(lengths)
    step = max(1, min(STEP, shorter // MIN_COARSE))
    if min_overlap is None:
        min_overlap = min(MIN_SECONDS, CLIP_SHARE * shorter / fps)
    return Scale(step, float(min_overlap))


@dataclass
class Alignment:
    """A frame mapping from video A to video B, or ``tour is None`` when there is no matching tour."""

    frames_a: np.ndarray
    frames_b: np.ndarray
    confidence: np.ndarray
    tour: Tour | None
    coarse_costs: np.ndarray
    step: int = STEP
    seconds: dict[str, float] = field(default_factory=dict)
    #: With SIFT in the band (:mod:`mf_sync.fused`): mean share of an A frame's keypoints that pass the ratio test
    #: in its mapped B frame, for a found tour or one dropped for too low a share.
    sift_share: float | None = None

    @property
    def found(self) -> bool:
        return self.tour is not None


class Stopwatch(dict):
    """Seconds per named stage: ``with watch("tour"): ...``."""

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self[stage] = time.perf_counter() - start


def coarse_tour(coarse_costs: Callable[[], np.ndarray], rate: float, watch: Stopwatch,
                min_seconds: float = MIN_SECONDS) -> tuple[Tour | None, np.ndarray]:
    """The three coarse stages, timed: cost matrix, de-correlation, tour. Returns the tour and the cleaned costs.

    ``coarse_costs`` makes a fresh matrix: the de-correlation overwrites it.
    """
    with watch("costs"):
        coarse = coarse_costs()
    with watch("decorrelate"):
        decorrelated = decorrelate(coarse, overwrite=True)
    with watch("tour"):
        tour = match_tour(decorrelated, rate, min_seconds=min_seconds)
    return tour, decorrelated


def align_costs(coarse_costs: Callable[[], np.ndarray], box: CostBox, lengths: tuple[int, int], fps: float,
                scale: Scale, free_ends: bool = False) -> Alignment:
    """Align two videos from their coarse cost matrix (every ``scale.step``-th frame) and full-rate cost boxes.

    ``lengths`` are the frame counts of videos A (the rows) and B (the columns). ``free_ends``: the path runs
    on past the tour's ends while frames still match (:mod:`mf_sync.ends`).
    """
    step, watch = scale.step, Stopwatch()
    tour, decorrelated = coarse_tour(coarse_costs, fps / step, watch, scale.min_seconds)
    if tour is None:
        empty = np.zeros(0)
        return Alignment(empty.astype(np.int64), empty, empty, None, decorrelated, step, dict(watch))
    with watch("fine"):
        anchor = (int(tour.rows[0]) * step, int(tour.cols[0]) * step)
        head = lead_in(anchor, box, fps) if free_ends else None  # first: SIFT windows only move forward
        path = refine(tour, step, box, lengths[1])
        if head is not None:
            tail = lead_out((int(path[-1, 0]), int(path[-1, 1])), box, lengths, fps)
            path = np.vstack([head[:-1], path, tail[1:]])
        frames_a, frames_b = frame_mapping(path)
        confidence = np.interp(frames_a, tour.rows * step, tour.confidence)
        confidence[in_long_gap(frames_a, tour.rows * step, MAX_GAP_SECONDS * fps)] = 0.0
    return Alignment(frames_a, frames_b, confidence, tour, decorrelated, step, dict(watch))


def in_long_gap(frames: np.ndarray, tour_frames: np.ndarray, longest: float) -> np.ndarray:
    """Per frame of A: does it lie strictly inside a gap of more than ``longest`` frames between tour points?

    The tour has no distinct point there: A may have driven a detour that B never shows (the full-rate path
    through the gap is then a guess), or the valley is weak. Such frames keep their mapping with confidence 0:
    on validation drives, leaving them out made the mapping markedly more precise but lost part of the
    overlap, so the choice is left to the user (filter on confidence).
    """
    if len(tour_frames) < 2:
        return np.zeros(len(frames), bool)
    k = np.clip(np.searchsorted(tour_frames, frames, side="right") - 1, 0, len(tour_frames) - 2)
    lo, hi = tour_frames[k], tour_frames[k + 1]
    return (hi - lo > longest) & (frames > lo) & (frames < hi)


def align_descriptors(desc_a: np.ndarray, desc_b: np.ndarray, fps: float, scale: Scale | None = None
                      ) -> Alignment:
    """Align two videos given full-rate descriptors of every frame (Euclidean costs); ``scale``: from their
    lengths (:func:`scale_for`) unless given."""
    lengths = (len(desc_a), len(desc_b))
    scale = scale or scale_for(lengths, fps)
    step = scale.step
    return align_costs(lambda: cost_matrix(desc_a[::step], desc_b[::step]),
                       lambda a0, a1, b0, b1: cost_matrix(desc_a[a0:a1 + 1], desc_b[b0:b1 + 1]),
                       lengths, fps, scale)
