"""Matching tours on drives with known positions: found where they overlap, absent where they do not."""

import numpy as np
import pytest
from mf_sync import tour as tour_module
from mf_sync.align import MIN_COARSE, STEP, Scale, align_descriptors, in_long_gap, scale_for
from mf_sync.costs import cost_matrix, decorrelate
from mf_sync.simulated import drive_positions
from mf_sync.tour import connected, match_tour

RATE = 3.0  # coarse frames per second: 30 fps, every 10th frame


def test_cost_matrix_matches_float64_reference():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(30, 16)), rng.normal(size=(20, 16))
    reference = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    np.testing.assert_allclose(cost_matrix(a.astype(np.float32), b.astype(np.float32)), reference, atol=1e-4)


def test_decorrelation_removes_low_rank_corruption():
    rng = np.random.default_rng(1)
    signal = rng.random((80, 70))
    corrupted = signal + np.outer(rng.random(80), rng.random(70)) * 5 + rng.random(80)[:, None] * 3
    cleaned = decorrelate(corrupted, rank=2)
    assert cleaned.min() == pytest.approx(0.0, abs=1e-5)
    # What is left correlates with the signal, not with the row and column offsets.
    assert np.corrcoef(cleaned.ravel(), signal.ravel())[0, 1] > 0.6
    assert abs(np.corrcoef(cleaned.mean(axis=1), corrupted.mean(axis=1))[0, 1]) < 0.5


def test_decorrelation_may_overwrite_a_float32_input_with_the_same_result():
    rng = np.random.default_rng(2)
    costs = cost_matrix(rng.normal(size=(60, 8)).astype(np.float32), rng.normal(size=(50, 8)).astype(np.float32))
    expected = decorrelate(costs)
    assert not np.shares_memory(expected, costs)
    result = decorrelate(costs, overwrite=True)
    assert np.shares_memory(result, costs)
    np.testing.assert_array_equal(result, expected)
    float64 = rng.random((40, 30))
    kept = float64.copy()
    decorrelate(float64, overwrite=True)  # not float32: copied, the input is left alone
    np.testing.assert_array_equal(float64, kept)


def test_stripes_on_parallel_threads_give_the_tour_of_one_thread(places, monkeypatch):
    """Blocks of stripes run on threads, each block's first search without a neighbour's warm start; the
    least-mean paths, and so the tour, are the same as when one thread solves every stripe in a row."""
    rng = np.random.default_rng(9)
    pos_a, pos_b = drive_positions(rng, 0, 2400, stops=4), drive_positions(rng, 300, 2700, stops=4)
    costs = decorrelate(cost_matrix(places(pos_a[::10], rng), places(pos_b[::10], rng)))
    blocks = match_tour(costs, RATE, stripe_seconds=30.0)
    assert blocks is not None and len(blocks.stripes) > 2 * tour_module.BLOCK_STRIPES
    monkeypatch.setattr(tour_module, "BLOCK_STRIPES", len(blocks.stripes))
    one = match_tour(costs, RATE, stripe_seconds=30.0)
    assert one is not None
    assert blocks.stripes == one.stripes
    np.testing.assert_array_equal(blocks.rows, one.rows)
    np.testing.assert_array_equal(blocks.cols, one.cols)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tour_recovers_partial_overlap(places, seed):
    rng = np.random.default_rng(seed)
    pos_a, pos_b = drive_positions(rng, 0, 600), drive_positions(rng, 150, 900)
    coarse_a, coarse_b = pos_a[::10], pos_b[::10]
    costs = decorrelate(cost_matrix(places(coarse_a, rng), places(coarse_b, rng)))
    tour = match_tour(costs, RATE)
    assert tour is not None
    error = np.abs(coarse_a[tour.rows] - coarse_b[tour.cols])
    assert np.mean(error < 3.0) > 0.9  # within one coarse step (~3 m) of the truth
    assert coarse_a[tour.rows].min() >= 150 - 10 and coarse_a[tour.rows].max() <= 600 + 10
    assert np.all(np.diff(tour.rows) >= 0) and np.all(np.diff(tour.cols) >= 0)
    assert ((tour.confidence >= 0) & (tour.confidence <= 1)).all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tour_follows_a_drive_that_crawls_through_the_overlap(places, seed):
    """A covers 60 m in 60 s while B passes them in 6 s: the valley runs steeply, and a least-total
    stripe path cut across it (the tour kept at most one point of the crawl)."""
    rng = np.random.default_rng(seed)
    crawl = np.linspace(300, 360, 30 * 60, endpoint=False)
    pos_a = np.concatenate([drive_positions(rng, 0, 300, stops=0), crawl, drive_positions(rng, 360, 600, stops=0)])
    pos_b = drive_positions(rng, 150, 900, stops=0)
    coarse_a, coarse_b = pos_a[::10], pos_b[::10]
    tour = match_tour(decorrelate(cost_matrix(places(coarse_a, rng), places(coarse_b, rng))), RATE)
    assert tour is not None
    error = np.abs(coarse_a[tour.rows] - coarse_b[tour.cols])
    assert np.mean(error < 3.0) > 0.9
    assert np.sum((coarse_a[tour.rows] >= 300) & (coarse_a[tour.rows] < 360)) >= 15


