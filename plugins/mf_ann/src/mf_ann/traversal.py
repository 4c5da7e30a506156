"""Bin proposal by precomputed anisotropic traversal orders (thesis 2.2.2, fig. 2.5).

After tree traversal every part p has a ranked list of candidate cells (the w
closest level-1 clusters, refined to their k2 children, sorted by distance).
A bin is one rank per part. The optimal visiting order (a priority queue over
summed distances, as in the inverted multi-index) is sequential; the thesis
instead walks a *fixed* order of rank tuples, precomputed once, that every query
on a GPU can follow in parallel.

For two parts a and b the order sorts rank pairs (r_a, r_b) by
``r_a² + (s·r_b)²``. A slope s > 1 advances more slowly in b. We precompute it
for the ten slopes 1.08^k, k = -5..4 (the thesis's set).

How a query picks its slope (the thesis leaves this open): the ideal order sorts
by d_a(r_a) + d_b(r_b). Near the start of the lists distances grow roughly
linearly with rank, d(r) ≈ d(0) + g·r, so the ideal contours are lines of slope
g_b / g_a. Each query measures g_a and g_b as the distance gain over the first
``horizon`` ranks of each list and takes the precomputed slope nearest (in log
scale) to g_b / g_a; ratios outside [1.08^-5, 1.08^4] take the end slopes.

More than two parts are merged pairwise in a balanced tree: parts (0,1) and
(2,3) are each merged into one ranked list of pairs with the rule above, the
two pair-lists are merged in turn, and so on (so the number of parts must be a
power of two, as in the thesis's configurations).
Every step is a gather through a precomputed table, so proposal stays
data-parallel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import array_namespace

SLOPES = tuple(1.08**k for k in range(-5, 5))
HORIZON = 8  # ranks over which a query measures each list's distance gain


def pair_orders(ranks: int, length: int) -> np.ndarray:
    """(len(SLOPES), length, 2) int32: the first ``length`` rank pairs for each slope.

    Only ranks below ~2·sqrt(length) can be among the first ``length`` pairs for any of
    the slopes (the quarter ellipse r_a² + s²r_b² ≤ ρ² holds about πρ²/4s lattice points),
    so the grid is cut there: tables stay small even for long candidate lists.
    """
    grid = min(ranks, int(2.0 * np.sqrt(length)) + 2)
    ra, rb = np.meshgrid(np.arange(grid), np.arange(grid), indexing="ij")
    ra, rb = ra.ravel(), rb.ravel()
    length = min(length, grid * grid)
    orders = np.empty((len(SLOPES), length, 2), np.int32)
    for n, slope in enumerate(SLOPES):
        key = ra.astype(np.float64) ** 2 + (slope * rb) ** 2
        order = np.lexsort((rb, ra, key))[:length]  # ties: lower ranks first, deterministic
        orders[n, :, 0] = ra[order]
        orders[n, :, 1] = rb[order]
    return orders


def choose_slopes(dist_a: Any, dist_b: Any, horizon: int = HORIZON) -> Any:
    """Index into SLOPES per query from two (nq, R) ascending distance lists."""
    xp = array_namespace(dist_a, dist_b)
    h = min(horizon, dist_a.shape[1] - 1, dist_b.shape[1] - 1)
    if h < 1:
        return xp.full(dist_a.shape[0], SLOPES.index(1.0), dtype=xp.int64)
    tiny = 1e-12  # the ratio in float64, as the compiled CPU path computes it, so both pick the same slope
    gain_a = xp.astype(dist_a[:, h] - dist_a[:, 0], xp.float64) + tiny
    gain_b = xp.astype(dist_b[:, h] - dist_b[:, 0], xp.float64) + tiny
    k = xp.round(xp.log(gain_b / gain_a) / float(np.log(1.08)))
    return xp.astype(xp.clip(k, min=-5.0, max=4.0) + 5.0, xp.int64)


def merge_pair(dist_a: Any, dist_b: Any, orders: Any, length: int) -> tuple[Any, Any, Any]:
    """Merge two ranked lists into one of ``length`` entries.

    Returns (ranks_a, ranks_b, distances), each (nq, length): the ranks taken from
    each input list and the summed distance of each merged entry.
    """
    xp = array_namespace(dist_a, dist_b)
    slope = choose_slopes(dist_a, dist_b)
    length = min(length, orders.shape[1])
    chosen = xp.take(orders[:, :length, :], slope, axis=0)  # (nq, length, 2)
    ranks_a = xp.astype(chosen[:, :, 0], xp.int64)
    ranks_b = xp.astype(chosen[:, :, 1], xp.int64)
    distances = xp.take_along_axis(dist_a, ranks_a, axis=1) + xp.take_along_axis(dist_b, ranks_b, axis=1)
    return ranks_a, ranks_b, distances


def propose(part_dists: list[Any], order_tables: dict[int, Any], length: int) -> tuple[Any, Any]:
    """Rank tuples of the first ``length`` bins per query.

    ``part_dists``: per part, (nq, R) ascending candidate distances. Returns (ranks
    (nq, length, p) int64 into each part's candidate list, distances (nq, length)).
    ``order_tables[R]`` must hold :func:`pair_orders` for every list length R met.
    """
    xp = array_namespace(*part_dists)
    # Each level holds (distances (nq, R), ranks per original part (nq, R, parts covered)).
    nq = part_dists[0].shape[0]
    level = [(d, xp.reshape(xp.arange(d.shape[1], dtype=xp.int64), (1, -1, 1)) * xp.ones((nq, 1, 1), dtype=xp.int64))
             for d in part_dists]
    while len(level) > 1:
        merged = []
        for a in range(0, len(level) - 1, 2):
            (da, ra), (db, rb) = level[a], level[a + 1]
            table = order_tables[max(da.shape[1], db.shape[1])]
            ia, ib, dist = merge_pair(da, db, table, length)
            take_a = xp.take_along_axis(ra, xp.broadcast_to(ia[:, :, None], (*ia.shape, ra.shape[2])), axis=1)
            take_b = xp.take_along_axis(rb, xp.broadcast_to(ib[:, :, None], (*ib.shape, rb.shape[2])), axis=1)
            merged.append((dist, xp.concat([take_a, take_b], axis=2)))
        level = merged
    distances, ranks = level[0]
    return ranks[:, :length, :], distances[:, :length]
