"""Several PQT indexes over permuted coordinates, results merged (thesis 2.4, future work).

A vector part boundary splits correlated coordinates differently in each
ordering, so the quantisation errors of the indexes are partly independent: if
one index finds the true neighbour with probability F, n independent ones
would find it with 1 - (1 - F)^n. The merged result keeps, per query, the k
best distinct ids over all indexes; with exact re-ranking the distances are
comparable across indexes, with line re-ranking they are approximations of the
same quantity.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import array_namespace

from mfcore import InputError

from .index import PQTIndex


class MultiOrderIndex:
    """``n`` PQTIndexes, each over its own random permutation of the coordinates (the first keeps the identity)."""

    def __init__(self, n: int, seed: int = 0, **params: Any) -> None:
        if n < 1:
            raise InputError("n must be at least 1")
        self.n = n
        self.seed = seed
        self.indexes = [PQTIndex(**params) for _ in range(n)]
        self.permutations: list[np.ndarray] = []

    def train(self, x: np.ndarray, **kwargs: Any) -> MultiOrderIndex:
        d = x.shape[1]
        rng = np.random.default_rng(self.seed)
        self.permutations = [np.arange(d)] + [rng.permutation(d) for _ in range(self.n - 1)]
        for index, perm in zip(self.indexes, self.permutations, strict=True):
            index.train(np.asarray(x)[:, perm], **kwargs)
        return self

    def add(self, x: np.ndarray, ids: np.ndarray | None = None, batch: int = 65536) -> None:
        if not self.permutations:
            raise InputError("train the index before adding vectors")
        first = self.indexes[0].ntotal
        ids = np.arange(first, first + x.shape[0], dtype=np.int64) if ids is None else ids
        for start in range(0, x.shape[0], batch):
            chunk = np.asarray(x[start : start + batch])
            for index, perm in zip(self.indexes, self.permutations, strict=True):
                index.add(chunk[:, perm], ids=ids[start : start + len(chunk)])

    def search(self, queries: Any, k: int = 10, **kwargs: Any) -> tuple[Any, Any]:
        """Search every ordering and keep the k best distinct ids per query."""
        xp = array_namespace(queries)
        dists, ids = [], []
        for index, perm in zip(self.indexes, self.permutations, strict=True):
            take = xp.asarray(perm, device=getattr(queries, "device", None))
            d, i = index.search(xp.take(queries, take, axis=1), k=k, **kwargs)
            dists.append(d)
            ids.append(i)
        dist = xp.concat(dists, axis=1)
        ident = xp.concat(ids, axis=1)
        # Sort by (id, distance) to mark repeated ids, then keep the k smallest distances.
        order = xp.argsort(dist, axis=1, stable=True)
        dist = xp.take_along_axis(dist, order, axis=1)
        ident = xp.take_along_axis(ident, order, axis=1)
        by_id = xp.argsort(ident, axis=1, stable=True)
        sorted_ids = xp.take_along_axis(ident, by_id, axis=1)
        nq = sorted_ids.shape[0]
        repeat_sorted = xp.concat([xp.zeros((nq, 1), dtype=xp.bool, device=getattr(queries, "device", None)),
                                   sorted_ids[:, 1:] == sorted_ids[:, :-1]], axis=1)
        repeat = xp.take_along_axis(repeat_sorted, xp.argsort(by_id, axis=1), axis=1) & (ident >= 0)
        dist = xp.where(repeat, xp.full_like(dist, float("inf")), dist)
        keep = xp.argsort(dist, axis=1, stable=True)[:, :k]
        top_dist = xp.take_along_axis(dist, keep, axis=1)
        top_ids = xp.take_along_axis(ident, keep, axis=1)
        return top_dist, xp.where(xp.isinf(top_dist), xp.full_like(top_ids, -1), top_ids)
