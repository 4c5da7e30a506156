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

import contextlib
import functools
import heapq
import math
from collections.abc import Iterator

import numba
import numpy as np
from numba import njit, prange
from threadpoolctl import ThreadpoolController

from mfcore import InputError

from .traversal import SLOPES

RERANK_CODE = {None: 0, "line": 1, "exact": 2}
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing
_LOG_STEP = math.log(1.08)
_UNIT_SLOPE = SLOPES.index(1.0)
TOUCH_BLOCK = 256  # candidates whose code rows are loaded ahead of scoring (memory-level parallelism)
QUEUE_STEP = 64  # bins the priority queue yields between two rounds of candidate gathering


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
def _order_key(bits: int, s: int) -> int:
    """An int64 that sorts like (d, s), from the float32 bits of d mapped to a signed-int order."""
    bits = np.int64(bits)
    if bits < 0:
        bits = -(bits & 0x7FFFFFFF) - 1
    return (bits << 32) | s


@njit(inline="always")
def _join(left: int, right: int, mult: int, max_bins: int) -> int:
    """The bin hash of two merged entries: mixed radix, reduced modulo max_bins (a division only if needed)."""
    h = left * mult + right
    return h if h < max_bins else h % max_bins


@njit
def select_smallest(values: np.ndarray, count: int, keep: int, buffer: np.ndarray) -> int:
    """Sort the ``keep`` smallest of values[:count] by (value, position) into ``buffer`` as order keys.

    Candidates below the running threshold are appended to a buffer of 2·keep keys; a full
    buffer is cut back to its ``keep`` smallest (a selection), which tightens the threshold.
    Most candidates cost one comparison. Returns how many keys lead ``buffer`` (min(keep, count)); the
    position of each is ``key & 0xFFFFFFFF``.
    """
    cap = buffer.shape[0]
    bits = values.view(np.int32)
    threshold = np.int64(0x7FFFFFFFFFFFFFFF)
    limit = np.float32(np.inf)  # the threshold's distance: a cheaper first test
    n = 0
    for s in range(count):
        if values[s] > limit:
            continue
        key = _order_key(bits[s], s)
        if key < threshold:
            buffer[n] = key
            n += 1
            if n == cap:  # keep the `keep` smallest (unsorted): a selection, not a sort
                buffer[:keep] = np.partition(buffer[:n], keep - 1)[:keep]
                n = keep
                threshold = buffer[:keep].max()
                limit = values[threshold & 0xFFFFFFFF]
    buffer[:n].sort()
    return min(n, keep)


@njit(fastmath={"reassoc", "contract", "nsz"})  # not inlined by numba: keeps its flags, so it vectorises
def _squared_distance(a: np.ndarray, b: np.ndarray) -> float:
    acc = np.float32(0.0)
    for t in range(a.shape[0]):
        diff = a[t] - b[t]
        acc += diff * diff
    return acc


