"""The full-rate search stays in the band around the coarse tour and recovers the frame mapping inside it."""

import numpy as np
from mf_sync.costs import cost_matrix
from mf_sync.fine import band, refine
from mf_sync.simulated import drive_positions
from mf_sync.tour import Tour

STEP = 10


def coarse_tour_from_truth(pos_a: np.ndarray, pos_b: np.ndarray, rng: np.random.Generator) -> Tour:
    """Every coarse frame of A matched to its nearest coarse frame of B, then shaken by up to a coarse step."""
    rows = np.arange(len(pos_a) // STEP)
    cols = np.abs(pos_a[::STEP][rows, None] - pos_b[::STEP][None, :]).argmin(axis=1)
    cols = np.maximum.accumulate(np.clip(cols + rng.integers(-1, 2, len(cols)), 0, len(pos_b[::STEP]) - 1))
    zeros = np.zeros(len(rows))
    return Tour(rows, cols, zeros, zeros + 1, ())


def test_band_covers_the_boxes_between_tour_points_widened_by_the_pad():
    rows, cols = np.array([0, 1, 1, 3]), np.array([0, 2, 4, 5])
    zeros = np.zeros(4)
    lo, hi, boxes = band(Tour(rows, cols, zeros, zeros, ()), STEP, frames_b=45, pad=STEP)
    assert len(lo) == 31 and (np.diff(lo) >= 0).all() and (np.diff(hi) >= 0).all()
    assert (lo[0], hi[0]) == (0, 30) and (lo[10], hi[10]) == (0, 44)  # row 10 is in all three boxes
    assert (lo[30], hi[30]) == (30, 44)  # clipped to B's last frame
    assert boxes[0] == (0, 10, 0, 30)


def test_refine_recovers_the_frame_mapping_from_a_shaken_coarse_tour(places):
    rng = np.random.default_rng(3)
    pos_a, pos_b = drive_positions(rng, 0, 300), drive_positions(rng, 0, 300)
    desc_a, desc_b = places(pos_a, rng, noise=0.2, corrupt=0.0), places(pos_b, rng, noise=0.2, corrupt=0.0)
    tour = coarse_tour_from_truth(pos_a, pos_b, rng)
    lo, hi, _ = band(tour, STEP, len(pos_b), STEP)
    path = refine(tour, STEP, lambda a0, a1, b0, b1: cost_matrix(desc_a[a0:a1 + 1], desc_b[b0:b1 + 1]), len(pos_b))
    first = tour.rows[0] * STEP
    assert all(lo[a - first] <= b <= hi[a - first] for a, b in path)
    assert (np.diff(path, axis=0) >= 0).all()
    metres = np.abs(pos_a[path[:, 0]] - pos_b[path[:, 1]])
    # The shaken coarse points are up to a coarse step (about 3 m) off; the full-rate path is within a frame.
    assert np.median(metres) < 0.5 and np.mean(metres < 1.5) > 0.9
