"""Frame-accurate alignment from a coarse tour (thesis 4.3.4): paths through small boxes at full frame rate.

The coarse tour (every ``step``-th frame) is cut into chunks; each chunk's
first and last points, scaled to full-rate frames, are the corners of a box in
which the full-rate costs are computed and the vanilla monotone path from
corner to corner is found, with symmetric step weights
(:func:`mf_sync.paths.min_path`, ``diagonal=2``) so that waiting at a stop costs
what driving on does. Only those boxes are ever evaluated: a band around
the coarse tour instead of the full matrix, which for two 35-minute videos
would hold four billion entries.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .paths import min_path
from .tour import Tour

#: Coarse tour points per box.
CHUNK = 12

CostBox = Callable[[int, int, int, int], np.ndarray]


def refine(tour: Tour, step: int, costs: CostBox, chunk: int = CHUNK) -> np.ndarray:
    """Full-rate path (n, 2) of (frame in A, frame in B) through the boxes between tour anchors.

    ``costs(a0, a1, b0, b1)`` returns the (a1-a0+1, b1-b0+1) full-rate cost box.
    """
    anchors = np.unique(np.r_[np.arange(0, len(tour), chunk), len(tour) - 1])
    points = [np.array([[tour.rows[anchors[0]] * step, tour.cols[anchors[0]] * step]])]
    for k0, k1 in zip(anchors[:-1], anchors[1:]):
        a0, b0 = int(tour.rows[k0]) * step, int(tour.cols[k0]) * step
        a1, b1 = int(tour.rows[k1]) * step, int(tour.cols[k1]) * step
        box = costs(a0, a1, b0, b1)
        path, _ = min_path(box, free_start=False, end_row=a1 - a0, diagonal=2.0)
        points.append(path[1:] + [a0, b0])
    return np.concatenate(points)
