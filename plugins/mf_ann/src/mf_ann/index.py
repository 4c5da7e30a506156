"""The Product Quantization Tree index (thesis chapter 2): build, add, search, save, load.

Build: a two-level PQ tree (``parts`` × ``k1`` × ``k2``) is trained on a
sample; every added vector gets a bin (its per-part tree codes, hashed modulo
``max_bins``) and a line-quantization code. Vectors are added in batches, so a
memory-mapped base larger than memory is indexed in waves; the inverted lists
are flat arrays (sorted non-empty bin ids, their offsets, the vector ids).

Search (batched, on numpy, torch or cupy arrays through the array API):
tree traversal (all k1 level-1 centroids, then the ``w`` best refined by
level 2), bin proposal by the anisotropic traversal orders, vector proposal of
up to ``candidates`` vectors from the proposed bins, then re-ranking by line
quantization (eq. 2.12), optionally followed by exact distances on the raw
vectors for the best ``refine`` of them (the thesis's PQT2).

Search may be restricted to an allow-list of ids (:mod:`mf_ann.allow`); the
index's vectors can be removed by id, and two indexes that share one trained
tree merged (:meth:`PQTIndex.merge`: build shards apart, join them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from array_api_compat import array_namespace, is_numpy_namespace, is_torch_namespace

from mfcore import InputError, atomic_path

from .allow import AllowList, allowed_positions
from .index_file import FORMAT, FORMAT_VERSION, read_index
from .lines import LAMBDAS, LineQuantizer
from .traversal import HORIZON, pair_orders, propose
from .tree import TreeQuantizer, squared_distances

RERANK = ("line", "exact", None)
PROPOSALS = ("anisotropic", "queue")
#: An allow-list of at most this many times ``candidates`` vectors is searched exhaustively: every allowed vector
#: is re-ranked, which for so few is cheaper than proposing bins that hold mostly excluded ones, and exact.
EXHAUSTIVE = 4
#: With a longer allow-list the bins proposed default to ``candidates`` over the share of vectors allowed (the
#: same number of allowed candidates as without a list), at most this many times ``candidates``.
FILTER_BINS = 8
#: The arrays of one stored vector, in storage order (sorted by bin); ``vectors`` only with ``keep_vectors``.
ROW_KEYS = ("bins", "ids", "line_pair", "line_lam", "vectors")


def _check_vectors(x: np.ndarray, what: str, dim: int | None = None) -> None:
    if x.ndim != 2:
        raise InputError(f"{what} must be a 2-D array (n, d), got shape {x.shape}")
    if x.shape[0] == 0:
        raise InputError(f"{what} is empty")
    if dim is not None and x.shape[1] != dim:
        raise InputError(f"{what} have dimension {x.shape[1]}, the index expects {dim}")


def _batches(x: np.ndarray, batch: int) -> Iterator[tuple[int, np.ndarray]]:
    for start in range(0, x.shape[0], batch):
        chunk = np.asarray(x[start : start + batch], dtype=np.float32)
        if not np.isfinite(chunk).all():
            bad = start + int(np.flatnonzero(~np.isfinite(chunk).all(axis=1))[0])
            raise InputError(f"vector {bad} contains NaN or infinity")
        yield start, chunk


def _by_bin(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One store from batches of rows (:data:`ROW_KEYS`): rows sorted by bin, the sorted non-empty bin ids and
    each one's offset into the rows."""
    merged = {key: np.concatenate([p[key] for p in parts]) for key in ROW_KEYS if key in parts[0]}
    order = np.argsort(merged["bins"], kind="stable")
    merged = {key: value[order] for key, value in merged.items()}
    bin_ids, starts = np.unique(merged["bins"], return_index=True)
    merged["bin_ids"] = bin_ids
    merged["offsets"] = np.append(starts, len(merged["bins"])).astype(np.int64)
    return merged


