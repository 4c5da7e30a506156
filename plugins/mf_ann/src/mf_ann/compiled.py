"""Compiled CPU search (numba): bin proposal, vector proposal and re-ranking per query.

The array-API path in :mod:`mf_ann.index` is data-parallel, which is what a GPU
wants, but on a CPU it materialises (queries × candidates × line parts)
temporaries and spends most of its time in gathers. This module runs the same
steps for one query at a time in compiled loops, with the candidates' codes read
straight from the inverted lists:

1. bin proposal: the per-part cell lists from tree traversal are merged pairwise
   through the precomputed anisotropic orders (:mod:`mf_ann.traversal`), carrying
   each entry's bin hash instead of its ranks;
2. vector proposal: each proposed bin is looked up in an open-addressing hash
   table over the non-empty bins; a bin proposed again (hash collision) is
   skipped, the first ``candidates`` vectors are taken in proposal order;
3. re-ranking: eq. 2.12 from the query's distances to the level-1 centroid
   sub-parts; the best ``refine`` by that are optionally re-scored exactly.

Selections keep (distance, proposal position) order, as the array path's stable
sorts do, so both return the same neighbours up to floating-point ties (tested).
Queries are spread over numba's threads; ``numba.set_num_threads`` limits them.
"""

from __future__ import annotations

import math
import numba
import numpy as np
from numba import njit, prange

from .lines import LEVELS
from .traversal import SLOPES

RERANK_CODE = {None: 0, "line": 1, "exact": 2}
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing
_LOG_STEP = math.log(1.08)
_UNIT_SLOPE = SLOPES.index(1.0)


@njit(inline="always")
def _slot(key: int, shift: np.uint64) -> int:
    return numba.int64((numba.uint64(key) * _MULTIPLIER) >> shift)


