"""The compiled CPU path against the array-API path (the reference every backend shares)."""

import mf_ann
import numpy as np
import pytest
from mf_ann.compiled import build_bin_table

from mfcore import InputError


def clustered(n: int, d: int, seed: int) -> np.ndarray:
    centres = np.random.default_rng(11).normal(size=(40, d)) * 4
    rng = np.random.default_rng(seed)
    return (centres[rng.integers(40, size=n)] + rng.normal(size=(n, d))).astype(np.float32)


@pytest.fixture(scope="module", params=[(1, 1 << 20), (2, 1 << 20), (2, 7), (4, 1 << 20), (4, 97)],
                ids=lambda p: f"parts={p[0]}-max_bins={p[1]}")
def index(request):
    parts, max_bins = request.param
    base = clustered(6000, 32, seed=0)
    index = mf_ann.PQTIndex(parts=parts, k1=8, k2=4, w=3, line_parts=8, max_bins=max_bins)
    index.train(base, iterations=8)
    index.add(base[:4000])
    index.add(base[4000:], ids=np.arange(4000, 6000) * 3)  # two waves, sparse ids
    return index


@pytest.mark.parametrize("rerank", ["exact", "line", None])
@pytest.mark.parametrize(("candidates", "bins", "refine"), [(50, None, 20), (700, 300, 64), (6000, 4096, 6000)])
def test_compiled_path_returns_what_the_array_path_returns(index, rerank, candidates, bins, refine):
    queries = np.concatenate([clustered(60, 32, seed=1), np.random.default_rng(2).normal(size=(20, 32)) * 6])
    params = {"k": 15, "candidates": candidates, "bins": bins, "refine": refine, "rerank": rerank}
    want_d, want_i = index.search(queries.astype(np.float32), compiled=False, **params)
    got_d, got_i = index.search(queries.astype(np.float32), compiled=True, **params)
    np.testing.assert_array_equal(got_i, want_i)
    np.testing.assert_allclose(got_d, want_d, rtol=1e-5, atol=1e-3)


def test_fewer_candidates_than_k_pad_with_minus_one(index):
    d, i = index.search(clustered(5, 32, seed=3), k=40, candidates=10, rerank="exact", compiled=True)
    assert (i[:, 10:] == -1).all() and np.isinf(d[:, 10:]).all()
    assert (i[:, :10] >= 0).all()


def test_bin_table_finds_every_bin_and_nothing_else():
    bins = np.unique(np.random.default_rng(4).integers(0, 1 << 40, size=5000))
    keys, values, shift = build_bin_table(bins)
    assert len(keys) >= 2 * len(bins)
    stored = keys >= 0
    np.testing.assert_array_equal(np.sort(keys[stored]), bins)
    np.testing.assert_array_equal(bins[values[stored]], keys[stored])


def test_compiled_path_needs_numpy_queries(index):
    torch = pytest.importorskip("torch")
    with pytest.raises(InputError, match="pass NumPy queries"):
        index.search(torch.zeros((2, 32)), compiled=True)


def test_more_bins_after_fewer_bins_uses_the_longer_order(index):
    queries = clustered(20, 32, seed=5)
    index.search(queries, k=5, candidates=64, bins=16, rerank="exact")
    again = index.search(queries, k=5, candidates=3000, bins=2000, rerank="exact")
    fresh = mf_ann.PQTIndex(index.tree.parts, 8, 4, 3, 8, index.max_bins)
    fresh.tree, fresh.lines, fresh._store = index.tree, index.lines, index._finalize()
    np.testing.assert_array_equal(again[1], fresh.search(queries, k=5, candidates=3000, bins=2000, rerank="exact")[1])


def exhaustive_candidates(index: mf_ann.PQTIndex, query: np.ndarray, candidates: int) -> np.ndarray:
    """Storage positions of the first vectors of the bins in exact order of summed part distances (p=2)."""
    dev = index._on_device(np, None)
    dists, codes = index._traverse(np, dev, query[None], None)
    ranks = dists[0].shape[1]
    summed = (dists[0][0][:, None] + dists[1][0][None, :]).ravel()
    order = np.argsort(summed, kind="stable")  # ties by (rank a, rank b), as the queue breaks them
    pairs = np.stack([codes[0][0][order // ranks], codes[1][0][order % ranks]], axis=-1)
    bins = index._bins(pairs)
    store = index._finalize()
    positions: list[int] = []
    for b in dict.fromkeys(bins.tolist()):  # first occurrence of each bin
        at = np.searchsorted(store["bin_ids"], b)
        if at < len(store["bin_ids"]) and store["bin_ids"][at] == b:
            positions += range(store["offsets"][at], store["offsets"][at + 1])
        if len(positions) >= candidates:
            break
    return np.array(positions[:candidates])


@pytest.mark.parametrize("candidates", [40, 300, 2000])
def test_queue_proposal_visits_bins_in_exact_distance_order(candidates):
    base = clustered(6000, 32, seed=0)
    index = mf_ann.PQTIndex(parts=2, k1=8, k2=4, w=3, line_parts=8, max_bins=53)  # collisions included
    index.train(base, iterations=8)
    index.add(base)
    store = index._finalize()
    queries = clustered(25, 32, seed=6)
    dist, ids = index.search(queries, k=10, candidates=candidates, bins=4096, refine=candidates, rerank="exact",
                             proposal="queue")
    for n, query in enumerate(queries):
        pos = exhaustive_candidates(index, query, candidates)
        exact = ((store["vectors"][pos].astype(np.float64) - query) ** 2).sum(axis=1)
        best = np.argsort(exact, kind="stable")[:10]
        np.testing.assert_array_equal(ids[n], store["ids"][pos[best]])
        np.testing.assert_allclose(dist[n], exact[best], rtol=1e-4)


@pytest.mark.parametrize("parts", [1, 2, 4])
def test_queue_proposal_over_all_bins_is_brute_force(parts):
    base = clustered(800, 16, seed=7)
    index = mf_ann.PQTIndex(parts=parts, k1=4, k2=2, w=4, line_parts=4)
    index.train(base, iterations=5)
    index.add(base)
    queries = clustered(12, 16, seed=8)
    dist, ids = index.search(queries, k=10, candidates=800, bins=4096, refine=800, rerank="exact", proposal="queue")
    want = ((queries[:, None, :].astype(np.float64) - base[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(ids, np.argsort(want, axis=1, kind="stable")[:, :10])


def test_queue_proposal_needs_the_compiled_path(index):
    with pytest.raises(InputError, match="compiled CPU path only"):
        index.search(clustered(2, 32, seed=9), compiled=False, proposal="queue")
    with pytest.raises(InputError, match="proposal must be one of"):
        index.search(clustered(2, 32, seed=9), proposal="dijkstra")


def test_threads_change_the_speed_not_the_neighbours(index):
    import numba

    queries = clustered(200, 32, seed=5)
    before = numba.get_num_threads()
    one = index.search(queries, k=10, candidates=300, rerank="exact", threads=1)
    assert numba.get_num_threads() == before  # restored after the call
    every = index.search(queries, k=10, candidates=300, rerank="exact", threads=numba.config.NUMBA_NUM_THREADS)
    np.testing.assert_array_equal(one[1], every[1])
    np.testing.assert_array_equal(one[0], every[0])
    with pytest.raises(InputError, match="threads must be between 1 and"):
        index.search(queries, threads=0)
