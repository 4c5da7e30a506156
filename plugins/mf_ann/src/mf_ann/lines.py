"""Line quantization (thesis 2.2.3) and its query-time distance, eq. 2.12.

Each vector is cut into ``line_parts`` sub-parts (a refinement of the tree's
parts: every level-1 centroid part is split the same way, so no new codebook
is trained). A sub-part x is stored as the point (1 - λ) c_i + λ c_j on the
segment between two level-1 centroid sub-parts that is closest to x, with λ
quantised to 256 levels in [0, 1]: three bytes (i, j, λ) per sub-part.

For a query y, with b² = |y - c_i|², a² = |y - c_j|² (both already computed
against all level-1 centroids during tree traversal) and c² = |c_i - c_j|²
(a table fixed at build time), the squared distance to the stored point is
exactly

    h² = b² + λ² c² + λ (a² - b² - c²)                    (eq. 2.12)

so re-ranking costs three table look-ups and a few flops per sub-part.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import array_namespace

from mfcore.errors import InputError

from .tree import squared_distances

LEVELS = 255  # λ is stored as round(λ * 255) in a uint8


class LineQuantizer:
    """Encode vectors as (i, j, λ) per line part and score queries against the codes."""

    def __init__(self, level1: np.ndarray, line_parts: int) -> None:
        parts, k1, dp = level1.shape
        if line_parts % parts or dp % (line_parts // parts):
            raise InputError(f"line_parts={line_parts} must be a multiple of the tree's {parts} parts and split "
                             f"each {dp}-dimensional part evenly")
        if k1 > 256:
            raise InputError("line quantization stores centroid indices in one byte: k1 must be <= 256")
        split = line_parts // parts
        sub = dp // split
        self.line_parts = line_parts
        #: (line_parts, k1, sub): the level-1 centroids cut into the line parts, in dimension order.
        self.centroids = np.ascontiguousarray(
            level1.reshape(parts, k1, split, sub).transpose(0, 2, 1, 3).reshape(line_parts, k1, sub))
        #: (line_parts, k1, k1): squared distances between centroid sub-parts, c² of eq. 2.12.
        self.pair_sq = squared_distances(self.centroids.astype(np.float64), self.centroids.astype(np.float64))
        np.einsum("lii->li", self.pair_sq)[...] = 0.0

    def split(self, x: Any) -> Any:
        """(n, d) -> (line_parts, n, sub)."""
        xp = array_namespace(x)
        n = x.shape[0]
        return xp.permute_dims(xp.reshape(x, (n, self.line_parts, -1)), (1, 0, 2))

    def query_tables(self, queries: Any) -> Any:
        """(nq, d) queries -> (nq, line_parts, k1) squared distances to the centroid sub-parts."""
        xp = array_namespace(queries)
        centroids = xp.asarray(self.centroids, device=getattr(queries, "device", None))
        return xp.permute_dims(squared_distances(self.split(queries), xp.astype(centroids, queries.dtype)),
                               (1, 0, 2))

    def encode(self, x: np.ndarray, batch: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(n, d) -> (i, j, λ) uint8 arrays of shape (n, line_parts), each minimising the error."""
        x = np.asarray(x, dtype=np.float32)
        n = x.shape[0]
        k1 = self.centroids.shape[1]
        # ~4M pair evaluations per batch: the float32 temporaries stay in cache-friendly sizes.
        batch = batch or max(1, (1 << 22) // (self.line_parts * k1 * k1))
        codes = [np.empty((n, self.line_parts), np.uint8) for _ in range(3)]
        pair = self.pair_sq[None].astype(np.float32)
        for start in range(0, n, batch):
            tables = self.query_tables(x[start : start + batch])  # (b, L, k1)
            d_i = tables[:, :, :, None]
            d_j = tables[:, :, None, :]
            with np.errstate(divide="ignore", invalid="ignore"):
                lam = np.where(pair > 0, (d_i + pair - d_j) / (2.0 * pair), 0.0)
            lam = np.round(np.clip(lam, 0.0, 1.0) * LEVELS) * np.float32(1.0 / LEVELS)
            error = d_i + lam * lam * pair + lam * (d_j - d_i - pair)  # eq. 2.12 with y = x
            flat = error.reshape(*error.shape[:2], -1).argmin(axis=-1)  # (b, L)
            i, j = np.divmod(flat, k1)
            chosen = np.take_along_axis(lam.reshape(*lam.shape[:2], -1), flat[..., None], axis=-1)[..., 0]
            codes[0][start : start + batch] = i
            codes[1][start : start + batch] = j
            codes[2][start : start + batch] = np.round(chosen * LEVELS)
        return codes[0], codes[1], codes[2]

    def decode(self, i: np.ndarray, j: np.ndarray, lam: np.ndarray) -> np.ndarray:
        """The stored points, (n, d) float64: what eq. 2.12 measures distances to."""
        line = np.arange(self.line_parts)
        c = self.centroids.astype(np.float64)
        weight = (lam.astype(np.float64) / LEVELS)[..., None]
        points = (1.0 - weight) * c[line, i] + weight * c[line, j]  # (n, L, sub)
        return points.reshape(len(i), -1)

    def distances(self, tables: Any, i: Any, j: Any, lam: Any) -> Any:
        """Eq. 2.12 summed over line parts.

        ``tables`` (nq, L, k1) from :meth:`query_tables`; ``i, j, lam`` (nq, m, L) codes of
        m candidates per query. Returns (nq, m) approximate squared distances.
        """
        xp = array_namespace(tables)
        dev = getattr(tables, "device", None)
        nq, m, lines = i.shape
        i = xp.astype(i, xp.int64)
        j = xp.astype(j, xp.int64)
        weight = xp.astype(lam, tables.dtype) / LEVELS
        line = xp.reshape(xp.arange(lines, device=dev), (1, 1, lines))
        k1 = tables.shape[2]
        flat_tables = xp.reshape(tables, (nq, lines * k1))
        b_sq = xp.take_along_axis(flat_tables, xp.reshape(line * k1 + i, (nq, m * lines)), axis=1)
        a_sq = xp.take_along_axis(flat_tables, xp.reshape(line * k1 + j, (nq, m * lines)), axis=1)
        pair = xp.asarray(self.pair_sq, dtype=tables.dtype, device=dev)
        c_sq = xp.take(xp.reshape(pair, (-1,)), xp.reshape((line * k1 + i) * k1 + j, (-1,)), axis=0)
        b_sq = xp.reshape(b_sq, (nq, m, lines))
        a_sq = xp.reshape(a_sq, (nq, m, lines))
        c_sq = xp.reshape(c_sq, (nq, m, lines))
        return xp.sum(b_sq + weight * weight * c_sq + weight * (a_sq - b_sq - c_sq), axis=-1)
