"""The two-level product quantization tree (thesis 2.2.1).

The d dimensions are split into ``parts`` contiguous parts. Each part has a
level-1 codebook of ``k1`` centroids (Lloyd iterations with k-means++ seeding,
as in LBG), and every level-1 cluster is refined by its own level-2 codebook of
``k2`` centroids trained on the sub-vectors assigned to it. A vector's code in
one part is ``i * k2 + j``: its nearest level-1 centroid ``i`` and, inside that
cluster, its nearest level-2 centroid ``j``; the tuple of the part codes names
its bin.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from array_api_compat import array_namespace

from mfcore import InputError


def squared_distances(x: Any, centroids: Any) -> Any:
    """(…, n, k) squared Euclidean distances between rows of x (…, n, d) and centroids (…, k, d)."""
    xp = array_namespace(x, centroids)
    x_sq = xp.sum(x * x, axis=-1)[..., :, None]
    c_sq = xp.sum(centroids * centroids, axis=-1)[..., None, :]
    cross = xp.matmul(x, xp.matrix_transpose(centroids))
    return xp.clip(x_sq - 2.0 * cross + c_sq, min=0.0)


def _kmeans(data: np.ndarray, k: int, iterations: int, rng: np.random.Generator) -> np.ndarray:
    """k centroids of ``data`` (Lloyd, k-means++ seeding); fewer points than k are all kept."""
    if len(data) == 0:
        raise ValueError("no data")
    from scipy.cluster.vq import kmeans2  # imported here: SciPy costs CLI start-up time

    if len(data) <= k:  # every point is its own centroid; pad with copies of the first
        padding = np.repeat(data[:1], k - len(data), axis=0)
        return np.concatenate([data, padding]).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "one of the clusters is empty": kmeans2 re-seeds it
        centroids, _ = kmeans2(data.astype(np.float64), k, iter=iterations, minit="++",
                               seed=np.random.default_rng(rng.integers(2**63)))
    return centroids.astype(np.float32)


@dataclass
class TreeQuantizer:
    """Per-part two-level codebooks: ``level1`` (p, k1, d/p) and ``level2`` (p, k1, k2, d/p)."""

    parts: int
    k1: int
    k2: int
    level1: np.ndarray | None = field(default=None, repr=False)
    level2: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.parts < 1 or self.k1 < 1 or self.k2 < 1:
            raise InputError("parts, k1 and k2 must be positive")
        if self.k1 * self.k2 > 2**31:
            raise InputError("k1 * k2 must fit an int32 part code")

    @property
    def dim(self) -> int:
        if self.level1 is None:
            raise InputError("the tree quantizer is not trained")
        return self.parts * self.level1.shape[2]

    def split(self, x: Any) -> Any:
        """(n, d) -> (p, n, d/p): the parts of each vector."""
        xp = array_namespace(x)
        n, d = x.shape
        if d % self.parts:
            raise InputError(f"dimension {d} is not divisible into {self.parts} parts")
        return xp.permute_dims(xp.reshape(x, (n, self.parts, d // self.parts)), (1, 0, 2))

    def train(self, x: np.ndarray, iterations: int = 20, seed: int = 0) -> TreeQuantizer:
        """Train both levels on (n, d) vectors; n must be at least k1."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or len(x) < self.k1:
            raise InputError(f"training needs at least k1={self.k1} vectors of shape (n, d), got {x.shape}")
        rng = np.random.default_rng(seed)
        parts = self.split(x)
        dp = parts.shape[2]
        self.level1 = np.empty((self.parts, self.k1, dp), np.float32)
        self.level2 = np.empty((self.parts, self.k1, self.k2, dp), np.float32)
        for p in range(self.parts):
            self.level1[p] = _kmeans(parts[p], self.k1, iterations, rng)
            nearest = np.argmin(squared_distances(parts[p], self.level1[p]), axis=1)
            for i in range(self.k1):
                members = parts[p][nearest == i]
                self.level2[p, i] = _kmeans(members, self.k2, iterations, rng) if len(members) else self.level1[p, i]
        return self

    def encode(self, x: Any, batch: int = 16384) -> Any:
        """(n, d) vectors -> (n, p) int32 part codes ``i * k2 + j`` (same array type as x)."""
        xp = array_namespace(x)
        if self.level1 is None or self.level2 is None:
            raise InputError("the tree quantizer is not trained")
        if x.shape[1] != self.dim:
            raise InputError(f"vectors have dimension {x.shape[1]}, the index expects {self.dim}")
        dev = x.device if hasattr(x, "device") else None
        level1 = xp.asarray(self.level1, device=dev)
        level2 = xp.asarray(self.level2, device=dev)
        out = []
        for start in range(0, x.shape[0], batch):
            parts = self.split(x[start : start + batch])  # (p, b, dp)
            first = xp.argmin(squared_distances(parts, level1), axis=-1)  # (p, b)
            codes = []
            for p in range(self.parts):
                children = xp.take(level2[p], first[p], axis=0)  # (b, k2, dp)
                diff = children - parts[p][:, None, :]
                second = xp.argmin(xp.sum(diff * diff, axis=-1), axis=-1)
                codes.append(first[p] * self.k2 + second)
            out.append(xp.stack(codes, axis=1))
        return xp.astype(xp.concat(out, axis=0), xp.int32)
