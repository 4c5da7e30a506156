"""Monotone minimum-cost paths through cost matrices (thesis eq. 4.5/4.6), compiled with numba.

A path moves down (the row video advances, the column video waits), right, or
diagonally; it never plays either video backwards. The accumulated cost of a
cell is its own cost plus the cheapest of its three predecessors; one byte per
cell remembers which, for the backtrack. The matrices are large (6,300 rows
times 270 columns per 90-second stripe for 35-minute videos, four or five times
per stripe for the least-mean path and the null test of :mod:`mf_sync.tour`), so the double loop is compiled:
about two nanoseconds per cell. The searches release the GIL, so that
:mod:`mf_sync.tour` solves stripes on parallel threads.

``diagonal=2`` charges a diagonal step its cell twice (symmetric dynamic time
warping, Sakoe & Chiba): every corner-to-corner path then carries the same total
weight, so a path that waits (one video stands still at a traffic light) is not
out-bid by a shorter diagonal through wrong matches. The thesis's coarse
search uses equal weights (``diagonal=1``); the full-rate band uses 2.

:func:`banded_min_path` is the same recursion restricted to a band of columns
per row (the full-rate search around a coarse tour, :mod:`mf_sync.fine`): only
the band's cells are stored, so two 35-minute videos need a few million cells,
not four billion.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_LEFT, _DIAGONAL, _UP, _START = 0, 1, 2, 3
#: Dinkelbach iterations of :func:`min_mean_path`; it usually settles in three to five.
MEAN_ITERATIONS = 20


@njit(cache=True, nogil=True)
def _accumulate(columns: np.ndarray, free_start: bool, diagonal: float, offset: float = 0.0,
                reverse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Accumulated costs of the last column and the move into every cell (both indexed [column, row]).

    The matrix comes transposed (one column per row of memory) so the inner loop walks contiguous memory.
    ``offset`` is subtracted from every cell (:func:`min_mean_path`) and ``reverse`` reads the rows
    backwards (the null test of :mod:`mf_sync.tour`), both without a copy of the matrix.
    """
    cols, rows = columns.shape
    moves = np.empty((cols, rows), np.int8)
    prev = np.empty(rows)
    cur = np.empty(rows)
    for i in range(rows):
        c = columns[0, rows - 1 - i if reverse else i] - offset
        start = 0.0 if (free_start or i == 0) else np.inf
        up = prev[i - 1] if i > 0 else np.inf
        if start <= up:
            prev[i], moves[0, i] = start + c, _START
        else:
            prev[i], moves[0, i] = up + c, _UP
    for j in range(1, cols):
        for i in range(rows):
            c = columns[j, rows - 1 - i if reverse else i] - offset
            best, move = prev[i], _LEFT
            if i > 0:
                diag = prev[i - 1] + (diagonal - 1.0) * c
                if diag < best:
                    best, move = diag, _DIAGONAL
                if cur[i - 1] < best:
                    best, move = cur[i - 1], _UP
            cur[i], moves[j, i] = best + c, move
        prev, cur = cur, prev
    return prev, moves


@njit(cache=True, nogil=True)
def _previous(move: int, row: int, col: int) -> tuple[int, int]:
    """The cell a move came from."""
    if move == _LEFT:
        return row, col - 1
    if move == _DIAGONAL:
        return row - 1, col - 1
    return row - 1, col


@njit(cache=True, nogil=True)
def _backtrack(moves: np.ndarray, row: int) -> np.ndarray:
    cols, rows = moves.shape
    path = np.empty((rows + cols, 2), np.int64)
    n, j = 0, cols - 1
    while True:
        path[n, 0], path[n, 1] = row, j
        n += 1
        move = moves[j, row]
        if move == _START:
            break
        row, j = _previous(move, row, j)
    return path[:n][::-1].copy()


def min_path(costs: np.ndarray, free_start: bool, end_row: int | None = None,
             diagonal: float = 1.0) -> tuple[np.ndarray, float]:
    """The cheapest monotone path from the left column to the right column.

    ``free_start``: the path may enter at any row of the first column at no cost
    (the thesis's artificial start node); otherwise it starts at (0, 0). It ends
    at ``end_row`` of the last column, or wherever that column is cheapest.
    Returns the path as (n, 2) array of (row, column) and its total (weighted) cost.
    """
    columns = np.ascontiguousarray(np.asarray(costs, np.float32).T)
    last, moves = _accumulate(columns, free_start, float(diagonal))
    row = int(np.argmin(last)) if end_row is None else int(end_row)
    return _backtrack(moves, row), float(last[row])


def columns_of(costs: np.ndarray) -> np.ndarray:
    """The cost matrix stored column by column (float32): one copy, after which every stripe of columns that
    :func:`min_mean_path` and :func:`has_cheaper_path` search is a contiguous view."""
    return np.ascontiguousarray(np.asarray(costs, np.float32).T)


def min_mean_path(columns: np.ndarray, guess: float | None = None,
                  iterations: int = MEAN_ITERATIONS) -> tuple[np.ndarray, float]:
    """The monotone path from any row of the left column to the right column with the least mean cell cost.

    ``columns`` is a stripe of :func:`columns_of`. A least-total path is short:
    where one video stands still or plays much slower, the true valley runs
    steeply through many rows and a flatter path through mediocre cells costs
    less in sum. The mean is blind to the slope. Dinkelbach's method finds it
    with a few least-total searches: the least-total path through ``costs - λ``
    has a mean below ``λ`` unless ``λ`` already is the least mean, so ``λ`` is
    set to each new path's mean until it stops falling. ``guess`` starts ``λ``
    (a neighbouring stripe's mean saves a search; default 0, the least-total
    path). Returns the path as (n, 2) array of (row, column) and its mean cost.
    """
    mean, path = np.inf, np.zeros((0, 2), np.int64)
    offset = 0.0 if guess is None else float(guess)
    for _ in range(iterations):
        last, moves = _accumulate(columns, True, 1.0, offset)
        candidate = _backtrack(moves, int(np.argmin(last)))
        candidate_mean = float(columns[candidate[:, 1], candidate[:, 0]].mean())
        if candidate_mean >= mean - 1e-6 * abs(mean):
            break
        path, mean = candidate, candidate_mean
        offset = mean
    return path, mean


