"""Tabula-rasa label generation (thesis 4.3.2): triplets without any annotation.

Labels are positive frame pairs; every batch draws negatives for them.

- **Iteration 0, intra-video**: two frames of one video at most 15 frames apart
  are the same place; a frame of the same video at least ``FAR`` frames *of
  motion* away is not (:mod:`mf_sync.motion` counts the frames in which the view
  changed, so a stop at a light does not make a frame "far" from itself).
- **Iteration 1+, inter-video**: the current network describes every 10th frame (place features)
  of every video; for each video pair a matching tour is sought in the
  de-correlated cost matrix (:func:`mf_sync.tour.match_tour`), and every tour
  point is a positive pair, however different the two frames look now.
  Negatives come from the second video, ``FAR`` frames of motion or more off the tour.
- **Iteration 2+, transitive**: "has a matching tour" is an equivalence
  relation; videos linked through a third one get positive pairs by composing
  the two tours' frame mappings, including pairs whose own cost matrix did not
  reveal a tour yet.

Earlier kinds are kept (the thesis augments the data set): iteration 1 mixes
intra and inter labels, iteration 2+ intra, inter and transitive in equal
parts. Negatives are hard (the candidate the network currently finds most
similar to the anchor) with probability 0.5, else random.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .costs import cost_matrix, decorrelate
from .tour import match_tour

#: Intra-video positives are at most this many frames apart (the thesis: 15).
NEAR = 15
#: Negatives are at least this many frames of motion (3 s of driving) from the anchor's match.
FAR = 90
#: Coarse step of label generation (every 10th frame).
STEP = 10
HARD_SHARE = 0.5
#: Candidates scored for each hard negative.
CANDIDATES = 64


@dataclass
class Pairs:
    """Positive pairs (video_a, frame_a, video_b, frame_b) of one kind, as int arrays."""

    kind: str
    va: np.ndarray
    fa: np.ndarray
    vb: np.ndarray
    fb: np.ndarray

    def __len__(self) -> int:
        return len(self.va)


@dataclass
class Tours:
    """Matching tours found between video pairs: (u, v) → (frames of u, frames of v), full-rate indices."""

    found: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def pairs(self) -> Pairs:
        items = [(u, v, fu, fv) for (u, v), (fu, fv) in self.found.items()]
        if not items:
            empty = np.zeros(0, np.int64)
            return Pairs("inter", empty, empty, empty, empty)
        return Pairs("inter", np.concatenate([np.full(len(fu), u) for u, _, fu, _ in items]),
                     np.concatenate([fu for *_, fu, _ in items]),
                     np.concatenate([np.full(len(fv), v) for _, v, _, fv in items]),
                     np.concatenate([fv for *_, fv in items]))

    def mapping(self, u: int, v: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Tour points from u to v (either direction stored)."""
        if (u, v) in self.found:
            return self.found[(u, v)]
        if (v, u) in self.found:
            fv, fu = self.found[(v, u)]
            return fu, fv
        return None

    def classes(self, videos: int) -> list[list[int]]:
        """Equivalence classes of videos linked by tours (union-find)."""
        parent = list(range(videos))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for u, v in self.found:
            parent[root(u)] = root(v)
        groups: dict[int, list[int]] = {}
        for i in range(videos):
            groups.setdefault(root(i), []).append(i)
        return [g for g in groups.values() if len(g) > 1]


def find_tours(coarse: list[np.ndarray], fps: list[float], step: int = STEP) -> Tours:
    """Matching tours between every pair of videos from their coarse features (every ``step``-th frame)."""
    tours = Tours()
    for u in range(len(coarse)):
        for v in range(u + 1, len(coarse)):
            costs = decorrelate(cost_matrix(coarse[u], coarse[v]), overwrite=True)
            tour = match_tour(costs, min(fps[u], fps[v]) / step)
            if tour is not None:
                tours.found[(u, v)] = (tour.rows * step, tour.cols * step)
    return tours


