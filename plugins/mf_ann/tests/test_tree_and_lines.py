import numpy as np
import pytest
from mf_ann.lines import LAMBDAS, LineQuantizer
from mf_ann.tree import TreeQuantizer

from mfcore import InputError


def clustered(n: int, d: int, seed: int = 0) -> np.ndarray:
    """Draws from one fixed mixture of 20 Gaussians (the seed only changes the draw)."""
    centres = np.random.default_rng(12345).normal(size=(20, d)) * 4
    rng = np.random.default_rng(seed)
    return (centres[rng.integers(20, size=n)] + rng.normal(size=(n, d))).astype(np.float32)


@pytest.fixture(scope="module")
def tree():
    return TreeQuantizer(parts=2, k1=8, k2=4).train(clustered(3000, 16), iterations=10)


def test_encode_finds_the_nearest_level1_then_level2_centroid(tree):
    x = clustered(500, 16, seed=1)
    codes = tree.encode(x)
    assert codes.shape == (500, 2) and codes.dtype == np.int32
    parts = x.reshape(500, 2, 8).astype(np.float64)
    for p in range(2):
        d1 = ((parts[:, p, None, :] - tree.level1[p][None].astype(np.float64)) ** 2).sum(-1)
        i = d1.argmin(1)
        d2 = ((parts[:, p, None, :] - tree.level2[p][i].astype(np.float64)) ** 2).sum(-1)
        np.testing.assert_array_equal(codes[:, p], i * 4 + d2.argmin(1))


def test_level2_refines_level1(tree):
    x = clustered(2000, 16, seed=2)
    codes = tree.encode(x)
    parts = x.reshape(2000, 2, 8)
    for p in range(2):
        i, j = np.divmod(codes[:, p], 4)
        err1 = ((parts[:, p] - tree.level1[p][i]) ** 2).sum(-1).mean()
        err2 = ((parts[:, p] - tree.level2[p][i, j]) ** 2).sum(-1).mean()
        assert err2 < 0.8 * err1


def test_encode_matches_on_torch(tree):
    torch = pytest.importorskip("torch")
    x = clustered(300, 16, seed=3)
    np.testing.assert_array_equal(tree.encode(torch.from_numpy(x)).numpy(), tree.encode(x))


def test_dimension_mismatch_is_refused(tree):
    with pytest.raises(InputError, match="dimension 12, the index expects 16"):
        tree.encode(np.zeros((3, 12), np.float32))
    with pytest.raises(InputError, match="at least k1"):
        TreeQuantizer(parts=2, k1=8, k2=4).train(np.zeros((5, 16), np.float32))


@pytest.mark.parametrize("line_parts", [2, 4, 8])
def test_eq_2_12_is_the_exact_distance_to_the_line_quantised_point(tree, line_parts):
    lines = LineQuantizer(tree.level1, line_parts)
    base = clustered(200, 16, seed=4)
    queries = clustered(7, 16, seed=5).astype(np.float64)
    pair, lam = lines.encode(base)
    stored = lines.decode(pair, lam)  # float64 reference points
    truth = ((queries[:, None, :] - stored[None]) ** 2).sum(-1)
    tables = lines.pair_tables(lines.query_tables(queries))
    codes = [np.broadcast_to(c[None], (7, *c.shape)) for c in (pair, lam)]
    approx = lines.distances(tables, *codes)
    np.testing.assert_allclose(approx, truth, rtol=1e-9, atol=1e-9)


def test_encoding_picks_the_best_pair_and_level(tree):
    lines = LineQuantizer(tree.level1, 4)
    x = clustered(40, 16, seed=6)
    err = ((lines.decode(*lines.encode(x)) - x) ** 2).reshape(40, 4, 4).sum(-1)  # per line part
    c = lines.centroids.astype(np.float64)
    levels = LAMBDAS.astype(np.float64)[:, None]  # every storable λ, beyond the segment too
    for n in range(40):
        for line in range(4):
            sub = x[n].reshape(4, 4)[line].astype(np.float64)
            best = min(
                (((1 - levels) * c[line, a] + levels * c[line, b] - sub) ** 2).sum(-1).min()
                for a in range(8) for b in range(8))
            assert err[n, line] <= best + 1e-4


def test_more_line_parts_quantise_better(tree):
    x = clustered(1000, 16, seed=7)
    errors = []
    for line_parts in (2, 4, 8, 16):
        lines = LineQuantizer(tree.level1, line_parts)
        errors.append(((lines.decode(*lines.encode(x)) - x) ** 2).sum(-1).mean())
    assert errors == sorted(errors, reverse=True) and errors[-1] < 0.5 * errors[0]


def test_line_parts_must_refine_the_tree(tree):
    with pytest.raises(InputError, match="multiple of the tree's 2 parts"):
        LineQuantizer(tree.level1, 3)
