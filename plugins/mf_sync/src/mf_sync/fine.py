"""Frame-accurate alignment from a coarse tour (thesis 4.3.4): a path at full frame rate in a band around it.

The coarse tour (every ``step``-th frame) says where the match is to within a
coarse step. Between two consecutive tour points the full-rate path may go
anywhere in the box they span, widened by ``pad`` frames of B on both sides
(a coarse point is only as good as the nearest sampled frame); the union of
these boxes is a band of B frames for every frame of A. The full-rate costs are
computed only there, and the cheapest monotone path from the tour's first
point to its last is found with symmetric step weights
(:func:`mf_sync.paths.banded_min_path`, ``diagonal=2``) so that waiting at a
stop costs what driving on does.

Where the coarse tour has a gap (points failed the distinctness test, or A
drove a detour), the box between the two tour points around it is large and
the full-rate costs alone decide the path there; elsewhere the band is a
coarse step wide. For two 35-minute videos it holds a few million entries
instead of the full matrix's four billion.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .paths import band_offsets, banded_min_path
from .tour import Tour

CostBox = Callable[[int, int, int, int], np.ndarray]


def band(tour: Tour, step: int, frames_b: int, pad: int) -> tuple[np.ndarray, np.ndarray, list[tuple[int, ...]]]:
    """Per full-rate row from the tour's first to its last frame of A: the band's first and last B frame.

    Also returns the boxes ``(a0, a1, b0, b1)`` (inclusive, absolute frames) whose union is the band.
    """
    rows, cols = tour.rows.astype(np.int64) * step, tour.cols.astype(np.int64) * step
    first = int(rows[0])
    lo = np.full(int(rows[-1]) - first + 1, np.iinfo(np.int64).max)
    hi = np.full(len(lo), -1)
    boxes = []
    for k in range(max(1, len(rows) - 1)):
        k1 = min(k + 1, len(rows) - 1)
        a0, a1 = int(rows[k]), int(rows[k1])
        b0, b1 = max(0, int(cols[k]) - pad), min(frames_b - 1, int(cols[k1]) + pad)
        lo[a0 - first:a1 - first + 1] = np.minimum(lo[a0 - first:a1 - first + 1], b0)
        hi[a0 - first:a1 - first + 1] = np.maximum(hi[a0 - first:a1 - first + 1], b1)
        boxes.append((a0, a1, b0, b1))
    return lo, hi, boxes


def refine(tour: Tour, step: int, costs: CostBox, frames_b: int, pad: int | None = None) -> np.ndarray:
    """Full-rate path (n, 2) of (frame in A, frame in B) through the band around the tour.

    ``costs(a0, a1, b0, b1)`` returns the (a1-a0+1, b1-b0+1) full-rate cost box; ``frames_b`` is B's frame
    count; ``pad`` (default: ``step``) widens the band.
    """
    pad = step if pad is None else pad
    lo, hi, boxes = band(tour, step, frames_b, pad)
    first = int(tour.rows[0]) * step
    offsets = band_offsets(lo, hi)
    flat = np.full(int((hi - lo + 1).sum()), np.inf)
    for a0, a1, b0, b1 in boxes:
        box = costs(a0, a1, b0, b1)
        for r in range(a0 - first, a1 - first + 1):
            flat[offsets[r] + b0 - lo[r]:offsets[r] + b1 - lo[r] + 1] = box[r - (a0 - first)]
    start, end = int(tour.cols[0]) * step, int(tour.cols[-1]) * step
    path, _ = banded_min_path(flat, lo, hi, start, end, diagonal=2.0)
    return path + [first, 0]
