"""The core's exact nearest-neighbour index: brute force, so that no task needs an index plugin.

Squared distances come from |q|² - 2 q·x + |x|² in float32 matrix products, a
block of queries at a time (memory stays at ``block`` × n floats), and the k
best of each row from ``argpartition``. A task that only searches a few
thousand vectors (the coarse frames of a video collection) loses nothing by it;
large sets want ``mf-ann``'s Product Quantization Tree.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError


class ExactIndex:
    """Exact k-nearest-neighbour search over the rows of ``vectors``."""

    def __init__(self, vectors: np.ndarray, block: int = 1024) -> None:
        if vectors.ndim != 2 or not len(vectors):
            raise InputError(f"an index needs a non-empty (n, d) array of vectors, got shape {vectors.shape}")
        if not np.isfinite(vectors).all():
            raise InputError("vectors to index contain NaN or infinity")
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.norms = np.einsum("ij,ij->i", self.vectors, self.vectors)
        self.block = block

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.ndim != 2 or queries.shape[1] != self.vectors.shape[1]:
            raise InputError(f"queries of shape {queries.shape} for an index of dimension {self.vectors.shape[1]}")
        n = len(self.vectors)
        found = min(k, n)
        distances = np.full((len(queries), k), np.inf, np.float32)
        ids = np.full((len(queries), k), -1, np.int64)
        for start in range(0, len(queries), self.block):
            q = queries[start : start + self.block]
            d = np.einsum("ij,ij->i", q, q)[:, None] - 2.0 * q @ self.vectors.T + self.norms[None, :]
            np.maximum(d, 0.0, out=d)  # rounding can take a zero distance below zero
            best = np.argpartition(d, found - 1, axis=1)[:, :found] if found < n else np.tile(np.arange(n), (len(q), 1))
            best_d = np.take_along_axis(d, best, axis=1)
            order = np.argsort(best_d, axis=1, kind="stable")
            distances[start : start + len(q), :found] = np.take_along_axis(best_d, order, axis=1)
            ids[start : start + len(q), :found] = np.take_along_axis(best, order, axis=1)
        return distances, ids
