"""Shared helpers of the sync tests: descriptors of drives along a 1-d route with known positions."""

import numpy as np
import pytest

from mf_sync.drives import speed_profile


class PlaceDescriptors:
    """Unit descriptors that are a smooth random function of the route position, plus noise and a per-video bias.

    Their Euclidean distance is small exactly where two positions agree: a stand-in for a trained network whose
    quality the tests control.
    """

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
        return d / np.linalg.norm(d, axis=1, keepdims=True)


@pytest.fixture
def places():
    return PlaceDescriptors()


def drive_positions(rng: np.random.Generator, start: float, end: float, fps: float = 30.0, stops: int = 2):
    """Positions (m) of every frame of a drive from ``start`` to ``end``."""
    return start + speed_profile(rng, end - start, fps, stops=stops)