def intra_pairs(lengths: list[int], count: int, rng: np.random.Generator) -> Pairs:
    """Iteration 0: frames at most ``NEAR`` apart in one video."""
    va = rng.integers(0, len(lengths), count)
    fa = np.array([rng.integers(0, lengths[v]) for v in va])
    offset = rng.integers(1, NEAR + 1, count) * rng.choice([-1, 1], count)
    fb = np.clip(fa + offset, 0, np.asarray(lengths)[va] - 1)
    return Pairs("intra", va, fa, va.copy(), fb)


def transitive_pairs(tours: Tours, videos: int) -> Pairs:
    """Compose tours X→V and V→Y into pairs of X and Y, for every chain in every equivalence class."""
    va, fa, vb, fb = [], [], [], []
    for group in tours.classes(videos):
        for x in group:
            for y in group:
                if x >= y:
                    continue
                for via in group:
                    first, second = tours.mapping(x, via), tours.mapping(via, y)
                    if via in (x, y) or first is None or second is None:
                        continue
                    fx, fv = first
                    gv, gy = second
                    order = np.argsort(gv, kind="stable")
                    inside = (fv >= gv.min()) & (fv <= gv.max())
                    if inside.sum() < 2:
                        continue
                    mapped = np.round(np.interp(fv[inside], gv[order], gy[order])).astype(np.int64)
                    va.append(np.full(int(inside.sum()), x))
                    fa.append(fx[inside])
                    vb.append(np.full(int(inside.sum()), y))
                    fb.append(mapped)
    if not va:
        empty = np.zeros(0, np.int64)
        return Pairs("transitive", empty, empty, empty, empty)
    return Pairs("transitive", *(np.concatenate(a) for a in (va, fa, vb, fb)))


class TripletSampler:
    """Batches of (anchor, positive, negative) indices from a mix of label kinds, with hard negatives.

    ``travel`` holds each video's :func:`mf_sync.motion.travel` (frames of motion so far);
    ``coarse`` the current network's descriptors of every ``STEP``-th frame of each video;
    hard negatives are the candidates nearest to the anchor's descriptor.
    """

    def __init__(self, kinds: list[Pairs], travel: list[np.ndarray], coarse: list[np.ndarray],
                 rng: np.random.Generator):
        self.kinds = [k for k in kinds if len(k)]
        self.travel, self.coarse, self.rng = travel, coarse, rng
        self.lengths = [len(t) for t in travel]

    def _negative(self, va: int, fa: int, vb: int, fb: int) -> tuple[int, int]:
        """A frame of video ``vb`` at least ``FAR`` frames of motion from ``fb`` (hard with probability 0.5)."""
        travel = self.travel[vb]
        allowed = np.flatnonzero(np.abs(travel - travel[fb]) >= FAR)
        if not len(allowed):  # a short video: any frame of another video instead
            other = int(self.rng.choice([v for v in range(len(self.lengths)) if v != vb]))
            return other, int(self.rng.integers(self.lengths[other]))
        if self.rng.random() >= HARD_SHARE:
            return vb, int(self.rng.choice(allowed))
        candidates = self.rng.choice(allowed, min(CANDIDATES, len(allowed)), replace=False)
        anchor = self.coarse[va][min(fa // STEP, len(self.coarse[va]) - 1)]
        described = self.coarse[vb][np.minimum(candidates // STEP, len(self.coarse[vb]) - 1)]
        return vb, int(candidates[np.argmin(((described - anchor) ** 2).sum(axis=1))])

    def __call__(self, batch: int) -> tuple[np.ndarray, np.ndarray]:
        """(videos (3B,), frames (3B,)) stacked as anchors, positives, negatives."""
        videos, frames = np.zeros((3, batch), np.int64), np.zeros((3, batch), np.int64)
        for b in range(batch):
            pairs = self.kinds[int(self.rng.integers(len(self.kinds)))]
            k = int(self.rng.integers(len(pairs)))
            va, fa, vb, fb = int(pairs.va[k]), int(pairs.fa[k]), int(pairs.vb[k]), int(pairs.fb[k])
            if self.rng.random() < 0.5:  # both directions of a pair are labels
                va, fa, vb, fb = vb, fb, va, fa
            vn, fn = self._negative(va, fa, vb, fb)
            videos[:, b], frames[:, b] = (va, vb, vn), (fa, fb, fn)
        return videos.ravel(), frames.ravel()
