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
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .align import Alignment, Scale, align_costs
from .baselines.sift import match_costs
from .costs import cost_matrix

#: Weight of the SIFT cost against the place-feature distance in the band.
SIFT_WEIGHT = 2.0

#: SIFT descriptors of frames ``first`` to ``last`` inclusive (:meth:`mf_sync.baselines.sift.SiftStream.window`).
SiftWindow = Callable[[int, int], list[np.ndarray]]


def fused_costs(places_a: np.ndarray, places_b: np.ndarray, sift_a: list[np.ndarray],
                sift_b: list[np.ndarray]) -> np.ndarray:
    """Band costs of two runs of frames: place-feature distances plus ``SIFT_WEIGHT`` times SIFT costs."""
    costs = cost_matrix(places_a, places_b)
    costs += SIFT_WEIGHT * match_costs(sift_a, sift_b)
    return costs


def align_fused(places_a: np.ndarray, places_b: np.ndarray, sift_a: SiftWindow, sift_b: SiftWindow, fps: float,
                scale: Scale) -> Alignment:
    """Align two videos: the tour from their place features, the band from :func:`fused_costs`."""
    step = scale.step
    return align_costs(lambda: cost_matrix(places_a[::step], places_b[::step]),
                       lambda a0, a1, b0, b1: fused_costs(places_a[a0:a1 + 1], places_b[b0:b1 + 1],
                                                          sift_a(a0, a1), sift_b(b0, b1)),
                       (len(places_a), len(places_b)), fps, scale, free_ends=True)