def _smallest(xp: Any, dist: Any, keep: int) -> Any:
    """Column indices of the ``keep`` smallest of each row of ``dist`` (nq, m), ascending: a partial
    selection where the library has one (NumPy, PyTorch), a sort elsewhere."""
    if keep < dist.shape[1] and is_numpy_namespace(xp):
        part = np.argpartition(dist, keep - 1, axis=1)[:, :keep]
        return np.take_along_axis(part, np.argsort(np.take_along_axis(dist, part, axis=1), axis=1, kind="stable"),
                                  axis=1)
    if keep < dist.shape[1] and is_torch_namespace(xp):
        return xp.topk(dist, keep, dim=1, largest=False, sorted=True).indices
    return xp.argsort(dist, axis=1, stable=True)[:, :keep]


class PQTIndex:
    """Approximate nearest-neighbour index; see the module docstring for the method.

    The defaults (p=2, k1=32, k2=16, w=16, P_line=16) are the configuration that reached
    R@10 >= 0.95 fastest on 1M real SIFT descriptors (docs/benchmarks/ann.md).
    """

    def __init__(self, parts: int = 2, k1: int = 32, k2: int = 16, w: int = 16, line_parts: int = 16,
                 max_bins: int = 1 << 24, keep_vectors: bool = True) -> None:
        if parts & (parts - 1):
            raise InputError(f"parts must be a power of two (bin proposal merges parts pairwise), got {parts}")
        if not 1 <= w <= k1:
            raise InputError(f"w must be between 1 and k1={k1}, got {w}")
        self.tree = TreeQuantizer(parts, k1, k2)
        self.w = w
        self.line_parts = line_parts
        self.max_bins = max_bins
        self.keep_vectors = keep_vectors
        self.lines: LineQuantizer | None = None
        self._pending: list[dict[str, np.ndarray]] = []
        self._store: dict[str, np.ndarray] | None = None
        self._device_cache: dict[Any, dict[str, Any]] = {}
        self._orders: dict[tuple[int, int], np.ndarray] = {}
        self._padded_orders: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    # -- build ---------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        return self.tree.dim

    @property
    def is_trained(self) -> bool:
        return self.lines is not None

    def train(self, x: np.ndarray, sample: int = 100_000, iterations: int = 20, seed: int = 0) -> PQTIndex:
        """Train the tree on up to ``sample`` vectors drawn from ``x`` (may be memory-mapped)."""
        _check_vectors(x, "training vectors")
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(x.shape[0], size=min(sample, x.shape[0]), replace=False))
        data = np.asarray(x[rows], dtype=np.float32)
        if not np.isfinite(data).all():
            raise InputError("training vectors contain NaN or infinity")
        self.tree.train(data, iterations=iterations, seed=seed)
        self.lines = LineQuantizer(self.tree.level1, self.line_parts)
        return self

    def _bins(self, codes: Any) -> Any:
        """Hash per-part codes (n, p) to bin ids in [0, max_bins): mixed radix, reduced at each step."""
        xp = array_namespace(codes)
        radix = self.tree.k1 * self.tree.k2
        bins = xp.zeros(codes.shape[:-1], dtype=xp.int64)
        for p in range(codes.shape[-1]):
            bins = (bins * radix + xp.astype(codes[..., p], xp.int64)) % self.max_bins
        return bins

    def add(self, x: np.ndarray, ids: np.ndarray | None = None, batch: int = 65536) -> None:
        """Add vectors (incrementally); ``ids`` default to consecutive numbers after the last add."""
        if not self.is_trained:
            raise InputError("train the index before adding vectors")
        assert self.lines is not None
        _check_vectors(x, "vectors", self.dim)
        first = self.ntotal
        if ids is None:
            ids = np.arange(first, first + x.shape[0], dtype=np.int64)
        ids = np.asarray(ids, dtype=np.int64)
        if ids.shape != (x.shape[0],):
            raise InputError(f"got {ids.shape[0]} ids for {x.shape[0]} vectors")
        for start, chunk in _batches(x, batch):
            pair, lam = self.lines.encode(chunk)
            part = {"bins": self._bins(self.tree.encode(chunk)), "ids": ids[start : start + len(chunk)],
                    "line_pair": pair, "line_lam": lam}  # the keys of ROW_KEYS
            if self.keep_vectors:
                part["vectors"] = chunk
            self._pending.append(part)
        self._device_cache.clear()

    @property
    def ntotal(self) -> int:
        stored = 0 if self._store is None else len(self._store["ids"])
        return stored + sum(len(p["ids"]) for p in self._pending)

    def _finalize(self) -> dict[str, np.ndarray]:
        """Merge added batches into flat inverted lists sorted by bin."""
        if self._pending:
            self._store = _by_bin(([self._store] if self._store is not None else []) + self._pending)
            self._pending = []
            self._device_cache.clear()
        if self._store is None or len(self._store["ids"]) == 0:
            raise InputError("the index is empty: add vectors first")
        return self._store

    def remove(self, ids: Any) -> int:
        """Remove every vector whose id is in ``ids`` (a 1-D integer array); returns how many were removed."""
        ids = np.asarray(ids)
        if ids.ndim != 1 or (ids.size and ids.dtype.kind not in "iu"):
            raise InputError(f"ids to remove must be a 1-D integer array, got shape {ids.shape} of {ids.dtype}")
        store = self._finalize()
        drop = np.isin(store["ids"], ids)
        removed = int(drop.sum())
        if removed:
            self._store = _by_bin([{key: value[~drop] for key, value in store.items() if key in ROW_KEYS}])
            self._device_cache.clear()
        return removed

    def trained_copy(self) -> PQTIndex:
        """An empty index with this one's trained tree and settings: a shard to fill and :meth:`merge` back."""
        if not self.is_trained:
            raise InputError("train the index before copying its tree")
        copy = PQTIndex(self.tree.parts, self.tree.k1, self.tree.k2, self.w, self.line_parts, self.max_bins,
                        self.keep_vectors)
        copy.tree.level1, copy.tree.level2, copy.lines = self.tree.level1, self.tree.level2, self.lines
        return copy

    def merge(self, other: PQTIndex) -> None:
        """Add ``other``'s vectors, with their ids, to this index; ``other`` is left as it was.

        Both must share one trained tree (:meth:`trained_copy`, or one saved index loaded twice) and its
        settings: codes of another tree mean other bins. Ids are kept as they are, as :meth:`add` keeps them.
        """
        if not (self.is_trained and other.is_trained):
            raise InputError("only trained indexes can be merged")
        mine = (self.tree.parts, self.tree.k1, self.tree.k2, self.line_parts, self.max_bins, self.keep_vectors)
        theirs = (other.tree.parts, other.tree.k1, other.tree.k2, other.line_parts, other.max_bins,
                  other.keep_vectors)
        if mine != theirs:
            raise InputError(f"the indexes differ in (parts, k1, k2, line_parts, max_bins, keep_vectors): "
                             f"{mine} against {theirs}")
        if not (np.array_equal(self.tree.level1, other.tree.level1)
                and np.array_equal(self.tree.level2, other.tree.level2)):
            raise InputError("the indexes were trained apart: merge needs one trained tree (shards from "
                             "`mf ann build --tree` or PQTIndex.trained_copy)")
        store = other._finalize()
        self._pending.append({key: value for key, value in store.items() if key in ROW_KEYS})
        self._device_cache.clear()

    def exact_distances(self, queries: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Squared L2 distances (nq, m) from each query to the stored vectors with the given ids (nq, m);
        infinity where an id is -1. Needs the raw vectors (``keep_vectors``)."""
        store = self._finalize()
        if "vectors" not in store:
            raise InputError("exact distances need the raw vectors: build the index with keep_vectors=True")
        if "id_order" not in self._device_cache:  # stored by bin: sorted ids find each one's position
            self._device_cache["id_order"] = np.argsort(store["ids"], kind="stable")  # cleared with the store
        from .compiled import exact_rows

        order = self._device_cache["id_order"]
        sorted_ids = store["ids"][order]
        found = np.clip(np.searchsorted(sorted_ids, ids), 0, len(order) - 1)
        rows = np.where((ids >= 0) & (sorted_ids[found] == ids), order[found], -1)
        vectors = np.ascontiguousarray(store["vectors"], dtype=np.float32)
        return exact_rows(np.ascontiguousarray(queries, dtype=np.float32), vectors, rows)

    def bin_sizes(self) -> np.ndarray:
        """Number of vectors in each non-empty bin (for occupancy histograms, table 2.4)."""
        return np.diff(self._finalize()["offsets"])

    @property
    def bytes_per_vector(self) -> dict[str, float]:
        store = self._finalize()
        n = len(store["ids"])
        index = sum(store[k].nbytes for k in ("ids", "line_pair", "line_lam", "bin_ids", "offsets")) / n
        return {"index": index, "with_vectors": index + (store["vectors"].nbytes / n if "vectors" in store else 0.0)}

    # -- search --------------------------------------------------------------------------

    def _on_device(self, xp: Any, device: Any) -> dict[str, Any]:
        key = (xp.__name__, str(device))
        if key not in self._device_cache:
            store = self._finalize()
            assert self.tree.level1 is not None and self.tree.level2 is not None
            level2 = self.tree.level2
            arrays = {**store, "level1": self.tree.level1,
                      "level2_flat": np.ascontiguousarray(level2.reshape(level2.shape[0], -1, level2.shape[-1]))}
            self._device_cache[key] = {k: xp.asarray(v, device=device) for k, v in arrays.items()}
        return self._device_cache[key]

    def _merge_lengths(self, ranks: int, bins: int) -> list[int]:
        """List length entering each pairwise merge level of bin proposal (ranks per part first)."""
        lengths = []
        for _ in range(self.tree.parts.bit_length() - 1):
            lengths.append(ranks)
            ranks = min(bins, ranks * ranks)
        return lengths

    def _order_table(self, length: int, bins: int) -> np.ndarray:
        """:func:`pair_orders` for lists of ``length`` ranks cut at ``bins`` entries, cached."""
        if (length, bins) not in self._orders:
            self._orders[length, bins] = pair_orders(length, bins)
        return self._orders[length, bins]

    def search(self, queries: Any, k: int = 10, candidates: int = 4096, rerank: str | None = "line",
               bins: int | None = None, refine: int = 256, batch: int = 256,
               compiled: bool | None = None, proposal: str = "anisotropic",
               allow: AllowList | None = None, threads: int | None = None) -> tuple[Any, Any]:
        """Return (distances, ids), each (nq, k): squared L2 distances, ascending; ids -1 where fewer found.

        ``queries`` may be NumPy, PyTorch or CuPy; results come back in the same array type.
        ``bins`` is the number of bins proposed per query (default: ``candidates``). NumPy
        queries run the compiled CPU path (:mod:`mf_ann.compiled`) unless ``compiled=False``,
        which runs the array-API path every backend shares (the reference the compiled one is
        tested against). ``proposal="queue"`` (compiled path only) visits bins in exact order of
        summed part distances with the inverted multi-index's priority queue, as far as the
        candidates need, instead of the thesis's precomputed anisotropic order: sequential, so
        no use on a GPU, but on a CPU it reaches the same recall with fewer candidates.

        ``allow`` restricts the results to some ids (:mod:`mf_ann.allow`: a boolean mask over ids or
        an array of ids). Only allowed vectors count as candidates; an allow-list of up to
        :data:`EXHAUSTIVE` × ``candidates`` vectors is searched exhaustively (every allowed
        vector re-ranked, by exact distances with ``rerank="exact"``, otherwise, ``None`` included,
        by line quantization), a longer one proposes more bins (:data:`FILTER_BINS`). ``k`` may
        exceed the number allowed: the rest is padded with -1.

        ``threads`` sets numba's CPU threads, over which a batch's queries are spread (default: as
        numba has them, every core unless limited).
        """
        xp = array_namespace(queries)
        if rerank not in RERANK:
            raise InputError(f"rerank must be one of {RERANK}, got {rerank!r}")
        if rerank == "exact" and not self.keep_vectors:
            raise InputError("exact re-ranking needs the raw vectors: build the index with keep_vectors=True")
        if queries.ndim != 2 or queries.shape[1] != self.dim:
            raise InputError(f"queries have shape {tuple(queries.shape)}, the index expects (n, {self.dim})")
        finite = xp.all(xp.isfinite(queries), axis=1)
        if not bool(xp.all(finite)):
            row = int(xp.argmax(xp.astype(~finite, xp.int8)))
            raise InputError(f"query {row} contains NaN or infinity")
        store = self._finalize()
        if not 1 <= k <= len(store["ids"]):
            raise InputError(f"k={k} must be between 1 and the number of indexed vectors ({len(store['ids'])})")
        if candidates < 1 or (bins is not None and bins < 1):
            raise InputError("candidates and bins must be positive")
        if proposal not in PROPOSALS:
            raise InputError(f"proposal must be one of {PROPOSALS}, got {proposal!r}")
        if compiled is None:
            compiled = is_numpy_namespace(xp)
        elif compiled and not is_numpy_namespace(xp):
            raise InputError("the compiled search path runs on the CPU: pass NumPy queries")
        if proposal == "queue" and not compiled:
            raise InputError("proposal='queue' is sequential and runs on the compiled CPU path only: pass NumPy "
                             "queries (or use the default anisotropic proposal)")
        allowed = None if allow is None else allowed_positions(allow, store["ids"])
        count = len(store["ids"]) if allowed is None else int(np.count_nonzero(allowed))
        if allowed is not None and count <= EXHAUSTIVE * candidates:
            run = partial(self._search_listed, xp, *self._listed(xp, getattr(queries, "device", None),
                                                                 np.flatnonzero(allowed), rerank))
        elif compiled:
            run = partial(self._search_compiled, queue=proposal == "queue", allowed=allowed)
        else:
            allowed_before = None  # allowed vectors before each storage position, once per call
            if allowed is not None:
                allowed_before = xp.asarray(np.concatenate([[0], np.cumsum(allowed, dtype=np.int64)]),
                                            device=getattr(queries, "device", None))
            run = partial(self._search_batch, xp, allowed_before=allowed_before)
        if bins is None:
            bins = min(FILTER_BINS * candidates, -(-candidates * len(store["ids"]) // max(count, 1)))
        from .compiled import limited_threads

        with limited_threads(threads):
            results = [run(queries[s : s + batch], k, candidates, rerank, bins, refine)
                       for s in range(0, queries.shape[0], batch)]
        return xp.concat([r[0] for r in results], axis=0), xp.concat([r[1] for r in results], axis=0)

    def _listed(self, xp: Any, device: Any, rows: np.ndarray, rerank: str | None) -> tuple[Any, Any]:
        """The vectors at storage positions ``rows`` (a short allow-list) and their ids, on the queries'
        device: the raw vectors for ``rerank="exact"``, otherwise the line-quantised points (to which
        eq. 2.12 measures distances)."""
        dev = self._on_device(xp, device)
        at = xp.asarray(rows, device=device)
        if len(rows) == 0:
            points = xp.zeros((0, self.dim), dtype=xp.float32, device=device)
        elif rerank == "exact":
            points = xp.take(dev["vectors"], at, axis=0)
        else:
            assert self.lines is not None
            store = self._finalize()
            decoded = self.lines.decode(store["line_pair"][rows], store["line_lam"][rows]).astype(np.float32)
            points = xp.asarray(decoded, device=device)
        return points, xp.take(dev["ids"], at, axis=0)

    def _search_listed(self, xp: Any, points: Any, ids: Any, q: Any, k: int, candidates: int,
                       rerank: str | None, bins: int, refine: int) -> tuple[Any, Any]:
        """Every listed vector (:meth:`_listed`) ranked by its distance to each query: exhaustive search
        of a short allow-list. Exact distances are re-scored for the best ``refine`` without the matrix
        product's cancellation."""
        device = getattr(q, "device", None)
        q = xp.astype(q, xp.float32)
        nq, m = q.shape[0], points.shape[0]
        if m == 0:
            return (xp.full((nq, k), float("inf"), dtype=xp.float32, device=device),
                    xp.full((nq, k), -1, dtype=xp.int64, device=device))
        dist = squared_distances(q, points)  # (nq, m) by matrix product
        keep = min(max(refine, k) if rerank == "exact" else k, m)
        order = _smallest(xp, dist, keep)
        top_ids = xp.take(ids, xp.reshape(order, (-1,)), axis=0)
        top_ids = xp.reshape(top_ids, order.shape)
        if rerank != "exact":
            return self._top_k(xp, xp.take_along_axis(dist, order, axis=1), top_ids, k, device)
        top = xp.reshape(xp.take(points, xp.reshape(order, (-1,)), axis=0), (nq, keep, -1))
        diff = top - q[:, None, :]
        return self._top_k(xp, xp.sum(diff * diff, axis=-1), top_ids, k, device)

    def _traverse(self, xp: Any, dev: dict[str, Any], q: Any, device: Any) -> tuple[list[Any], list[Any]]:
        """Tree traversal: per part, the w*k2 level-2 cells of the w best level-1 clusters, sorted.

        Returns per part (nq, w*k2) ascending squared distances and the matching part codes.
        """
        nq, k2, w = q.shape[0], self.tree.k2, self.w
        q_parts = self.tree.split(q)  # (p, nq, dp)
        best1 = xp.argsort(squared_distances(q_parts, dev["level1"]), axis=-1)[..., :w]  # (p, nq, w)
        # Distances to every level-2 centroid in one matrix product (BLAS / cuBLAS) beat gathering the
        # w*k2 children first; only the children of the w best clusters are kept.
        all2 = squared_distances(q_parts, dev["level2_flat"])  # (p, nq, k1*k2)
        child = xp.reshape(xp.arange(k2, device=device), (1, 1, k2))
        dists, codes = [], []
        for p in range(self.tree.parts):
            cells = xp.reshape(best1[p][:, :, None] * k2 + child, (nq, w * k2))
            d2 = xp.take_along_axis(all2[p], cells, axis=1)
            order = xp.argsort(d2, axis=-1)
            dists.append(xp.take_along_axis(d2, order, axis=1))
            codes.append(xp.take_along_axis(cells, order, axis=1))
        return dists, codes

    def _propose_bins(self, xp: Any, part_dists: list[Any], part_codes: list[Any], bins: int,
                      device: Any) -> tuple[Any, Any]:
        """Bin ids (nq, B) in visiting order and each bin's summed traversal distance."""
        if self.tree.parts == 1:
            return self._bins(part_codes[0][:, :bins, None]), part_dists[0][:, :bins]
        tables = {n: xp.asarray(self._order_table(n, bins), device=device)
                  for n in self._merge_lengths(part_dists[0].shape[1], bins)}
        ranks, bin_dist = propose(part_dists, tables, bins)
        codes = xp.stack([xp.take_along_axis(part_codes[p], ranks[:, :, p], axis=1)
                          for p in range(self.tree.parts)], axis=-1)  # (nq, B, p)
        return self._bins(codes), bin_dist

    def _search_batch(self, xp: Any, q: Any, k: int, candidates: int, rerank: str | None, bins: int,
                      refine: int, allowed_before: Any = None) -> tuple[Any, Any]:
        device = getattr(q, "device", None)
        q = xp.astype(q, xp.float32)
        dev = self._on_device(xp, device)
        nq = q.shape[0]
        part_dists, part_codes = self._traverse(xp, dev, q, device)
        bin_ids, bin_dist = self._propose_bins(xp, part_dists, part_codes, bins, device)

        # Vector proposal: the first `candidates` (allowed) vectors of the proposed bins, in order.
        slots, valid, slot_bins = self._gather_slots(xp, dev, bin_ids, candidates, device, allowed_before)
        safe = xp.where(valid, slots, xp.zeros_like(slots))
        ids = xp.where(valid, xp.reshape(xp.take(dev["ids"], xp.reshape(safe, (-1,)), axis=0), slots.shape),
                       xp.full(slots.shape, -1, dtype=xp.int64, device=device))
        inf = xp.asarray(float("inf"), dtype=xp.float32, device=device)

        if rerank is None:  # proposal order; the distance reported is the bin's
            dist = xp.where(valid, xp.astype(xp.take_along_axis(bin_dist, slot_bins, axis=1), xp.float32), inf)
            return self._top_k(xp, dist, ids, k, device)

        # Re-ranking by line quantization (eq. 2.12) ...
        assert self.lines is not None
        tables = self.lines.pair_tables(self.lines.query_tables(q))
        flat = xp.reshape(safe, (-1,))
        shape = (nq, slots.shape[1], self.line_parts)
        line_codes = [xp.reshape(xp.take(dev[name], flat, axis=0), shape) for name in ("line_pair", "line_lam")]
        dist = xp.where(valid, xp.astype(self.lines.distances(tables, *line_codes), xp.float32), inf)
        if rerank == "line":
            return self._top_k(xp, dist, ids, k, device)

        # ... then exact distances for the best `refine` (PQT2).
        keep = min(max(refine, k), dist.shape[1])
        order = xp.argsort(dist, axis=1)[:, :keep]
        top_slots = xp.take_along_axis(safe, order, axis=1)
        top_valid = xp.take_along_axis(valid, order, axis=1)
        vectors = xp.reshape(xp.take(dev["vectors"], xp.reshape(top_slots, (-1,)), axis=0), (nq, keep, -1))
        diff = vectors - q[:, None, :]
        exact = xp.where(top_valid, xp.sum(diff * diff, axis=-1), inf)
        return self._top_k(xp, exact, xp.take_along_axis(ids, order, axis=1), k, device)

    def _search_compiled(self, q: np.ndarray, k: int, candidates: int, rerank: str | None, bins: int,
                         refine: int, queue: bool = False,
                         allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One batch on the compiled CPU path: traversal here (BLAS), the rest per query in numba."""
        from . import compiled

        assert self.lines is not None
        q = np.ascontiguousarray(q, dtype=np.float32)
        dev = self._on_device(np, None)
        if "table_keys" not in dev:
            dev["table_keys"], dev["table_values"], dev["table_shift"] = compiled.build_bin_table(dev["bin_ids"])
            dev["pair_sq"] = self.lines.pair_sq.astype(np.float32)
        part_dists, part_codes = self._traverse(np, dev, q, None)
        ranks = part_dists[0].shape[1]
        if (ranks, bins) not in self._padded_orders:
            self._padded_orders[ranks, bins] = compiled.padded_orders(
                [self._order_table(n, bins) for n in self._merge_lengths(ranks, bins)])
        orders, order_len = self._padded_orders[ranks, bins]
        line_tables = np.ascontiguousarray(self.lines.query_tables(q))
        vectors = dev["vectors"] if "vectors" in dev else np.zeros((1, self.dim), np.float32)
        return compiled.search_kernel(
            np.ascontiguousarray(np.stack(part_dists)), np.ascontiguousarray(np.stack(part_codes)),
            orders, order_len, self.tree.k1 * self.tree.k2, self.max_bins, dev["table_keys"],
            dev["table_values"], dev["table_shift"], dev["offsets"], dev["ids"], dev["line_pair"],
            dev["line_lam"], LAMBDAS, line_tables, dev["pair_sq"], vectors, q, k, candidates, bins,
            compiled.RERANK_CODE[rerank], refine, HORIZON, queue,
            np.zeros(0, np.bool_) if allowed is None else allowed, compiled.threads())

    @staticmethod
    def _bin_counts(xp: Any, dev: dict[str, Any], bin_ids: Any, device: Any) -> tuple[Any, Any]:
        """Start offset and size of each proposed bin (nq, B); a bin reached again (hash collision) counts 0."""
        nq = bin_ids.shape[0]
        known = dev["bin_ids"]
        pos = xp.clip(xp.searchsorted(known, bin_ids), max=known.shape[0] - 1)
        found = xp.reshape(xp.take(known, xp.reshape(pos, (-1,)), axis=0), pos.shape) == bin_ids
        order = xp.argsort(bin_ids, axis=1, stable=True)
        sorted_ids = xp.take_along_axis(bin_ids, order, axis=1)
        repeat_sorted = xp.concat([xp.zeros((nq, 1), dtype=xp.bool, device=device),
                                   sorted_ids[:, 1:] == sorted_ids[:, :-1]], axis=1)
        repeat = xp.take_along_axis(repeat_sorted, xp.argsort(order, axis=1), axis=1)
        starts = xp.reshape(xp.take(dev["offsets"], xp.reshape(pos, (-1,)), axis=0), pos.shape)
        ends = xp.reshape(xp.take(dev["offsets"], xp.reshape(pos + 1, (-1,)), axis=0), pos.shape)
        return starts, xp.where(found & ~repeat, ends - starts, xp.zeros_like(starts))

    @classmethod
    def _gather_slots(cls, xp: Any, dev: dict[str, Any], bin_ids: Any, candidates: int, device: Any,
                      allowed_before: Any = None) -> tuple[Any, Any, Any]:
        """The first ``candidates`` vectors of the proposed bins, in proposal order.

        With ``allowed_before`` (n + 1,), the number of allowed vectors before each storage position,
        only allowed vectors are taken. Returns (storage positions, valid mask, index of the proposed bin
        each came from), each (nq, candidates).
        """
        nq, nbins = bin_ids.shape
        starts, counts = cls._bin_counts(xp, dev, bin_ids, device)
        if allowed_before is not None:
            def before_at(positions: Any) -> Any:
                return xp.reshape(xp.take(allowed_before, xp.reshape(positions, (-1,)), axis=0), positions.shape)

            counts = before_at(starts + counts) - before_at(starts)
        cum = xp.cumulative_sum(counts, axis=1)  # (nq, B)
        total = cum[:, -1]
        # One sorted 1-D search for all queries: shift each query's running sums past the previous ones.
        span = int(xp.max(total)) + candidates + 1
        shift = xp.reshape(xp.arange(nq, dtype=xp.int64, device=device) * span, (-1, 1))
        slot = xp.reshape(xp.arange(candidates, dtype=xp.int64, device=device), (1, -1))
        which = xp.searchsorted(xp.reshape(cum + shift, (-1,)), xp.reshape(slot + shift, (-1,)), side="right")
        which = xp.reshape(which, (nq, candidates)) - xp.reshape(xp.arange(nq, device=device) * nbins, (-1, 1))
        valid = slot < total[:, None]
        which = xp.where(valid, xp.clip(which, max=nbins - 1), xp.zeros_like(which))
        within = slot - xp.take_along_axis(cum - counts, which, axis=1)  # rank inside its bin
        first = xp.take_along_axis(starts, which, axis=1)
        if allowed_before is None:
            return first + within, valid, which
        # The within-th allowed vector from `first`: the first position p with allowed_before[p + 1] reaching it.
        target = before_at(first) + within + 1
        found = xp.searchsorted(allowed_before, xp.reshape(target, (-1,)), side="left")
        positions = xp.clip(xp.reshape(found, target.shape) - 1, min=0, max=allowed_before.shape[0] - 2)
        return xp.where(valid, positions, xp.zeros_like(positions)), valid, which

    @staticmethod
    def _top_k(xp: Any, dist: Any, ids: Any, k: int, device: Any) -> tuple[Any, Any]:
        order = xp.argsort(dist, axis=1, stable=True)[:, :k]
        top_dist = xp.take_along_axis(dist, order, axis=1)
        top_ids = xp.take_along_axis(ids, order, axis=1)
        missing = k - top_dist.shape[1]
        if missing > 0:
            nq = dist.shape[0]
            pad = xp.full((nq, missing), float("inf"), dtype=xp.float32, device=device)
            top_dist = xp.concat([top_dist, pad], axis=1)
            top_ids = xp.concat([top_ids, xp.full((nq, missing), -1, dtype=xp.int64, device=device)], axis=1)
        top_ids = xp.where(xp.isinf(top_dist), xp.full_like(top_ids, -1), top_ids)
        return top_dist, top_ids

    # -- persistence ---------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the index as a versioned .npz (zip members carry CRCs), atomically."""
        store = self._finalize()
        assert self.tree.level1 is not None and self.tree.level2 is not None
        meta = {"format": FORMAT, "version": FORMAT_VERSION, "parts": self.tree.parts, "k1": self.tree.k1,
                "k2": self.tree.k2, "w": self.w, "line_parts": self.line_parts, "max_bins": self.max_bins,
                "keep_vectors": self.keep_vectors}
        arrays = {**store, "level1": self.tree.level1, "level2": self.tree.level2,
                  "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
        path = Path(path)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
        return path


def load(path: str | Path) -> PQTIndex:
    """Read an index written by :meth:`PQTIndex.save`; refuse truncated, corrupt, foreign or crafted files."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such index file")
    meta, arrays = read_index(path)
    index = PQTIndex(meta["parts"], meta["k1"], meta["k2"], meta["w"], meta["line_parts"], meta["max_bins"],
                     meta["keep_vectors"])
    index.tree.level1, index.tree.level2 = arrays.pop("level1"), arrays.pop("level2")
    index.lines = LineQuantizer(index.tree.level1, index.line_parts)
    index._store = arrays
    return index
