"""Free ends: the full-rate path runs on past the coarse tour's first and last points while frames still match.

A coarse tour point must be distinct (thesis 4.3.3: its ±ε neighbours ξ times
costlier), and a stripe whose path is not clearly better than its reversed
twin is dropped, so tours often stop short of the true overlap. Past each
end, a box of ``REACH_SECONDS`` of A and twice that of B (speeds differ) is
costed; the path continues from the tour's end with the band's moves and
weights and stops where its accumulated score is lowest
(:func:`mf_sync.paths.free_end_path`). A frame pair scores its cost minus its
row's median over the box (what this frame of A costs against frames it does
not show) plus ``MARGIN``: the path runs on only through pairs clearly cheaper
than a non-match. A box less than ``MIN_WIDTH_SECONDS`` of B wide (B ends) has
too few non-matches for that median, and the end stays.

Only the band with SIFT matches (:mod:`mf_sync.fused`) runs on, with its costs'
margin: on the validation drives (see there) the ends took the share of
overlapping frames within ±4 from 76.3 to 80.3 % and from 76.6 to 77.0 %, while
the share of mapped frames that are right went from 68.2 to 68.2 % and from
78.0 to 76.9 % (``mf bench sync --drives DIR --no-baselines``, SIFT votes in
the band). The network's distances alone are too flat along the road: in a
throwaway trial on the same drives, running on through them mapped frames past
the true overlap for a like gain, and margins of 0.15 and 0.4 did no better
than 0.25 with SIFT matches.
"""

from __future__ import annotations

import numpy as np

from .fine import CostBox
from .paths import free_end_path

#: How far past each end of the tour the path may run, in seconds of A (twice that of B).
REACH_SECONDS = 15.0
#: How much cheaper than its row's median a frame pair must be to extend the path (fused cost units).
MARGIN = 0.25
#: The narrowest box of B whose row medians stand for non-matches.
MIN_WIDTH_SECONDS = 2.0


def _scores(costs: np.ndarray, margin: float) -> np.ndarray:
    return costs - np.median(costs, axis=1, keepdims=True) + margin


def lead_in(anchor: tuple[int, int], box: CostBox, fps: float, margin: float = MARGIN) -> np.ndarray:
    """The path (n, 2) of frames (A, B) that ends at ``anchor`` (the tour's first point) and starts where
    the frames before it stop matching; the anchor alone when they do not."""
    a, b = anchor
    reach = round(REACH_SECONDS * fps)
    a0, b0 = max(a - reach, 0), max(b - 2 * reach, 0)
    if a0 == a or b - b0 + 1 < MIN_WIDTH_SECONDS * fps:
        return np.array([anchor], np.int64)
    backwards = free_end_path(_scores(box(a0, a, b0, b)[::-1, ::-1], margin), diagonal=2.0)
    return (np.asarray(anchor) - backwards)[::-1]


def lead_out(anchor: tuple[int, int], box: CostBox, lengths: tuple[int, int], fps: float,
             margin: float = MARGIN) -> np.ndarray:
    """The path (n, 2) of frames (A, B) that starts at ``anchor`` (the tour's last point) and runs on while
    frames match; ``lengths`` are the videos' frame counts."""
    a, b = anchor
    reach = round(REACH_SECONDS * fps)
    a1, b1 = min(a + reach, lengths[0] - 1), min(b + 2 * reach, lengths[1] - 1)
    if a1 == a or b1 - b + 1 < MIN_WIDTH_SECONDS * fps:
        return np.array([anchor], np.int64)
    return free_end_path(_scores(box(a, a1, b, b1), margin), diagonal=2.0) + np.asarray(anchor)
