"""The network's tour, refined in a band whose costs add SIFT matches to the network's distances.

The network finds the matching tour (coarse, every 10th frame): its place
features recognise places across appearance changes, and one vector per frame
makes the cost matrix of two long videos cheap. Which *frame* of a place
matches is another question: the network was trained to give frames up to 15
apart the same descriptor (the intra-video positives of thesis 4.3.2), so its
distances are flat along a short stretch of road, while SIFT keypoints move
with every frame. The full-rate band around the tour (:mod:`mf_sync.fine`)
therefore costs ``d + SIFT_WEIGHT · s`` per frame pair: ``d`` the place-feature
distance (in [0, 2]), ``s`` the SIFT cost of :func:`mf_sync.baselines.sift.match_costs`
(in [0, 1]). With these costs the path also runs on past the tour's ends while
frames still match (:mod:`mf_sync.ends`). SIFT is computed only for the frames
the band and its ends ask for, streamed (:class:`mf_sync.baselines.sift.SiftStream`).

A fixed sum keeps the band's boxes on one scale, so the path between them
compares like with like. Chosen on two sets of validation drives rendered from
training photographs (``mf synth sync --pool train --length 500``: 3 routes x
3 drives with ``--seed 7``, 4 x 3 with ``--seed 11``), then ``mf bench sync
--drives DIR --no-baselines``; the share of overlapping frames within ±4:

==========================================================  ============  =============
band                                                        ``--seed 7``  ``--seed 11``
==========================================================  ============  =============
network alone                                               72.3 %        71.0 %
+ SIFT votes (:func:`~mf_sync.baselines.sift.sift_costs`)             76.3 %        76.6 %
+ free ends (:mod:`mf_sync.ends`)                           80.3 %        77.0 %
SIFT matches for votes (:func:`~mf_sync.baselines.sift.match_costs`)  82.7 %        77.5 %
==========================================================  ============  =============

Within ±1 the last step took 53.3 → 59.2 % and 50.3 → 50.0 %. Runs differ by
about half a point: FLANN's trees are random. In throwaway sweeps on the same
drives, SIFT weights of 0.5, 1.5, 3 and 4 and a per-box rescaling of both
costs to [0, 1] did no better than 2, and SIFT costs alone in the band did
worse on one set.

The band's SIFT also checks the tour. Two short clips that share no road can
still hold a tour of the network's distances: 3 of 12 such pairs passed the
reversal nulls of :mod:`mf_sync.tour` in ``mf bench sync --clips 12``. Along
a true mapping an A frame's keypoints find their own points in the B frame it
maps to; along a false one they do not. Every ``fps / 4``-th frame of A in the
band's boxes along the tour is matched against each B frame of its box with
Lowe's ratio test (:func:`mf_sync.baselines.sift.ratio_shares`, one frame against one frame, so
the share does not depend on the box's width as the band's costs do), and a
tour whose mapped frames share less than :data:`MIN_RATIO_SHARE` on average is
dropped. Measured on the benchmark's clips (seed 0): the 10 true tours 0.17 to
0.47, the 3 false ones 0.024 to 0.042 (the band's own costs: 0.12 to 0.43
against 0.049 to 0.071, too close to draw a line).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from .align import Alignment, Scale, align_costs
from .baselines.sift import match_costs, ratio_shares
from .costs import cost_matrix

#: Weight of the SIFT cost against the place-feature distance in the band.
SIFT_WEIGHT = 2.0
#: Least mean share of an A frame's keypoints passing the ratio test in its mapped B frame for a tour to stand:
#: about halfway (geometrically) between the highest false tour's measured share and the lowest true tour's.
MIN_RATIO_SHARE = 0.08
#: A frames checked per second of video.
CHECKS_PER_SECOND = 4
#: Boxes wider than this many seconds of B (a gap in the tour, the free ends' boxes of 30 s) are not checked:
#: matching a frame against every frame of such a box cost as much as the band's own SIFT costs (a drive's
#: fine stage 13.9 → 18.1 s per pair); the boxes along the tour, a few coarse steps wide, hold most of it.
CHECK_SECONDS = 2.0

#: SIFT descriptors of frames ``first`` to ``last`` inclusive (:meth:`mf_sync.baselines.sift.SiftStream.window`).
SiftWindow = Callable[[int, int], list[np.ndarray]]


def fused_costs(places_a: np.ndarray, places_b: np.ndarray, sift_a: list[np.ndarray],
                sift_b: list[np.ndarray]) -> np.ndarray:
    """Band costs of two runs of frames: place-feature distances plus ``SIFT_WEIGHT`` times SIFT costs."""
    costs = cost_matrix(places_a, places_b)
    costs += SIFT_WEIGHT * match_costs(sift_a, sift_b)
    return costs


class _Band:
    """The band's cost boxes (:func:`fused_costs`); :data:`CHECKS_PER_SECOND` rows of A are also matched against
    each B frame of their box (:func:`ratio_shares`; boxes up to :data:`CHECK_SECONDS` of B wide) to check the
    mapping afterwards."""

    def __init__(self, places_a: np.ndarray, places_b: np.ndarray, sift_a: SiftWindow, sift_b: SiftWindow,
                 fps: float) -> None:
        self.places_a, self.places_b, self.sift_a, self.sift_b = places_a, places_b, sift_a, sift_b
        self.stride, self.widest = max(1, round(fps / CHECKS_PER_SECOND)), round(CHECK_SECONDS * fps)
        self.checks: dict[int, list[tuple[int, np.ndarray]]] = {}  # row of A: (first B frame, shares) per box

    def __call__(self, a0: int, a1: int, b0: int, b1: int) -> np.ndarray:
        window_a, window_b = self.sift_a(a0, a1), self.sift_b(b0, b1)
        if b1 - b0 < self.widest:
            rows = range(-(-a0 // self.stride) * self.stride, min(a1 + 1, a0 + len(window_a)), self.stride)
            for a, shares in zip(rows, ratio_shares([window_a[a - a0] for a in rows], window_b)):
                self.checks.setdefault(a, []).append((b0, shares))
        return fused_costs(self.places_a[a0:a1 + 1], self.places_b[b0:b1 + 1], window_a, window_b)

    def ratio_share(self, frames_a: np.ndarray, frames_b: np.ndarray) -> float | None:
        """Mean ratio-test share of the checked rows of A in their mapped B frames (rounded); None if no row
        of the mapping was checked."""
        shares = []
        for a, b in zip(frames_a, np.rint(frames_b).astype(np.int64)):
            found = [row[b - b0] for b0, row in self.checks.get(int(a), []) if 0 <= b - b0 < len(row)]
            if found:
                shares.append(found[0])
        return float(np.mean(shares)) if shares else None


def align_fused(places_a: np.ndarray, places_b: np.ndarray, sift_a: SiftWindow, sift_b: SiftWindow, fps: float,
                scale: Scale) -> Alignment:
    """Align two videos: the tour from their place features, the band from :func:`fused_costs`; a tour whose
    mapped frames pass the ratio test too rarely (:data:`MIN_RATIO_SHARE`) is dropped."""
    step = scale.step
    band = _Band(places_a, places_b, sift_a, sift_b, fps)
    result = align_costs(lambda: cost_matrix(places_a[::step], places_b[::step]), band,
                         (len(places_a), len(places_b)), fps, scale, free_ends=True)
    if result.found:
        result.sift_share = band.ratio_share(result.frames_a, result.frames_b)
        if result.sift_share is not None and result.sift_share < MIN_RATIO_SHARE:
            empty = np.zeros(0)
            return replace(result, frames_a=empty.astype(np.int64), frames_b=empty, confidence=empty, tour=None)
    return result
