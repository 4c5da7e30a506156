"""Cost matrices between two videos' frame descriptors, and their de-correlation (thesis eq. 4.4).

A frame the descriptor encodes badly corrupts its whole row or column of the
cost matrix; such errors are low-rank. Subtracting the best rank-``r``
approximation (a randomized SVD, as the thesis's approximate SVD) removes them
and leaves the valley of the matching tour. Path search needs non-negative
costs, so the result is shifted to a minimum of zero.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.extmath import randomized_svd

from mfcore.errors import InputError

#: Rank of the approximation subtracted by :func:`decorrelate` (the thesis: 5).
RANK = 5


def cost_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances ``C[i, j] = ||a_i - b_j||`` (float32) between descriptor rows of two videos."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise InputError(f"descriptors must be (frames, dim) arrays of one dimension, got {a.shape} and {b.shape}")
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    squared = (a64**2).sum(1)[:, None] + (b64**2).sum(1)[None, :] - 2 * a64 @ b64.T
    return np.sqrt(np.maximum(squared, 0)).astype(np.float32)


def decorrelate(costs: np.ndarray, rank: int = RANK, seed: int = 0) -> np.ndarray:
    """``C - Σ_{k<=rank} U_k Σ_k V_k*`` shifted to a minimum of 0 (eq. 4.4); float32."""
    rank = min(rank, min(costs.shape) - 1)
    if rank < 1:
        return (costs - costs.min()).astype(np.float32)
    u, s, vt = randomized_svd(costs.astype(np.float32), rank, n_iter=4, random_state=seed)
    residual = costs - (u * s) @ vt
    return (residual - residual.min()).astype(np.float32)
