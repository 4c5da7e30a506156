import numpy as np
import pytest
from mf_ann.traversal import SLOPES, choose_slopes, pair_orders, propose


def test_cut_grid_gives_the_same_order_as_the_full_grid():
    length = 300
    cut = pair_orders(1000, length)
    ra, rb = np.meshgrid(np.arange(200), np.arange(200), indexing="ij")
    for n, slope in enumerate(SLOPES):
        key = ra.ravel() ** 2 + (slope * rb.ravel()) ** 2
        order = np.lexsort((rb.ravel(), ra.ravel(), key))[:length]
        np.testing.assert_array_equal(cut[n, :, 0], ra.ravel()[order])
        np.testing.assert_array_equal(cut[n, :, 1], rb.ravel()[order])


def test_orders_start_at_the_best_bin_and_never_repeat():
    orders = pair_orders(32, 500)
    for order in orders:
        assert tuple(order[0]) == (0, 0)
        assert len({tuple(p) for p in order}) == len(order)


def test_steeper_slope_advances_less_in_the_second_part():
    orders = pair_orders(64, 400)
    assert orders[-1, :, 1].mean() < orders[0, :, 1].mean()


def test_slope_choice_follows_the_distance_growth():
    ranks = np.arange(16, dtype=np.float64)[None]
    assert choose_slopes(ranks, ranks)[0] == SLOPES.index(1.0)
    assert SLOPES[choose_slopes(ranks, 1.08**3 * ranks)[0]] == pytest.approx(1.08**3)
    assert SLOPES[choose_slopes(ranks, 100 * ranks)[0]] == SLOPES[-1]  # clipped
    assert SLOPES[choose_slopes(100 * ranks, ranks)[0]] == SLOPES[0]


def test_propose_four_parts_yields_valid_distinct_rank_tuples_with_matching_distances():
    rng = np.random.default_rng(0)
    dists = [np.sort(rng.random((3, 12)) * (p + 1), axis=1) for p in range(4)]
    tables = {12: pair_orders(12, 200), 144: pair_orders(144, 200)}
    ranks, distances = propose(dists, tables, 200)
    assert ranks.shape == (3, 200, 4) and distances.shape == (3, 200)
    for q in range(3):
        assert len({tuple(r) for r in ranks[q]}) == 200
        assert tuple(ranks[q, 0]) == (0, 0, 0, 0)
        want = sum(dists[p][q, ranks[q, :, p]] for p in range(4))
        np.testing.assert_allclose(distances[q], want)
        assert (ranks[q] < 12).all()
