"""The vectorised monotone path against brute-force dynamic programming on random matrices."""

import numpy as np
import pytest
from mf_sync.paths import banded_min_path, columns_of, free_end_path, has_cheaper_path, min_mean_path, min_path


def brute_force(costs: np.ndarray, free_start: bool, diagonal: float = 1.0) -> np.ndarray:
    """Accumulated costs of every cell by the textbook double loop (eq. 4.5; diagonal steps weighted)."""
    rows, cols = costs.shape
    acc = np.full((rows, cols), np.inf)
    for j in range(cols):
        for i in range(rows):
            if j == 0:
                best = 0.0 if (free_start or i == 0) else np.inf
                if i:
                    best = min(best, acc[i - 1, 0])
            else:
                diag = acc[i - 1, j - 1] + (diagonal - 1) * costs[i, j] if i else np.inf
                best = min(acc[i, j - 1], diag, acc[i - 1, j] if i else np.inf)
            acc[i, j] = costs[i, j] + best
    return acc


@pytest.mark.parametrize("free_start", [True, False])
@pytest.mark.parametrize("diagonal", [1.0, 2.0])
def test_min_path_is_optimal_and_monotone(free_start, diagonal):
    rng = np.random.default_rng(7)
    for _ in range(150):
        costs = rng.random(tuple(rng.integers(1, 10, 2)))
        path, total = min_path(costs, free_start, diagonal=diagonal)
        reference = brute_force(costs, free_start, diagonal)[:, -1]
        assert total == pytest.approx(reference.min(), abs=1e-5)  # float32 costs
        steps = np.diff(path, axis=0)
        weights = np.r_[1.0, np.where(steps.sum(axis=1) == 2, diagonal, 1.0)]
        assert (weights * costs[path[:, 0], path[:, 1]]).sum() == pytest.approx(total, abs=1e-5)
        assert ((steps >= 0) & (steps <= 1)).all() and (steps.sum(axis=1) >= 1).all()
        assert path[0, 1] == 0 and path[-1, 1] == costs.shape[1] - 1
        if not free_start:
            assert path[0, 0] == 0


def all_paths(rows: int, cols: int):
    """Every monotone path from any cell of the left column to a cell of the right column (small matrices)."""
    def extend(path):
        i, j = path[-1]
        if j == cols - 1:
            yield path
        for di, dj in ((1, 0), (0, 1), (1, 1)):
            if i + di < rows and j + dj < cols:
                yield from extend(path + [(i + di, j + dj)])
    for start in range(rows):
        yield from extend([(start, 0)])


def test_min_mean_path_is_the_least_mean_of_all_paths():
    rng = np.random.default_rng(11)
    for _ in range(60):
        costs = rng.random(tuple(rng.integers(1, 6, 2))).astype(np.float32)
        best = min(np.mean([costs[p] for p in path]) for path in all_paths(*costs.shape))
        path, mean = min_mean_path(columns_of(costs), guess=float(rng.choice([0.0, 0.5, 1.0])))
        assert mean == pytest.approx(best, abs=1e-5)
        assert costs[path[:, 0], path[:, 1]].mean() == pytest.approx(mean, abs=1e-6)
        steps = np.diff(path, axis=0)
        assert ((steps >= 0) & (steps <= 1)).all() and (steps.sum(axis=1) >= 1).all()
        assert path[0, 1] == 0 and path[-1, 1] == costs.shape[1] - 1
        assert has_cheaper_path(columns_of(costs), best + 1e-3) and not has_cheaper_path(columns_of(costs), best - 1e-3)
        reversed_best = min(np.mean([costs[::-1][p] for p in path]) for path in all_paths(*costs.shape))
        assert has_cheaper_path(columns_of(costs), reversed_best + 1e-3, reverse=True)
        assert not has_cheaper_path(columns_of(costs), reversed_best - 1e-3, reverse=True)


def test_min_mean_path_follows_a_steep_valley_that_the_least_total_path_cuts_across():
    rng = np.random.default_rng(3)
    costs = rng.uniform(0.4, 1.0, (120, 30))
    valley = [(10 + 3 * j + k, j) for j in range(30) for k in range(3)]  # A plays three times slower than B
    for r, c in valley:
        costs[r, c] = rng.uniform(0.1, 0.3)
    on_valley = lambda path: np.mean([abs(r - (11 + 3 * c)) <= 2 for r, c in path])  # noqa: E731
    assert on_valley(min_mean_path(columns_of(costs))[0]) > 0.95
    assert on_valley(min_path(costs, free_start=True)[0]) < 0.5


