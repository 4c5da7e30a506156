"""The path runs on past the tour's ends exactly as far as planted matches go, and no further."""

import numpy as np
from mf_sync.ends import MARGIN, lead_in, lead_out

FPS = 30.0


def box_of(matrix: np.ndarray):
    return lambda a0, a1, b0, b1: matrix[a0:a1 + 1, b0:b1 + 1]


def non_matches(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Costs of frame pairs that show different places: about 2.9 (fused units), spread well under MARGIN."""
    return rng.uniform(2.8, 3.0, shape)


def test_lead_out_follows_planted_matches_to_their_end():
    rng = np.random.default_rng(0)
    costs = non_matches(rng, (1200, 2400))
    a, b = 300, 700
    for k in range(120):  # B plays at half speed past the anchor for 120 frames of A
        costs[a + k, b + k // 2] = 2.0
    path = lead_out((a, b), box_of(costs), costs.shape, FPS)
    assert tuple(path[0]) == (a, b) and tuple(path[-1]) == (a + 119, b + 59)
    assert (np.diff(path, axis=0) >= 0).all()


def test_lead_in_follows_planted_matches_back_to_their_start():
    rng = np.random.default_rng(1)
    costs = non_matches(rng, (1200, 2400))
    a, b = 800, 1500
    for k in range(90):
        costs[a - k, b - k] = 2.2
    path = lead_in((a, b), box_of(costs), FPS)
    assert tuple(path[-1]) == (a, b) and tuple(path[0]) == (a - 89, b - 89)
    assert (np.diff(path, axis=0) >= 0).all()


def test_ends_stay_among_non_matches_and_where_b_ends():
    rng = np.random.default_rng(2)
    costs = non_matches(rng, (1200, 2400))
    assert len(lead_out((300, 700), box_of(costs), costs.shape, FPS)) == 1
    assert len(lead_in((800, 1500), box_of(costs), FPS)) == 1
    # B ends 30 frames after the anchor: too few non-matches for a row's median, so the end stays.
    costs[300:400, 2370:] = 0.0
    assert len(lead_out((300, 2370), box_of(costs), costs.shape, FPS)) == 1
    # Matches less than MARGIN cheaper than their row's median do not pay for themselves.
    costs = np.full((1200, 2400), 2.9)
    for k in range(60):
        costs[300 + k, 700 + k] = 2.9 - 0.9 * MARGIN
    assert len(lead_out((300, 700), box_of(costs), costs.shape, FPS)) == 1
