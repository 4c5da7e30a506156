"""The order the RDN sees frames in: a burst sharpest first (after FBA's estimate), a video window centre out.

Which frame of a burst the RDN restores: the sharpest one (lucky imaging, thesis 6.2.5).

In a burst of one static scene every frame shows the same image through its
own camera shake, so any of them may be the target. The recurrent network
starts from the target and refines it with each further observation, so it
pays to start from the sharpest frame and to feed the others from sharp to
blurred. The rule was chosen on bursts of the training photographs; on the
held-out benchmark (``mf bench deblur --bursts 48``) the video weights (``rdn``) score
31.47 dB after 5 frames and 32.63 dB after 12 this way, against 30.76 and
31.48 dB in the order the frames came in. FBA, which weighs every frame's
Fourier magnitudes alike, does not depend on the order.

Sharpness is the mean gradient magnitude (:func:`mfcore.kit.photo_pool.mean_gradient`,
the measure the training data uses to reject blurry patches): blur lowers it,
and every frame of a burst carries the same noise. Videos keep their order:
there the frame to restore is fixed and its neighbours follow by distance.

A burst's recurrence can also start from FBA's fusion of all its frames
instead of from its sharpest frame (:func:`fba_start`): the network is then
trained to improve on FBA, frame by frame, rather than to catch up with it, and
on real bursts it starts from the classical result it must not lose to.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mfcore.kit import mean_gradient

from .baselines.fba import fba


def sharpest_first(frames: np.ndarray) -> np.ndarray:
    """The (N, H, W, C) frames sorted by decreasing sharpness (stable: ties keep their order)."""
    sharpness = np.array([mean_gradient(frame) for frame in frames])
    return frames[np.argsort(-sharpness, kind="stable")]


def centre_out(count: int, centre: int) -> list[int]:
    """Indices 0..count-1 ordered by distance to ``centre``, earlier frames first on ties (a video window
    around the frame being restored, as the dynamic training clips are ordered too)."""
    return sorted(range(count), key=lambda i: (abs(i - centre), i))


#: Frames the RDN refines FBA's fusion with. One: on the real 14-frame burst of Delbracio & Sapiro the first
#: step gains 0.59 dB over FBA and every further step loses some of it (28.06 dB after all 14, 1.6 below FBA),
#: and on independent 8-frame bursts one step gains 0.21 dB on average, two 0.37 but lose up to 1.2 dB on one
#: burst (``mf bench deblur --real DIR``; docs/benchmarks/deblur.md and the model card).
FBA_OBSERVATIONS = 1


def fba_start(fused: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """The (N+1, H, W, C) sequence of a burst that starts from FBA: ``fused`` (FBA of ``frames``, clipped to
    [0, 1]), then the N ``frames`` in the order given (sharpest first, as ``mf run deblur`` sorts them)."""
    return np.concatenate([np.clip(fused, 0.0, 1.0)[None].astype(frames.dtype), frames])


def burst_sequence(frames: np.ndarray, start: str, fuse: Callable[[np.ndarray], np.ndarray] = fba) -> np.ndarray:
    """What the RDN restores a burst from: ``frames`` as ordered; or, when ``start`` is "fba"
    (:func:`mf_deblur.model_io.burst_start` reads it from the weights' card), ``fuse(frames)`` (FBA of all of
    them) followed by the first ``FBA_OBSERVATIONS`` frames (the sharpest, as ``mf run deblur`` orders them)."""
    return fba_start(fuse(frames), frames[:FBA_OBSERVATIONS]) if start == "fba" else frames