@njit
def _propose_bins(part_dists: np.ndarray, part_codes: np.ndarray, q: int, orders: np.ndarray,
                  order_len: np.ndarray, radix: int, max_bins: int, bins: int, horizon: int,
                  work_d: np.ndarray, work_h: np.ndarray, lists_left: int) -> tuple[int, int, int]:
    """Step 1: merge the query's part lists pairwise, level by level, until ``lists_left`` remain.

    Merges follow the anisotropic orders; merged entries carry their bin hash (mixed radix,
    reduced modulo max_bins) instead of their ranks. work_d/work_h (2, parts, width) hold the
    lists of the current and the next level; the result is left in work_d[0], work_h[0].
    Returns the lengths of the first two lists and the radix multiplier that joins them.
    """
    parts, _, ranks = part_dists.shape
    lengths = np.empty(parts, np.int64)
    for p in range(parts):
        for r in range(ranks):
            work_d[0, p, r] = part_dists[p, q, r]
            work_h[0, p, r] = part_codes[p, q, r] % max_bins
        lengths[p] = ranks
    lists, level, mult, cur = parts, 0, radix % max_bins, 0
    while lists > lists_left:
        for a in range(0, lists, 2):
            slope = _choose_slope(work_d[cur, a], lengths[a], work_d[cur, a + 1], lengths[a + 1], horizon)
            n = min(bins, order_len[level])
            for t in range(n):
                ra = orders[level, slope, t, 0]
                rb = orders[level, slope, t, 1]
                work_d[1 - cur, a // 2, t] = work_d[cur, a, ra] + work_d[cur, a + 1, rb]
                work_h[1 - cur, a // 2, t] = _join(work_h[cur, a, ra], work_h[cur, a + 1, rb], mult, max_bins)
            lengths[a // 2] = n
        cur = 1 - cur
        lists //= 2
        level += 1
        mult = (mult * mult) % max_bins
    if cur == 1:
        work_d[0, :lists] = work_d[1, :lists]
        work_h[0, :lists] = work_h[1, :lists]
    return min(bins, lengths[0]), lengths[1] if lists > 1 else 0, mult


@njit
def _queue_order(dist_a: np.ndarray, len_a: int, dist_b: np.ndarray, len_b: int, bins: int,
                 out_a: np.ndarray, out_b: np.ndarray, out_d: np.ndarray, start: int, heap: list) -> int:
    """The next pairs (a, b) in ascending dist_a[a] + dist_b[b] (ties by a, then b), into out_*[start:].

    The multi-sequence priority queue of the inverted multi-index: exact, and sequential, which
    a CPU does not mind. (a, b+1) is pushed when (a, b) pops, and (a+1, 0) when (a, 0) pops; each
    pair's predecessor is no farther, so pops come out sorted. ``heap`` holds order keys and
    persists between calls, so the caller can ask for more pairs as it needs them. Returns the
    number written (up to ``bins`` in all, fewer when the pairs run out).
    """
    one = np.empty(1, np.float32)
    bits = one.view(np.int32)
    n = start
    while n < bins and len(heap) > 0:
        key = heapq.heappop(heap)
        pair = key & 0xFFFFFFFF
        a, b = pair // len_b, pair % len_b
        out_a[n], out_b[n] = a, b
        out_d[n] = dist_a[a] + dist_b[b]
        n += 1
        if b == 0 and a + 1 < len_a:
            one[0] = dist_a[a + 1] + dist_b[0]
            heapq.heappush(heap, _order_key(bits[0], (a + 1) * len_b))
        if b + 1 < len_b:
            one[0] = dist_a[a] + dist_b[b + 1]
            heapq.heappush(heap, _order_key(bits[0], a * len_b + b + 1))
        if n - start == QUEUE_STEP:
            break
    return n


@njit
def _gather_candidates(bin_d: np.ndarray, bin_h: np.ndarray, proposed: int, table_keys: np.ndarray,
                       table_values: np.ndarray, shift: np.uint64, offsets: np.ndarray, seen: np.ndarray,
                       token: int, allowed: np.ndarray, slot_pos: np.ndarray, slot_bin_d: np.ndarray,
                       filled: int) -> int:
    """Step 2: storage positions of the vectors of the proposed bins, after the ``filled`` found so far.

    Stops when len(slot_pos) are found. A bin proposed again (a hash collision) is skipped:
    ``seen`` marks visited bins with ``token``. ``allowed`` (per storage position; empty: all)
    is an allow-list: other vectors are passed over. Returns the number of candidates found.
    """
    candidates = slot_pos.shape[0]
    for b in range(proposed):
        pos = _find(table_keys, table_values, shift, bin_h[b])
        if pos < 0 or seen[pos] == token:
            continue
        seen[pos] = token
        if allowed.shape[0] == 0:
            take = min(offsets[pos + 1] - offsets[pos], candidates - filled)
            for t in range(take):
                slot_pos[filled + t] = offsets[pos] + t
                slot_bin_d[filled + t] = bin_d[b]
            filled += take
        else:
            for row in range(offsets[pos], offsets[pos + 1]):
                if allowed[row]:
                    slot_pos[filled] = row
                    slot_bin_d[filled] = bin_d[b]
                    filled += 1
                    if filled == candidates:
                        break
        if filled == candidates:
            break
    return filled


@njit
def _pair_tables(query_table: np.ndarray, pair_sq: np.ndarray, out: np.ndarray) -> None:
    """Per-query eq. 2.12 terms for every pair code: out[line, i*k1 + j] = (b², a² - b² - c², c²).

    b² = |y - c_i|² and a² = |y - c_j|² come from the query's (P_line, k1) table; the three terms
    sit side by side, so scoring one line part reads one cache line.
    """
    line_parts, k1, _ = pair_sq.shape
    for line in range(line_parts):
        for i in range(k1):
            t_i = query_table[line, i]
            for j in range(k1):
                c = pair_sq[line, i, j]
                out[line, i * k1 + j, 0] = t_i
                out[line, i * k1 + j, 1] = query_table[line, j] - t_i - c
                out[line, i * k1 + j, 2] = c


@njit
def _score_lines(slot_pos: np.ndarray, filled: int, line_pair: np.ndarray, line_lam: np.ndarray,
                 terms: np.ndarray, lambdas: np.ndarray, out: np.ndarray) -> int:
    """Step 3: eq. 2.12 summed over the line parts for each candidate, into out[:filled].

    Candidates go in blocks: one cheap pass touches each block's code rows, so their cache
    misses overlap, then the block is scored from cache. Returns a checksum of the touched
    bytes (the caller keeps it, so the pass is not optimised away).
    """
    touched = 0
    for first in range(0, filled, TOUCH_BLOCK):
        last = min(filled, first + TOUCH_BLOCK)
        for s in range(first, last):
            touched += line_pair[slot_pos[s], 0] + line_lam[slot_pos[s], 0]
        for s in range(first, last):
            row = slot_pos[s]
            d = np.float32(0.0)
            for line in range(line_pair.shape[1]):
                code = line_pair[row, line]
                weight = lambdas[line_lam[row, line]]
                d += terms[line, code, 0] + weight * (terms[line, code, 1] + weight * terms[line, code, 2])
            out[s] = d
    return touched


@njit(cache=True, parallel=True)
def search_kernel(part_dists: np.ndarray, part_codes: np.ndarray, orders: np.ndarray, order_len: np.ndarray,
                  radix: int, max_bins: int, table_keys: np.ndarray, table_values: np.ndarray, table_shift: int,
                  offsets: np.ndarray, ids: np.ndarray, line_pair: np.ndarray, line_lam: np.ndarray,
                  lambdas: np.ndarray, line_tables: np.ndarray, pair_sq: np.ndarray, vectors: np.ndarray,
                  queries: np.ndarray, k: int, candidates: int, bins: int, rerank: int, refine: int,
                  horizon: int, queue: bool, allowed: np.ndarray, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """Search a batch of queries; see the module docstring. Returns (distances, ids), each (nq, k).

    part_dists/part_codes (p, nq, R): traversal output per part, ascending. orders (levels, 10, T, 2)
    and order_len (levels,): the anisotropic order of each pairwise merge level, padded to T.
    lambdas (256,): the λ of each code. line_tables (nq, P_line, k1): query distances to the
    level-1 centroid sub-parts; pair_sq (P_line, k1, k1). rerank: 0 none, 1 line, 2 exact.
    queue: the last merge of bin proposal by priority queue instead of the anisotropic order.
    allowed (n,) bool per storage position, or empty: the allow-list candidates are drawn from.
    threads: ``numba.get_num_threads()`` (read by
    the caller: calling it here would keep the function from being cached).
    """
    parts, nq, ranks = part_dists.shape
    line_parts, k1, _ = pair_sq.shape
    out_d = np.full((nq, k), np.inf, np.float32)
    out_i = np.full((nq, k), -1, np.int64)
    shift = np.uint64(table_shift)
    keep = k if rerank != 2 else min(max(refine, k), candidates)
    chunks = max(1, min(nq, threads))
    sink = np.zeros(chunks, np.int64)
    for chunk in prange(chunks):
        seen = np.full(len(offsets) - 1, -1, np.int64)
        work_d = np.empty((2, parts, max(ranks, bins)), np.float32)
        work_h = np.empty((2, parts, max(ranks, bins)), np.int64)
        pair_a = np.empty(bins, np.int64)
        pair_b = np.empty(bins, np.int64)
        pair_d = np.empty(bins, np.float32)
        pair_h = np.empty(bins, np.int64)
        slot_pos = np.empty(candidates, np.int64)
        slot_bin_d = np.empty(candidates, np.float32)
        slot_d = np.empty(candidates, np.float32)
        terms = np.empty((line_parts, k1 * k1, 3), np.float32)
        buffer = np.empty(2 * keep, np.int64)
        exact = np.empty(keep, np.float32)
        top = np.empty(2 * k, np.int64)
        for q in range(chunk, nq, chunks):
            if not queue or parts == 1:
                proposed, _, _ = _propose_bins(part_dists, part_codes, q, orders, order_len, radix, max_bins, bins,
                                               horizon, work_d, work_h, 1)
                filled = _gather_candidates(work_d[0, 0], work_h[0, 0], proposed, table_keys, table_values, shift,
                                            offsets, seen, q, allowed, slot_pos, slot_bin_d, 0)
            else:  # the last merge by priority queue, as far as the candidates need
                len_a, len_b, mult = _propose_bins(part_dists, part_codes, q, orders, order_len, radix, max_bins,
                                                   bins, horizon, work_d, work_h, 2)
                heap = [_order_key(0, 0)]  # (0, 0) first, whatever its distance
                filled, produced = 0, 0
                while filled < candidates and produced < bins:
                    more = _queue_order(work_d[0, 0], len_a, work_d[0, 1], len_b, bins, pair_a, pair_b, pair_d,
                                        produced, heap)
                    if more == produced:
                        break
                    for t in range(produced, more):
                        pair_h[t] = _join(work_h[0, 0, pair_a[t]], work_h[0, 1, pair_b[t]], mult, max_bins)
                    filled = _gather_candidates(pair_d[produced:more], pair_h[produced:more], more - produced,
                                                table_keys, table_values, shift, offsets, seen, q, allowed,
                                                slot_pos, slot_bin_d, filled)
                    produced = more
            if rerank == 0:  # proposal order; the distance reported is the bin's
                slot_d[:filled] = slot_bin_d[:filled]
            else:
                _pair_tables(line_tables[q], pair_sq, terms)
                sink[chunk] += _score_lines(slot_pos, filled, line_pair, line_lam, terms, lambdas, slot_d)
            size = select_smallest(slot_d, filled, keep, buffer)
            if rerank == 2:  # exact distances for the `keep` best by eq. 2.12, ties kept in that order
                for rank in range(size):  # touch every cache line of the rows first: the misses overlap
                    row = slot_pos[buffer[rank] & 0xFFFFFFFF]
                    for col in range(0, vectors.shape[1], 16):
                        sink[chunk] += np.int64(vectors[row, col] > 0)
                for rank in range(size):
                    exact[rank] = _squared_distance(vectors[slot_pos[buffer[rank] & 0xFFFFFFFF]], queries[q])
                best = select_smallest(exact, size, k, top)
                for n in range(best):
                    rank = top[n] & 0xFFFFFFFF
                    out_d[q, n] = exact[rank]
                    out_i[q, n] = ids[slot_pos[buffer[rank] & 0xFFFFFFFF]]
            else:
                for n in range(min(size, k)):
                    slot = buffer[n] & 0xFFFFFFFF
                    out_d[q, n] = slot_d[slot]
                    out_i[q, n] = ids[slot_pos[slot]]
    return out_d, out_i


@njit(cache=True, parallel=True)
def exact_rows(queries: np.ndarray, vectors: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Squared distances (nq, m) from query ``q`` to ``vectors[rows[q, j]]``, infinity where the row is -1: one
    pass over the rows, without the (nq, m, d) gather an array expression would make."""
    nq, m = rows.shape
    out = np.empty((nq, m), np.float32)
    for q in prange(nq):
        for j in range(m):
            row = rows[q, j]
            out[q, j] = np.inf if row < 0 else _squared_distance(queries[q], vectors[row])
    return out


@njit(cache=True, parallel=True)
def encode_lines(x: np.ndarray, centroids: np.ndarray, pair_sq: np.ndarray, half_inv: np.ndarray,
                 lambdas: np.ndarray, lam_min: float, lam_max: float, scale: float, pairs: np.ndarray,
                 codes: np.ndarray) -> None:
    """Line-quantise ``x`` (n, d): per line part, every pair (i, j) of centroid sub-parts with λ projected,
    clipped, rounded to its code and scored by eq. 2.12; the first best pair and its code are written to
    ``pairs`` / ``codes`` (n, L). Vectors are spread over numba's threads.

    ``half_inv`` is 1 / (2 c²), 0 where c² = 0 (a pair of equal sub-parts: λ = 0).
    """
    n = x.shape[0]
    lines, k1, sub = centroids.shape
    for v in prange(n):
        dist = np.empty(k1, np.float32)
        for line in range(lines):
            off = line * sub
            for i in range(k1):
                acc = np.float32(0.0)
                for t in range(sub):
                    diff = x[v, off + t] - centroids[line, i, t]
                    acc += diff * diff
                dist[i] = acc
            best = np.inf
            best_pair = 0
            best_code = 0
            for i in range(k1):
                d_i = dist[i]
                for j in range(k1):
                    c_sq = pair_sq[line, i, j]
                    lam = (d_i + c_sq - dist[j]) * half_inv[line, i, j]
                    lam = min(max(lam, lam_min), lam_max)
                    code = int(np.rint((lam - lam_min) * scale))
                    stored = lambdas[code]
                    error = d_i + stored * stored * c_sq + stored * (dist[j] - d_i - c_sq)
                    if error < best:
                        best = error
                        best_pair = i * k1 + j
                        best_code = code
            pairs[v, line] = best_pair
            codes[v, line] = best_code


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


@contextlib.contextmanager
def limited_threads(count: int | None) -> Iterator[None]:
    """Run compiled work (a search, an encoding) on ``count`` of numba's threads (default: every core), the BLAS
    on one.

    The BLAS only multiplies small matrices here (tree traversal), and its idle threads spin for a
    while after each product, taking the cores from numba's: on 2 cores that cut the kernel's
    scaling from 2 threads to 1.4×. The BLAS libraries are found once per process
    (:func:`_blas`): finding them costs 0.3 ms, more than a one-query search.
    """
    available = numba.config.NUMBA_NUM_THREADS
    if count is not None and not 1 <= count <= available:
        raise InputError(f"threads must be between 1 and {available} (the cores numba found), got {count}")
    before = numba.get_num_threads()
    numba.set_num_threads(count or before)
    try:
        with _blas().limit(limits=1, user_api="blas"):
            yield
    finally:
        numba.set_num_threads(before)


@functools.cache
def _blas() -> ThreadpoolController:
    """The BLAS libraries loaded in this process, found once (those NumPy and SciPy load at import)."""
    return ThreadpoolController()
