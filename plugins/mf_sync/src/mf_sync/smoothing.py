"""Kalman smoothing of a frame mapping that never plays either video backwards (thesis 4.3.4).

A path through a cost matrix moves in unit steps and stalls (one video waits
while the other plays): played back as it is, the second video jumps and
stutters. Both frame coordinates are smoothed along the path with a
constant-velocity Kalman filter and a Rauch-Tung-Striebel backward pass, then
made non-decreasing again, and the mapping is read off at every frame of A,
within the B frames the path spans: near a stop at either end the smoother
overshoots (``mf run sync`` once mapped frames of A to B frame -2).
"""

from __future__ import annotations

import numpy as np

#: Process noise (acceleration, frames/step²) and measurement noise (frames) of the smoother.
#: Chosen on rendered and simulated drives: stiffer filters smooth over stops, looser ones keep the stutter.
PROCESS_NOISE = 0.005
MEASUREMENT_NOISE = 5.0


def rts_smooth(values: np.ndarray, process: float = PROCESS_NOISE,
               measurement: float = MEASUREMENT_NOISE) -> np.ndarray:
    """Constant-velocity Kalman filter plus Rauch-Tung-Striebel smoother of a 1-d sequence."""
    n = len(values)
    if n < 3:
        return values.astype(np.float64)
    f = np.array([[1.0, 1.0], [0.0, 1.0]])
    q = process * np.array([[0.25, 0.5], [0.5, 1.0]])
    h = np.array([1.0, 0.0])
    means, covs, pred_means, pred_covs = np.zeros((n, 2)), np.zeros((n, 2, 2)), np.zeros((n, 2)), np.zeros((n, 2, 2))
    lead = min(n - 1, 10)
    mean, cov = np.array([values[0], (values[lead] - values[0]) / lead]), np.eye(2) * 10
    for k in range(n):
        if k:
            mean, cov = f @ mean, f @ cov @ f.T + q
        pred_means[k], pred_covs[k] = mean, cov
        gain = cov @ h / (h @ cov @ h + measurement**2)
        mean = mean + gain * (values[k] - h @ mean)
        cov = cov - np.outer(gain, h @ cov)
        means[k], covs[k] = mean, cov
    smoothed = means.copy()
    for k in range(n - 2, -1, -1):
        back = covs[k] @ f.T @ np.linalg.inv(pred_covs[k + 1])
        smoothed[k] = means[k] + back @ (smoothed[k + 1] - pred_means[k + 1])
    return smoothed[:, 0]


def frame_mapping(path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(frames of A, matching fractional frames of B) at every A frame the path covers, both non-decreasing."""
    a = np.maximum.accumulate(rts_smooth(path[:, 0].astype(np.float64)))
    b = np.maximum.accumulate(rts_smooth(path[:, 1].astype(np.float64)))
    frames = np.arange(int(path[0, 0]), int(path[-1, 0]) + 1)
    a = a + np.arange(len(a)) * 1e-9  # strictly increasing for interpolation; stalls keep their mean
    return frames, np.clip(np.interp(frames, a, b), path[0, 1], path[-1, 1])
