"""Kalman smoothing of frame mappings: closer to the truth than the jittery path, never backwards."""

import numpy as np
from mf_sync.smoothing import frame_mapping, rts_smooth


def test_rts_smoother_reduces_noise_on_a_ramp_with_a_stop():
    rng = np.random.default_rng(0)
    truth = np.r_[np.arange(100.0), np.full(60, 99.0), 99 + np.arange(1, 101) * 1.5]
    noisy = truth + rng.normal(0, 2.0, len(truth))
    smoothed = rts_smooth(noisy)
    assert np.sqrt(np.mean((smoothed - truth) ** 2)) < 0.6 * np.sqrt(np.mean((noisy - truth) ** 2))


def test_frame_mapping_is_monotone_and_covers_every_frame_of_a():
    rng = np.random.default_rng(1)
    # A path with unit steps, stalls in both videos, and ±1 jitter added to B.
    steps = rng.choice([(1, 0), (0, 1), (1, 1)], size=400, p=[0.2, 0.2, 0.6])
    path = np.vstack([[0, 0], np.cumsum(steps, axis=0)])
    jittered = path + np.c_[np.zeros(len(path), int), rng.integers(-1, 2, len(path))]
    frames, mapped = frame_mapping(jittered)
    assert frames[0] == 0 and frames[-1] == path[-1, 0]
    assert np.all(np.diff(frames) == 1)
    assert np.all(np.diff(mapped) >= 0)
    reference = np.array([path[path[:, 0] == f, 1].mean() for f in frames])
    assert np.mean(np.abs(mapped - reference)) < 2.0


def test_frame_mapping_stays_within_the_frames_of_b_the_path_spans():
    rng = np.random.default_rng(2)
    # A drives on while B stands still at both ends: the smoother overshoots the ends of B unless held.
    steps = rng.choice([(1, 0), (0, 1), (1, 1)], size=400, p=[0.2, 0.2, 0.6])
    steps[:40] = steps[-40:] = (1, 0)
    path = np.vstack([[0, 5], 5 * np.eye(2, dtype=int)[1] + np.cumsum(steps, axis=0)])
    frames, mapped = frame_mapping(path)
    assert mapped.min() >= path[0, 1] and mapped.max() <= path[-1, 1]
    assert np.all(np.diff(mapped) >= 0) and frames[-1] == path[-1, 0]
