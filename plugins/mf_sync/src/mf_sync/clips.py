"""Short clips cut from rendered drives, with their ground truth: the short-clip cases of ``mf bench sync``.

Two phone clips of one event share a few seconds, not minutes; ``mf run sync`` scales its coarse step and a
tour's shortest span to the videos (:func:`mf_sync.align.scale_for`) so that such clips can match. The clips
here test that on known truth: a pair of drives that share road gives a pair of clips sharing
``OVERLAP_SECONDS`` of it, each clip running on up to ``MARGIN_SECONDS`` before and after the shared stretch
(frames the other clip does not show); a pair of drives that share no road gives a pair of clips of
``DISJOINT_SECONDS`` on which any tour found is false. The clips are re-encoded files, as a user's would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mfcore.kit import iter_video, write_video

from .truth import Truth, ground_truth_ranges

#: Seconds of road the two clips of an overlapping pair share (uniform in this range).
OVERLAP_SECONDS = (3.0, 8.0)
#: Seconds each clip runs on before and after the shared stretch (uniform in this range, per end).
MARGIN_SECONDS = (0.0, 3.0)
#: Length of each clip of a pair that shares no road.
DISJOINT_SECONDS = (5.0, 12.0)


@dataclass(frozen=True)
class Clip:
    """Frames ``first`` (inclusive) to ``last`` (exclusive) of drive ``drive``."""

    drive: int
    first: int
    last: int


def _shared_window(ranges: list[tuple[int, int] | None], frames: int) -> list[int]:
    """First frames of A from which ``frames`` consecutive frames all have a match in B."""
    shared = np.array([r is not None for r in ranges], dtype=np.int64)
    run_sums = np.convolve(shared, np.ones(frames, dtype=np.int64), mode="valid")
    return np.flatnonzero(run_sums == frames).tolist()


def overlapping_clips(ranges: list[tuple[int, int] | None], drives: tuple[int, int], lengths: tuple[int, int],
                      fps: float, rng: np.random.Generator) -> tuple[Clip, Clip] | None:
    """A pair of clips of drives ``drives`` (A, B) sharing ``OVERLAP_SECONDS`` of road; None if they cannot."""
    want = int(round(rng.uniform(*OVERLAP_SECONDS) * fps))
    starts = _shared_window(ranges, want)
    if not starts:
        return None
    a0 = int(rng.choice(starts))
    b_lo = min(ranges[f][0] for f in range(a0, a0 + want))  # type: ignore[index]
    b_hi = max(ranges[f][1] for f in range(a0, a0 + want))  # type: ignore[index]
    margin = (rng.uniform(*MARGIN_SECONDS, size=4) * fps).round().astype(int)
    return (Clip(drives[0], max(0, a0 - margin[0]), min(lengths[0], a0 + want + margin[1])),
            Clip(drives[1], max(0, b_lo - margin[2]), min(lengths[1], b_hi + 1 + margin[3])))


def disjoint_clips(drives: tuple[int, int], lengths: tuple[int, int], fps: float,
                   rng: np.random.Generator) -> tuple[Clip, Clip]:
    """A pair of clips of ``DISJOINT_SECONDS`` each from two drives that share no road."""
    clips = []
    for drive, length in zip(drives, lengths):
        frames = min(length, int(round(rng.uniform(*DISJOINT_SECONDS) * fps)))
        first = int(rng.integers(0, length - frames + 1))
        clips.append(Clip(drive, first, first + frames))
    return clips[0], clips[1]


def write_clip(source: Path, clip: Clip, path: Path, fps: float) -> Path:
    """Frames ``clip.first`` to ``clip.last`` of the video ``source`` as the video ``path``."""
    return write_video(path, iter_video(source, clip.first, clip.last - clip.first), fps)


def clip_truth(truth: Truth, clip: Clip) -> Truth:
    """The ground truth of a clip's frames."""
    return Truth(truth.routes[clip.first:clip.last], truth.positions[clip.first:clip.last])


def cut_clips(folder: Path, names: list[str], overlapping: list[tuple[int, int, list]],
              disjoint: list[tuple[int, int]], fps: float, count: int, seed: int, out: Path
              ) -> tuple[list[str], list[tuple[int, int, list]], list[tuple[int, int]]]:
    """Write ``count`` overlapping and up to ``count`` disjoint clip pairs of the drives ``names`` in ``folder``
    to ``out``; return the clips' names and, as for drives, the overlapping pairs (indices into the names, with
    their ground-truth ranges) and the disjoint pairs."""
    rng = np.random.default_rng(seed)
    truths = [Truth.read(folder / f"{n}.truth.csv") for n in names]
    lengths = [len(t) for t in truths]
    clip_names: list[str] = []
    pairs_over: list[tuple[int, int, list]] = []
    pairs_apart: list[tuple[int, int]] = []

    def add(clip: Clip) -> int:
        name = f"clip{len(clip_names):03d}_{names[clip.drive]}"
        write_clip(folder / f"{names[clip.drive]}.mp4", clip, out / f"{name}.mp4", fps)
        clip_names.append(name)
        return len(clip_names) - 1

    for k in range(count if overlapping else 0):
        i, j, ranges = overlapping[k % len(overlapping)]
        pair = overlapping_clips(ranges, (i, j), (lengths[i], lengths[j]), fps, rng)
        if pair is None:
            continue
        shared = ground_truth_ranges(clip_truth(truths[i], pair[0]), clip_truth(truths[j], pair[1]))
        pairs_over.append((add(pair[0]), add(pair[1]), shared))
    for k in range(count if disjoint else 0):
        i, j = disjoint[k % len(disjoint)]
        a, b = disjoint_clips((i, j), (lengths[i], lengths[j]), fps, rng)
        pairs_apart.append((add(a), add(b)))
    return clip_names, pairs_over, pairs_apart
