"""Monotone minimum-cost paths through cost matrices (thesis eq. 4.5/4.6), vectorised per column.

A path moves down (the row video advances, the column video waits), right, or
diagonally; it never plays either video backwards. Column by column, the cost
of reaching row ``i`` is ``C[i, j] + min(m_i, x_{i-1})`` with ``m_i`` the best
entry from the previous column; that recurrence is a running minimum over
``m_k - S_{k-1}`` plus the column's cumulative sum ``S_i``, so each column is
a handful of NumPy calls instead of a Python loop over rows. Backtracking keeps,
per cell, where its vertical run started and whether it entered diagonally.

``diagonal=2`` charges a diagonal step its cell twice (symmetric dynamic time
warping, Sakoe & Chiba): every corner-to-corner path then carries the same total
weight, so a path that waits (one video stands still at a traffic light) is not
out-bid by a shorter diagonal through wrong matches. The thesis's coarse
search uses equal weights (``diagonal=1``); the full-rate boxes use 2.
"""

from __future__ import annotations

import numpy as np


def _column(costs: np.ndarray, entry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Accumulated costs of one column given the cost ``entry[i]`` of entering row i from the left.

    Returns the costs and, per row, the row its vertical run entered the column at.
    """
    cumulative = np.cumsum(costs, dtype=np.float64)
    before = np.concatenate([[0.0], cumulative[:-1]])
    candidates = entry - before
    running = np.minimum.accumulate(candidates)
    rows = np.arange(len(costs))
    start = np.maximum.accumulate(np.where(candidates <= running, rows, 0))
    return cumulative + running, start


def min_path(costs: np.ndarray, free_start: bool, end_row: int | None = None,
             diagonal: float = 1.0) -> tuple[np.ndarray, float]:
    """The cheapest monotone path from the left column to the right column.

    ``free_start``: the path may enter at any row of the first column at no cost
    (the thesis's artificial start node); otherwise it starts at (0, 0). It ends
    at ``end_row`` of the last column, or wherever that column is cheapest.
    Returns the path as (n, 2) array of (row, column) and its total (weighted) cost.
    """
    rows, cols = costs.shape
    data = costs.astype(np.float64)
    starts = np.zeros((rows, cols), np.int32)
    entered_diagonally = np.zeros((rows, cols), bool)
    if free_start:
        acc = data[:, 0].copy()
        starts[:, 0] = np.arange(rows)
    else:
        entry = np.full(rows, np.inf)
        entry[0] = 0.0
        acc, starts[:, 0] = _column(data[:, 0], entry)
    for j in range(1, cols):
        up_left = np.concatenate([[np.inf], acc[:-1]]) + (diagonal - 1.0) * data[:, j]
        entered_diagonally[:, j] = up_left < acc
        entry = np.minimum(acc, up_left)
        acc, starts[:, j] = _column(data[:, j], entry)
    row = int(np.argmin(acc)) if end_row is None else int(end_row)
    total = float(acc[row])
    path = []
    for j in range(cols - 1, -1, -1):
        start = int(starts[row, j])
        path.extend((r, j) for r in range(row, start - 1, -1))
        row = start - 1 if entered_diagonally[start, j] else start
    return np.asarray(path[::-1], dtype=np.int64), total