@njit(cache=True)
def build_bin_table(bin_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Open-addressing table (keys, positions, shift) mapping a bin id to its index in ``bin_ids``."""
    bits = 1
    while (1 << bits) < 2 * len(bin_ids):
        bits += 1
    keys = np.full(1 << bits, -1, np.int64)
    values = np.zeros(1 << bits, np.int64)
    mask = (1 << bits) - 1
    shift = np.uint64(64 - bits)
    for pos in range(len(bin_ids)):
        i = _slot(bin_ids[pos], shift)
        while keys[i] != -1:
            i = (i + 1) & mask
        keys[i] = bin_ids[pos]
        values[i] = pos
    return keys, values, 64 - bits


@njit(inline="always")
def _find(keys: np.ndarray, values: np.ndarray, shift: np.uint64, key: int) -> int:
    mask = len(keys) - 1
    i = _slot(key, shift)
    while True:
        k = keys[i]
        if k == key:
            return values[i]
        if k == -1:
            return -1
        i = (i + 1) & mask


@njit(inline="always")
def _choose_slope(dist_a: np.ndarray, len_a: int, dist_b: np.ndarray, len_b: int, horizon: int) -> int:
    """Same rule as :func:`mf_ann.traversal.choose_slopes`, for one query."""
    h = min(horizon, len_a - 1, len_b - 1)
    if h < 1:
        return _UNIT_SLOPE
    gain_a = np.float64(dist_a[h] - dist_a[0]) + 1e-12
    gain_b = np.float64(dist_b[h] - dist_b[0]) + 1e-12
    k = np.round(math.log(gain_b / gain_a) / _LOG_STEP)
    return int(min(max(k, -5.0), 4.0)) + 5


@njit(inline="always")
def _before(d1: float, s1: int, d2: float, s2: int) -> bool:
    return d1 < d2 or (d1 == d2 and s1 < s2)


@njit(inline="always")
def _heap_push(heap_d: np.ndarray, heap_s: np.ndarray, size: int, cap: int, d: float, s: int) -> int:
    """Keep the ``cap`` smallest (d, s) in a max-heap; returns the new size."""
    if size < cap:
        i = size
        size += 1
    elif _before(d, s, heap_d[0], heap_s[0]):
        i = 0  # replace the root, then sift down
        while True:
            child = 2 * i + 1
            if child >= size:
                break
            if child + 1 < size and _before(heap_d[child], heap_s[child], heap_d[child + 1], heap_s[child + 1]):
                child += 1
            if _before(heap_d[child], heap_s[child], d, s):
                break
            heap_d[i], heap_s[i] = heap_d[child], heap_s[child]
            i = child
        heap_d[i], heap_s[i] = d, s
        return size
    else:
        return size
    while i > 0:  # sift up
        parent = (i - 1) // 2
        if _before(d, s, heap_d[parent], heap_s[parent]):
            break
        heap_d[i], heap_s[i] = heap_d[parent], heap_s[parent]
        i = parent
    heap_d[i], heap_s[i] = d, s
    return size


@njit(inline="always")
def _heap_sorted(heap_d: np.ndarray, heap_s: np.ndarray, size: int) -> np.ndarray:
    """Indices into the heap arrays, ascending by (d, s)."""
    keys = np.empty(size, np.float64)
    order = np.argsort(heap_s[:size], kind="mergesort")
    for n in range(size):
        keys[n] = heap_d[order[n]]
    return order[np.argsort(keys, kind="mergesort")]


@njit(fastmath={"reassoc", "contract", "nsz"})  # not inlined by numba: keeps its flags, so it vectorises
def _squared_distance(a: np.ndarray, b: np.ndarray) -> float:
    acc = np.float32(0.0)
    for t in range(a.shape[0]):
        diff = a[t] - b[t]
        acc += diff * diff
    return acc


@njit(cache=True, parallel=True)
def search_kernel(part_dists: np.ndarray, part_codes: np.ndarray, orders: np.ndarray, order_len: np.ndarray,
                  radix: int, max_bins: int, table_keys: np.ndarray, table_values: np.ndarray, table_shift: int,
                  offsets: np.ndarray, ids: np.ndarray, line_pair: np.ndarray, line_lam: np.ndarray,
                  line_tables: np.ndarray, pair_sq: np.ndarray, vectors: np.ndarray, queries: np.ndarray,
                  k: int, candidates: int, bins: int, rerank: int, refine: int, horizon: int,
                  threads: int) -> tuple[np.ndarray, np.ndarray]:
    """Search a batch of queries; see the module docstring. Returns (distances, ids), each (nq, k).

    part_dists/part_codes (p, nq, R): traversal output per part, ascending. orders (levels, 10, T, 2)
    and order_len (levels,): the anisotropic order of each pairwise merge level, padded to T.
    line_tables (nq, P_line, k1): query distances to the level-1 centroid sub-parts; pair_sq
    (P_line, k1, k1). rerank: 0 none, 1 line, 2 exact. threads: ``numba.get_num_threads()`` (read by
    the caller: calling it here would keep the function from being cached).
    """
    parts, nq, ranks = part_dists.shape
    out_d = np.full((nq, k), np.inf, np.float32)
    out_i = np.full((nq, k), -1, np.int64)
    k1 = pair_sq.shape[1]
    line_parts = pair_sq.shape[0]
    inv_levels = np.float32(1.0 / LEVELS)
    shift = np.uint64(table_shift)
    width = max(ranks, bins)
    keep = k if rerank != 2 else min(max(refine, k), candidates)
    c_sq = pair_sq.reshape(line_parts, k1 * k1)
    pair_i = np.repeat(np.arange(k1), k1)
    pair_j = np.repeat(np.arange(k1), k1).reshape(k1, k1).T.copy().reshape(k1 * k1)
    chunks = max(1, min(nq, threads))
    for chunk in prange(chunks):
        seen = np.full(len(offsets) - 1, -1, np.int64)
        cur_d = np.empty((parts, width), np.float32)
        cur_h = np.empty((parts, width), np.int64)
        nxt_d = np.empty((parts, width), np.float32)
        nxt_h = np.empty((parts, width), np.int64)
        lengths = np.empty(parts, np.int64)
        slot_pos = np.empty(candidates, np.int64)
        slot_bin_d = np.empty(candidates, np.float32)
        slot_d = np.empty(candidates, np.float32)
        heap_d = np.empty(keep, np.float32)
        heap_s = np.empty(keep, np.int64)
        top_d = np.empty(k, np.float32)
        top_s = np.empty(k, np.int64)
        for q in range(chunk, nq, chunks):
            # 1. bin proposal: merge the part lists pairwise, carrying bin hashes.
            for p in range(parts):
                for r in range(ranks):
                    cur_d[p, r] = part_dists[p, q, r]
                    cur_h[p, r] = part_codes[p, q, r] % max_bins
                lengths[p] = ranks
            lists, level, mult = parts, 0, radix % max_bins
            while lists > 1:
                for a in range(0, lists, 2):
                    slope = _choose_slope(cur_d[a], lengths[a], cur_d[a + 1], lengths[a + 1], horizon)
                    n = min(bins, order_len[level])
                    for t in range(n):
                        ra = orders[level, slope, t, 0]
                        rb = orders[level, slope, t, 1]
                        nxt_d[a // 2, t] = cur_d[a, ra] + cur_d[a + 1, rb]
                        h = cur_h[a, ra] * mult + cur_h[a + 1, rb]
                        nxt_h[a // 2, t] = h if h < max_bins else h % max_bins  # a division only if needed
                    lengths[a // 2] = n
                cur_d, nxt_d = nxt_d, cur_d
                cur_h, nxt_h = nxt_h, cur_h
                lists //= 2
                level += 1
                mult = (mult * mult) % max_bins
            proposed = min(bins, lengths[0])

            # 2. vector proposal: the first `candidates` vectors of the proposed bins.
            filled = 0
            for b in range(proposed):
                pos = _find(table_keys, table_values, shift, cur_h[0, b])
                if pos < 0 or seen[pos] == q:
                    continue
                seen[pos] = q
                take = min(offsets[pos + 1] - offsets[pos], candidates - filled)
                for t in range(take):
                    slot_pos[filled + t] = offsets[pos] + t
                    slot_bin_d[filled + t] = cur_d[0, b]
                filled += take
                if filled == candidates:
                    break

            # 3. re-ranking by eq. 2.12: b² = |y - c_i|² and a² = |y - c_j|² from the query's small
            # (P_line, k1) table, c² from the shared pair table; i, j decoded by look-up, not division.
            if rerank != 0:
                for s in range(filled):
                    row = slot_pos[s]
                    d = np.float32(0.0)
                    for line in range(line_parts):
                        code = line_pair[row, line]
                        weight = np.float32(line_lam[row, line]) * inv_levels
                        t_i = line_tables[q, line, pair_i[code]]
                        c = c_sq[line, code]
                        d += t_i + weight * ((line_tables[q, line, pair_j[code]] - t_i - c) + weight * c)
                    slot_d[s] = d
            else:
                for s in range(filled):
                    slot_d[s] = slot_bin_d[s]
            size = 0
            for s in range(filled):
                size = _heap_push(heap_d, heap_s, size, keep, slot_d[s], s)
            order = _heap_sorted(heap_d, heap_s, size)
            if rerank == 2:
                best = 0
                for rank in range(size):
                    row = slot_pos[heap_s[order[rank]]]
                    best = _heap_push(top_d, top_s, best, k, _squared_distance(vectors[row], queries[q]), rank)
                final = _heap_sorted(top_d, top_s, best)
                for n in range(best):
                    out_d[q, n] = top_d[final[n]]
                    out_i[q, n] = ids[slot_pos[heap_s[order[top_s[final[n]]]]]]
            else:
                for n in range(min(size, k)):
                    out_d[q, n] = heap_d[order[n]]
                    out_i[q, n] = ids[slot_pos[heap_s[order[n]]]]
    return out_d, out_i


def threads() -> int:
    """Threads the kernel spreads queries over (``numba.set_num_threads`` sets it)."""
    return numba.get_num_threads()


def padded_orders(tables: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Stack the per-level order tables (10, T_l, 2) into one (levels, 10, max T, 2) array and T_l."""
    width = max((t.shape[1] for t in tables), default=1)
    out = np.zeros((max(1, len(tables)), len(SLOPES), width, 2), np.int32)
    for level, table in enumerate(tables):
        out[level, :, : table.shape[1]] = table
    return out, np.array([t.shape[1] for t in tables] or [0], np.int64)

