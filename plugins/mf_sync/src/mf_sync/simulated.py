"""Descriptors of simulated drives: a smooth random function of the route position, plus noise.

Their distances are small exactly where two positions agree, with a controlled
amount of noise, per-video bias and corrupted frames. They stand in for a
trained network where only the matcher is under test: in the unit tests, and in
``mf bench sync``'s timing of the coarse tour on two 35-minute videos.
"""

from __future__ import annotations

import numpy as np

from .drives import speed_profile


class PlaceDescriptors:
    """``dim``-d unit descriptors of route positions (m) whose features vary over ``scale`` metres."""

    def __init__(self, seed: int = 0, dim: int = 64, scale: float = 3.0):
        rng = np.random.default_rng(seed)
        self.freqs = rng.normal(0, 1 / scale, dim)
        self.phases = rng.uniform(0, 2 * np.pi, dim)

    def __call__(self, positions: np.ndarray, rng: np.random.Generator, noise: float = 0.4,
                 corrupt: float = 0.05) -> np.ndarray:
        d = np.cos(positions[:, None] * self.freqs[None] + self.phases[None])
        d = d + noise * rng.normal(size=d.shape) + 0.5 * rng.normal(size=d.shape[1])
        bad = rng.random(len(positions)) < corrupt
        d[bad] = 2 * rng.normal(size=(int(bad.sum()), d.shape[1]))
        return (d / np.linalg.norm(d, axis=1, keepdims=True)).astype(np.float32)


def drive_positions(rng: np.random.Generator, start: float, end: float, fps: float = 30.0,
                    stops: int = 2) -> np.ndarray:
    """Positions (m) of every frame of a drive from ``start`` to ``end`` metres."""
    return start + speed_profile(rng, end - start, fps, stops=stops)