def test_stripes_connect_where_their_paths_meet_not_where_they_typically_run():
    """Thesis 4.3.3: a stripe is kept if it "can be connected" to a neighbour within 2 s. Each path is free
    near its own stripe's border, so two right paths may part at both ends of their shared columns (here:
    a stop near the border that one path does not climb) and meet only in between."""
    tolerance = 2.0 * RATE  # 2 s
    left = np.concatenate([np.arange(20, 38) + 5.0, [25, 26, 28, 30, 31, 32, 32, 32, 32]])  # columns 20..46
    right = np.concatenate([[3, 10, 30, 38, 40, 47, 50, 52, 54], np.arange(47, 60) + 10.0])  # columns 38..59
    assert np.median(np.abs(left[18:] - right[:9])) > tolerance  # a typical gap too wide
    assert connected((20, 47, left), (38, 60, right), tolerance)
    assert connected((38, 60, right), (20, 47, left), tolerance)
    assert not connected((20, 47, left + 40), (38, 60, right), tolerance)  # never within 2 s
    assert not connected((0, 20, left[:20]), (38, 60, right), tolerance)  # no shared column


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_no_tour_without_overlap(places, seed):
    rng = np.random.default_rng(seed)
    pos_a, pos_b = drive_positions(rng, 0, 600), drive_positions(rng, 700, 1300)
    costs = decorrelate(cost_matrix(places(pos_a[::10], rng), places(pos_b[::10], rng)))
    assert match_tour(costs, RATE) is None


def test_full_rate_alignment_is_monotone_and_accurate(places):
    rng = np.random.default_rng(8)
    pos_a, pos_b = drive_positions(rng, 0, 500), drive_positions(rng, 100, 600)
    result = align_descriptors(places(pos_a, rng, noise=0.3), places(pos_b, rng, noise=0.3), fps=30.0)
    assert result.found
    assert np.all(np.diff(result.frames_a) == 1) and np.all(np.diff(result.frames_b) >= 0)
    metres = np.abs(pos_a[result.frames_a] - np.interp(result.frames_b, np.arange(len(pos_b)), pos_b))
    assert np.median(metres) < 1.0 and np.mean(metres < 2.0) > 0.8
    assert set(result.seconds) >= {"costs", "decorrelate", "tour", "fine"}


def test_the_scale_follows_the_shorter_video():
    assert scale_for((60_000, 40_000), 30.0) == Scale(STEP, tour_module.MIN_SECONDS)  # drives: the thesis's
    assert scale_for((4 * MIN_COARSE, 120), 30.0) == Scale(1, 0.4 * 4.0)  # a 4-second clip: every frame
    assert scale_for((5 * MIN_COARSE, 5 * MIN_COARSE), 30.0).step == 5
    assert scale_for((120, 120), 30.0, min_overlap=3.0).min_seconds == 3.0


def test_short_clips_align_where_the_thesis_step_finds_no_tour(places):
    """Two 7-second clips sharing 4 s of road: every second frame is coarse, and the tour spans the shared road."""
    rng = np.random.default_rng(9)
    pos = drive_positions(rng, 0, 120)
    a, b = places(pos[:210], rng, noise=0.3), places(pos[90:300], rng, noise=0.3)
    assert not align_descriptors(a, b, 30.0, Scale(STEP, tour_module.MIN_SECONDS)).found
    result = align_descriptors(a, b, 30.0)
    assert result.found and result.step == 2
    shared = result.frames_a >= 90
    metres = np.abs(pos[result.frames_a[shared]] - np.interp(result.frames_b[shared], np.arange(210), pos[90:300]))
    assert shared.sum() > 90 and np.median(metres) < 1.0 and np.mean(metres < 2.0) > 0.8


def test_frames_inside_long_tour_gaps_are_flagged():
    tour_frames = np.array([0, 10, 20, 200, 210])
    frames = np.arange(0, 211)
    flagged = in_long_gap(frames, tour_frames, longest=50)
    assert np.array_equal(np.flatnonzero(flagged), np.arange(21, 200))
    assert not in_long_gap(frames, tour_frames, longest=180).any()
    assert not in_long_gap(np.arange(5), np.array([2]), longest=1).any()