def test_min_path_to_a_given_end_row():
    rng = np.random.default_rng(1)
    costs = rng.random((9, 7))
    path, total = min_path(costs, free_start=False, end_row=8)
    assert tuple(path[0]) == (0, 0) and tuple(path[-1]) == (8, 6)
    assert total >= brute_force(costs, False)[:, -1].min()


def test_min_path_follows_a_planted_valley_with_a_stop():
    rng = np.random.default_rng(2)
    costs = rng.uniform(0.5, 1.0, (60, 40))
    truth = [(min(59, 10 + j + max(0, j - 20)), j) for j in range(40)]  # A speeds up after column 20
    for r, c in truth:
        costs[r, c] = 0.0
    for r in range(30, 31):
        costs[r, 20] = 0.0
    path, _ = min_path(costs, free_start=True)
    on_path = {tuple(p) for p in path}
    assert sum(p in on_path for p in truth) >= 38


def random_band(rng: np.random.Generator, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-decreasing column ranges per row that overlap from one row to the next."""
    lo = np.sort(rng.integers(0, cols // 2, rows))
    hi = np.maximum(np.sort(rng.integers(cols // 2, cols, rows)), lo)
    lo[1:] = np.minimum(lo[1:], hi[:-1])  # consecutive rows share a column: a path exists
    return lo, hi


@pytest.mark.parametrize("diagonal", [1.0, 2.0])
def test_banded_min_path_equals_the_dense_path_with_the_band_cut_out(diagonal):
    rng = np.random.default_rng(11)
    for _ in range(100):
        rows, cols = int(rng.integers(1, 12)), int(rng.integers(2, 14))
        lo, hi = random_band(rng, rows, cols)
        dense = np.full((rows, cols), np.inf)
        for r in range(rows):
            dense[r, lo[r]:hi[r] + 1] = rng.random(hi[r] - lo[r] + 1)
        start = int(rng.integers(lo[0], hi[0] + 1))
        end = int(rng.integers(max(lo[-1], start), hi[-1] + 1))
        flat = np.concatenate([dense[r, lo[r]:hi[r] + 1] for r in range(rows)])
        path, total = banded_min_path(flat, lo, hi, start, end, diagonal=diagonal)
        _, reference = min_path(dense[:, start:end + 1], free_start=False, end_row=rows - 1, diagonal=diagonal)
        assert total == pytest.approx(reference, rel=1e-5)
        assert tuple(path[0]) == (0, start) and tuple(path[-1]) == (rows - 1, end)
        steps = np.diff(path, axis=0)
        assert ((steps >= 0) & (steps <= 1)).all() and (steps.sum(axis=1) >= 1).all()
        assert all(lo[r] <= b <= hi[r] for r, b in path)


def test_banded_min_path_rejects_ends_outside_the_band():
    with pytest.raises(ValueError):
        banded_min_path(np.zeros(6), np.array([0, 1]), np.array([2, 3]), start=3, end=3)


def test_free_end_path_ends_at_the_cheapest_cell_reachable_from_the_corner():
    rng = np.random.default_rng(5)
    stayed = 0
    for _ in range(200):
        costs = rng.random(tuple(rng.integers(1, 10, 2))) - 0.55
        path = free_end_path(costs, diagonal=2.0)
        # Column-major accumulation from the corner equals the row-major one; the corner itself is not charged.
        best = (brute_force(costs, False, 2.0) - costs[0, 0]).min()
        assert tuple(path[0]) == (0, 0)
        if best >= 0:
            assert len(path) == 1
            stayed += 1
            continue
        steps = np.diff(path, axis=0)
        assert ((steps >= 0) & (steps <= 1)).all() and (steps.sum(axis=1) >= 1).all()
        weights = np.where(steps.sum(axis=1) == 2, 2.0, 1.0)
        assert (weights * costs[path[1:, 0], path[1:, 1]]).sum() == pytest.approx(best)
    assert 0 < stayed < 200