def has_cheaper_path(columns: np.ndarray, mean: float, reverse: bool = False) -> bool:
    """Whether some monotone path from the left column to the right column has a mean cell cost below ``mean``.

    ``columns`` is a stripe of :func:`columns_of`; ``reverse`` plays the row video backwards. One
    least-total search through ``costs - mean``: it ends below zero exactly when such a path exists.
    """
    last, _ = _accumulate(columns, True, 1.0, float(mean), reverse)
    return bool(last.min() < 0)


@njit(cache=True)
def _accumulate_band(costs: np.ndarray, offsets: np.ndarray, lo: np.ndarray, hi: np.ndarray, start: int,
                     diagonal: float) -> tuple[np.ndarray, np.ndarray]:
    """Accumulated costs and moves of every band cell (flat, row r's columns lo[r]..hi[r] at offsets[r])."""
    acc = np.full(len(costs), np.inf)
    moves = np.full(len(costs), -1, np.int8)
    for r in range(len(lo)):
        for b in range(lo[r], hi[r] + 1):
            k = offsets[r] + b - lo[r]
            c = costs[k]
            best, move = np.inf, -1
            if r == 0 and b == start:
                best, move = 0.0, _START
            if b > lo[r] and acc[k - 1] < best:
                best, move = acc[k - 1], _LEFT
            if r > 0 and lo[r - 1] <= b <= hi[r - 1]:
                up = acc[offsets[r - 1] + b - lo[r - 1]]
                if up < best:
                    best, move = up, _UP
            if r > 0 and lo[r - 1] <= b - 1 <= hi[r - 1]:
                diag = acc[offsets[r - 1] + b - 1 - lo[r - 1]] + (diagonal - 1.0) * c
                if diag < best:
                    best, move = diag, _DIAGONAL
            acc[k], moves[k] = best + c, move
    return acc, moves


@njit(cache=True)
def _backtrack_band(moves: np.ndarray, offsets: np.ndarray, lo: np.ndarray, end: int) -> np.ndarray:
    r, b = len(lo) - 1, end
    path = np.empty((len(moves), 2), np.int64)
    n = 0
    while True:
        path[n, 0], path[n, 1] = r, b
        n += 1
        move = moves[offsets[r] + b - lo[r]]
        if move == _START or move < 0:
            break
        r, b = _previous(move, r, b)
    return path[:n][::-1].copy()


def band_offsets(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Where each row of a band (columns ``lo[r]..hi[r]``) starts in the flat array of its cells."""
    return np.r_[0, np.cumsum(np.asarray(hi) - np.asarray(lo) + 1)[:-1]].astype(np.int64)


def banded_min_path(costs: np.ndarray, lo: np.ndarray, hi: np.ndarray, start: int, end: int,
                    diagonal: float = 1.0) -> tuple[np.ndarray, float]:
    """The cheapest monotone path from (0, ``start``) to (last row, ``end``) through a band of columns.

    Row r holds the costs of columns ``lo[r]..hi[r]`` (both non-decreasing in r), concatenated row after row
    in the flat ``costs``. Moves and weights are :func:`min_path`'s, with rows and columns as given. Returns
    the (n, 2) path of (row, column) and its cost; the cost is infinite when the band does not connect the two
    ends.
    """
    lo, hi = np.asarray(lo, np.int64), np.asarray(hi, np.int64)
    offsets = band_offsets(lo, hi)
    if not (lo[0] <= start <= hi[0] and lo[-1] <= end <= hi[-1]):
        raise ValueError("the path's ends lie outside the band")
    acc, moves = _accumulate_band(np.asarray(costs, np.float64), offsets, lo, hi, int(start), float(diagonal))
    total = float(acc[offsets[-1] + end - lo[-1]])
    return _backtrack_band(moves, offsets, lo, int(end)), total


def free_end_path(costs: np.ndarray, diagonal: float = 1.0) -> np.ndarray:
    """The monotone path from the corner (0, 0) that ends wherever its accumulated cost is lowest.

    The corner is where a known path already ends, so its own cost is not counted; the result is the
    corner alone when every continuation adds up to a positive total. With costs measured against a
    threshold (negative where cells match), this is the free end of a local alignment (Smith-Waterman):
    the path runs on while the cells it adds still match. Returns the (n, 2) path of (row, column).
    """
    costs = np.asarray(costs, np.float64)
    rows, cols = costs.shape
    lo, hi = np.zeros(rows, np.int64), np.full(rows, cols - 1, np.int64)
    offsets = band_offsets(lo, hi)
    acc, moves = _accumulate_band(costs.ravel(), offsets, lo, hi, 0, float(diagonal))
    end = int(np.argmin(acc))
    if acc[end] - costs[0, 0] >= 0:
        return np.zeros((1, 2), np.int64)
    row, col = divmod(end, cols)
    return _backtrack_band(moves, offsets[:row + 1], lo[:row + 1], col)
