"""Line quantization (thesis 2.2.3) and its query-time distance, eq. 2.12.

Each vector is cut into ``line_parts`` sub-parts (a refinement of the tree's
parts: every level-1 centroid part is split the same way, so no new codebook
is trained). A sub-part x is stored as the point (1 - λ) c_i + λ c_j on the
line through two level-1 centroid sub-parts that is closest to x: the pair
code i·k1 + j and λ as one byte, three bytes at most per sub-part.

λ is the projection onto the whole line, not only the segment between the two
centroids (the thesis's fig. 2.6 projects onto the line): most sub-vectors
project outside the segment, and clipping λ to [0, 1] more than doubles the
average distortion at 16 line parts on real SIFT (measured by ``mf bench ann``).
The byte holds λ in [-7, 8] in steps of 1/17, so 0 and 1 (the centroids) are
exact; 99% of the gain of an unbounded λ is kept and the quantisation error of
λ stays negligible beside the projection error.

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

from mfcore import InputError

from .tree import squared_distances

LAMBDA_MIN, LAMBDA_MAX = -7.0, 8.0  # λ = LAMBDA_MIN + code / 17 for a uint8 code
LEVELS = 255
#: The λ of each uint8 code, in float32: both search paths read λ from this table.
LAMBDAS = (LAMBDA_MIN + np.arange(LEVELS + 1) * ((LAMBDA_MAX - LAMBDA_MIN) / LEVELS)).astype(np.float32)


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

    @property
    def pair_dtype(self) -> np.dtype:
        """One byte per (i, j) pair code while k1 <= 16, two bytes up to k1 = 256."""
        return np.dtype(np.uint8 if self.centroids.shape[1] <= 16 else np.uint16)

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, d) -> (pair, λ code), each (n, line_parts): pair = i * k1 + j, minimising the error.

        Every pair is tried (k1² per line part), in one compiled pass per vector on numba's threads: the
        array form's (n, L, k1, k1) temporaries made encoding most of an index's build time.
        """
        from .compiled import encode_lines

        x = np.ascontiguousarray(x, dtype=np.float32)
        pairs = np.empty((x.shape[0], self.line_parts), self.pair_dtype)
        codes = np.empty((x.shape[0], self.line_parts), np.uint8)
        pair_sq = self.pair_sq.astype(np.float32)
        with np.errstate(divide="ignore"):
            half_inv = np.where(pair_sq > 0, 1.0 / (2.0 * pair_sq), 0.0).astype(np.float32)
        encode_lines(x, self.centroids.astype(np.float32), pair_sq, half_inv, LAMBDAS, LAMBDA_MIN, LAMBDA_MAX,
                     LEVELS / (LAMBDA_MAX - LAMBDA_MIN), pairs, codes)
        return pairs, codes

    def decode(self, pair: np.ndarray, lam: np.ndarray) -> np.ndarray:
        """The stored points, (n, d) float64: what eq. 2.12 measures distances to."""
        i, j = np.divmod(pair.astype(np.int64), self.centroids.shape[1])
        line = np.arange(self.line_parts)
        c = self.centroids.astype(np.float64)
        weight = LAMBDAS[lam].astype(np.float64)[..., None]
        points = (1.0 - weight) * c[line, i] + weight * c[line, j]  # (n, L, sub)
        return points.reshape(len(pair), -1)

    def pair_tables(self, tables: Any) -> tuple[Any, Any, Any]:
        """Per-query look-up tables over pair codes, so eq. 2.12 is three gathers per line part.

        From (nq, L, k1) squared distances to the centroids: b² (nq, L·k1²), the linear
        coefficient a² - b² - c² (nq, L·k1²), and the query-independent c² (L·k1²,).
        """
        xp = array_namespace(tables)
        nq, lines, k1 = tables.shape
        c_sq = xp.asarray(self.pair_sq, dtype=tables.dtype, device=getattr(tables, "device", None))
        b_sq = tables[:, :, :, None] * xp.ones((1, 1, 1, k1), dtype=tables.dtype)
        linear = tables[:, :, None, :] - tables[:, :, :, None] - c_sq[None]
        return (xp.reshape(b_sq, (nq, -1)), xp.reshape(linear, (nq, -1)), xp.reshape(c_sq, (-1,)))

    def distances(self, pair_tables: tuple[Any, Any, Any], pair: Any, lam: Any) -> Any:
        """Eq. 2.12 summed over line parts for (nq, m, L) pair codes and λ: (nq, m) squared distances."""
        b_sq, linear, c_sq = pair_tables
        xp = array_namespace(b_sq)
        nq, m, lines = pair.shape
        stride = c_sq.shape[0] // lines
        offsets = xp.reshape(xp.arange(lines, dtype=xp.int64, device=getattr(b_sq, "device", None)) * stride,
                             (1, 1, lines))
        flat = xp.reshape(xp.astype(pair, xp.int64) + offsets, (nq, m * lines))  # torch gathers need int64
        lambdas = xp.asarray(LAMBDAS, dtype=b_sq.dtype, device=getattr(b_sq, "device", None))
        weight = xp.reshape(xp.take(lambdas, xp.reshape(xp.astype(lam, xp.int64), (-1,)), axis=0), (nq, m * lines))
        value = (xp.take_along_axis(b_sq, flat, axis=1)
                 + weight * (xp.take_along_axis(linear, flat, axis=1)
                             + weight * xp.reshape(xp.take(c_sq, xp.reshape(flat, (-1,)), axis=0), flat.shape)))
        return xp.sum(xp.reshape(value, (nq, m, lines)), axis=-1)
