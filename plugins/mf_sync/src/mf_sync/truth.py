"""Ground truth of rendered drives and the accuracy of an alignment against it.

A frame of A and a frame of B show the same place when they are on the same
route at the same position. Where B stands still, every frame of the stop is
correct; the error of a predicted B frame is its distance (in frames of B) to
the nearest B frame that is on A's route within half a frame's travel of A's
position. A's frames are "overlapping" when B passes their position at all.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mfcore import InputError


@dataclass(frozen=True)
class Truth:
    """Per frame of a drive: route name and position along it (m)."""

    routes: np.ndarray
    positions: np.ndarray

    @classmethod
    def read(cls, path: str | Path) -> Truth:
        try:
            with open(path, newline="") as handle:
                rows = list(csv.DictReader(handle))
            return cls(np.array([r["route"] for r in rows]), np.array([float(r["position_m"]) for r in rows]))
        except (OSError, KeyError, ValueError) as exc:
            raise InputError(f"{path}: not a drive ground-truth file ({exc})") from exc

    def __len__(self) -> int:
        return len(self.positions)


def _matches(a: Truth, b: Truth, frame: int) -> tuple[int, int] | None:
    """The range [lo, hi] of B frames that show frame ``frame`` of A's place, or None."""
    route, position = a.routes[frame], a.positions[frame]
    on_route = np.flatnonzero(b.routes == route)
    if not len(on_route):
        return None
    pos = b.positions[on_route]
    steps = np.abs(np.diff(pos))
    tolerance = 0.5 * max(float(np.median(steps[steps > 0])) if np.any(steps > 0) else 0.0, 1e-3)
    close = on_route[np.abs(pos - position) <= tolerance]
    if len(close):
        return int(close.min()), int(close.max())
    below, above = on_route[pos < position], on_route[pos > position]
    if not len(below) or not len(above):
        return None
    lo, hi = int(below[np.argmax(pos[pos < position])]), int(above[np.argmin(pos[pos > position])])
    return (lo, hi) if abs(hi - lo) == 1 else None  # B passes A's place between two consecutive frames


def ground_truth_ranges(a: Truth, b: Truth) -> list[tuple[int, int] | None]:
    """Per frame of A, the range of B frames showing the same place (None: B never passes there)."""
    return [_matches(a, b, i) for i in range(len(a))]


def alignment_errors(ranges: list[tuple[int, int] | None], frames_a: np.ndarray, frames_b: np.ndarray) -> dict:
    """Accuracy of a mapping: share of overlapping A frames within ±1 and ±4 frames, share of mapped frames
    within ±4 (``precision_4``: mapping a frame B never shows is wrong), start/end errors (frames)."""
    overlapping = np.array([r is not None for r in ranges])
    total = int(overlapping.sum())
    if total == 0:
        raise InputError("the two drives do not overlap; nothing to measure")
    predicted = dict(zip(frames_a.tolist(), np.round(frames_b).astype(int).tolist()))
    errors = []
    for frame in np.flatnonzero(overlapping):
        lo, hi = ranges[frame]  # type: ignore[misc]
        guess = predicted.get(int(frame))
        errors.append(np.inf if guess is None else max(lo - guess, guess - hi, 0))
    errors_arr = np.asarray(errors, dtype=np.float64)
    first, last = np.flatnonzero(overlapping)[[0, -1]]
    found = len(frames_a) > 0
    mapped_ok = mapped_right(ranges, frames_a, frames_b)
    return {
        "overlap_frames": total,
        "within_1": float(np.mean(errors_arr <= 1)),
        "within_4": float(np.mean(errors_arr <= 4)),
        "precision_4": float(np.mean(mapped_ok)) if found else None,
        "start_error": float(abs(frames_a[0] - first)) if found else None,
        "end_error": float(abs(frames_a[-1] - last)) if found else None,
    }


def mapped_right(ranges: list[tuple[int, int] | None], frames_a: np.ndarray, frames_b: np.ndarray) -> np.ndarray:
    """Per mapped frame of A: is its frame of B within ±4 of one showing the same place (False where B never
    shows A's place, or A's frame lies outside the truth)?"""
    right = np.zeros(len(frames_a), dtype=bool)
    for k, (f, g) in enumerate(zip(frames_a.tolist(), np.round(frames_b).astype(int).tolist())):
        r = ranges[f] if 0 <= f < len(ranges) else None
        right[k] = r is not None and max(r[0] - g, g - r[1], 0) <= 4
    return right


def coarse_truth(ranges: list[tuple[int, int] | None], step: int = 10) -> np.ndarray:
    """(row, column) cells of a coarse cost matrix (every ``step``-th frame) that ground truth marks as matches."""
    cells = [(f // step, (r[0] + r[1]) // (2 * step)) for f, r in enumerate(ranges) if r is not None and f % step == 0]
    return np.asarray(cells, dtype=np.int64).reshape(-1, 2)
