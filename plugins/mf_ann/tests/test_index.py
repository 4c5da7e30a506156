import zipfile

import mf_ann
import numpy as np
import pytest
from mf_ann.index import FORMAT_VERSION

from mfcore import InputError

N, D = 600, 16


def data(seed: int = 0, n: int = N) -> np.ndarray:
    centres = np.random.default_rng(99).normal(size=(12, D)) * 3
    rng = np.random.default_rng(seed)
    return (centres[rng.integers(12, size=n)] + rng.normal(size=(n, D))).astype(np.float32)


def brute_force(base: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    d = ((queries[:, None, :].astype(np.float64) - base[None].astype(np.float64)) ** 2).sum(-1)
    ids = np.argsort(d, axis=1)[:, :k]
    return np.take_along_axis(d, ids, axis=1), ids


def small_index(max_bins: int = 1 << 20, parts: int = 2) -> mf_ann.PQTIndex:
    """Every bin reachable: w = k1, and (k1*k2)^parts bins fit in one proposal."""
    index = mf_ann.PQTIndex(parts=parts, k1=4, k2=2, w=4, line_parts=4, max_bins=max_bins)
    index.train(data(), iterations=5)
    index.add(data())
    return index


ALL = {"candidates": N, "bins": 4096, "refine": N}


@pytest.mark.parametrize("max_bins", [1 << 20, 5])  # 5 bins: heavy hash collisions
@pytest.mark.parametrize("parts", [1, 2, 4])
def test_exact_reranking_over_all_bins_is_brute_force(max_bins, parts):
    index = small_index(max_bins, parts)
    queries = data(seed=1, n=20)
    dist, ids = index.search(queries, k=10, rerank="exact", **ALL)
    want_d, want_ids = brute_force(data(), queries, 10)
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_allclose(dist, want_d, rtol=1e-4)


def test_line_reranking_ranks_by_the_distance_to_the_line_quantised_points():
    index = small_index()
    queries = data(seed=2, n=15)
    dist, ids = index.search(queries, k=5, rerank="line", **ALL)
    store = index._finalize()
    decoded = index.lines.decode(store["line_pair"], store["line_lam"])
    want_d, rows = brute_force(decoded.astype(np.float32), queries, 5)
    np.testing.assert_array_equal(ids, store["ids"][rows])
    np.testing.assert_allclose(dist, want_d, rtol=1e-4, atol=1e-3)


def test_limited_search_finds_most_neighbours_and_exact_beats_line():
    base = data(n=5000)
    index = mf_ann.PQTIndex(parts=2, k1=8, k2=4, w=3, line_parts=8)
    index.train(base, iterations=10)
    index.add(base)
    queries = data(seed=3, n=50)
    _, truth = brute_force(base, queries, 1)
    _, exact = index.search(queries, k=10, candidates=512, rerank="exact")
    _, line = index.search(queries, k=10, candidates=512, rerank="line")
    recall_exact = np.mean([truth[i, 0] in exact[i] for i in range(50)])
    recall_line = np.mean([truth[i, 0] in line[i] for i in range(50)])
    assert recall_exact >= 0.9 and recall_exact >= recall_line


def test_incremental_add_and_custom_ids():
    whole = small_index()
    split = mf_ann.PQTIndex(parts=2, k1=4, k2=2, w=4, line_parts=4)
    split.train(data(), iterations=5)
    split.add(data()[:250], ids=np.arange(250) + 1000)
    split.add(data()[250:], ids=np.arange(250, N) + 1000)
    queries = data(seed=4, n=10)
    _, a = whole.search(queries, k=7, rerank="exact", **ALL)
    _, b = split.search(queries, k=7, rerank="exact", **ALL)
    np.testing.assert_array_equal(a + 1000, b)
    assert split.ntotal == N


def test_save_load_round_trip(tmp_path):
    index = small_index()
    queries = data(seed=5, n=12)
    before = index.search(queries, k=5, candidates=200)
    loaded = mf_ann.load(index.save(tmp_path / "i.pqt"))
    after = loaded.search(queries, k=5, candidates=200)
    np.testing.assert_array_equal(before[1], after[1])
    np.testing.assert_array_equal(before[0], after[0])


def test_corrupt_truncated_and_foreign_files_are_refused(tmp_path):
    path = small_index().save(tmp_path / "i.pqt")
    raw = path.read_bytes()
    (tmp_path / "t.pqt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match="corrupt or truncated"):
        mf_ann.load(tmp_path / "t.pqt")
    flipped = bytearray(raw)
    flipped[len(raw) // 3] ^= 0xFF
    (tmp_path / "c.pqt").write_bytes(bytes(flipped))
    with pytest.raises(InputError, match="corrupt or truncated"):
        mf_ann.load(tmp_path / "c.pqt")
    np.savez(tmp_path / "foreign.npz", x=np.zeros(3))
    with pytest.raises(InputError, match="not an mf PQT index"):
        mf_ann.load(tmp_path / "foreign.npz")
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(tmp_path / "v.pqt", "w") as out:
        for item in z.namelist():
            payload = z.read(item)
            if item == "meta.npy":
                payload = payload.replace(f'"version": {FORMAT_VERSION}'.encode(), b'"version": 9')
            out.writestr(item, payload)
    with pytest.raises(InputError, match="version 9 is not supported"):
        mf_ann.load(tmp_path / "v.pqt")


def test_numpy_and_torch_return_the_same_neighbours():
    torch = pytest.importorskip("torch")
    index = small_index()
    queries = data(seed=6, n=30)
    for rerank in ("line", "exact", None):
        d_np, i_np = index.search(queries, k=8, candidates=128, bins=64, rerank=rerank)
        d_t, i_t = index.search(torch.from_numpy(queries), k=8, candidates=128, bins=64, rerank=rerank)
        np.testing.assert_array_equal(i_t.numpy(), i_np)
        np.testing.assert_allclose(d_t.numpy(), d_np, rtol=1e-5)


@pytest.mark.mf_task("ann")
def test_backend_fixture_agrees_with_numpy(backend):
    index = small_index()
    queries = data(seed=7, n=10)
    d_np, i_np = index.search(queries, k=5, candidates=100)
    d_b, i_b = index.search(backend.asarray(queries), k=5, candidates=100)
    np.testing.assert_array_equal(backend.to_numpy(i_b), i_np)


def test_bad_inputs_fail_cleanly():
    index = small_index()
    with pytest.raises(InputError, match="expects \\(n, 16\\)"):
        index.search(np.zeros((2, 15), np.float32))
    with pytest.raises(InputError, match="query 0 contains NaN or infinity"):
        index.search(np.full((2, D), np.nan, np.float32))
    queries = data(n=4)
    queries[2, 5] = -np.inf
    with pytest.raises(InputError, match="query 2 contains NaN or infinity"):
        index.search(queries)
    with pytest.raises(InputError, match="k=601 must be between 1 and"):
        index.search(data(n=2), k=601)
    with pytest.raises(InputError, match="rerank must be one of"):
        index.search(data(n=2), rerank="magic")
    bad = data(n=5)
    bad[3, 2] = np.inf
    with pytest.raises(InputError, match="vector 3 contains NaN or infinity"):
        index.add(bad)
    with pytest.raises(InputError, match="empty"):
        index.add(np.zeros((0, D), np.float32))
    with pytest.raises(InputError, match="train the index"):
        mf_ann.PQTIndex().add(data(n=3))
    with pytest.raises(InputError, match="power of two"):
        mf_ann.PQTIndex(parts=3)
    with pytest.raises(InputError, match="index is empty"):
        mf_ann.PQTIndex(parts=2, k1=4, k2=2, w=2, line_parts=4).train(data(), iterations=2).search(data(n=1))


# -- allow-lists, remove, merge ------------------------------------------------------------


def wider_index() -> tuple[mf_ann.PQTIndex, np.ndarray]:
    """3,000 vectors with sparse ids (id = 2 * row + 7), every bin reachable in one proposal."""
    base = data(seed=20, n=3000)
    index = mf_ann.PQTIndex(parts=2, k1=4, k2=2, w=4, line_parts=4)
    index.train(base, iterations=5)
    index.add(base, ids=2 * np.arange(3000) + 7)
    return index, base


def test_a_short_allow_list_is_searched_exhaustively_and_exactly():
    index, base = wider_index()
    queries = data(seed=21, n=12)
    rows = np.random.default_rng(0).choice(3000, size=40, replace=False)
    want_d, want_rows = brute_force(base[rows], queries, 10)
    mask = np.zeros(2 * 3000 + 7, bool)
    mask[2 * rows + 7] = True
    for allow in (2 * rows + 7, mask, list(2 * rows + 7)):
        for compiled in (True, False):
            dist, ids = index.search(queries, k=10, candidates=10, rerank="exact", allow=allow, compiled=compiled)
            np.testing.assert_array_equal(ids, 2 * rows[want_rows] + 7)
            np.testing.assert_allclose(dist, want_d, rtol=1e-4)
    # line re-ranking ranks the allowed vectors by their distance to the line-quantised points
    store = index._finalize()
    at = np.flatnonzero(np.isin(store["ids"], 2 * rows + 7))
    decoded = index.lines.decode(store["line_pair"][at], store["line_lam"][at]).astype(np.float32)
    want_d, want_at = brute_force(decoded, queries, 5)
    dist, ids = index.search(queries, k=5, candidates=10, rerank="line", allow=2 * rows + 7)
    np.testing.assert_array_equal(ids, store["ids"][at][want_at])
    np.testing.assert_allclose(dist, want_d, rtol=1e-4, atol=1e-2)


def test_more_neighbours_than_allowed_are_padded_and_an_empty_list_finds_none():
    index, _ = wider_index()
    queries = data(seed=22, n=4)
    dist, ids = index.search(queries, k=8, rerank="exact", allow=np.array([7, 9, 11]))
    assert (np.sort(ids[:, :3], axis=1) == [7, 9, 11]).all() and (ids[:, 3:] == -1).all()
    assert np.isinf(dist[:, 3:]).all()
    for empty in (np.array([], np.int64), np.zeros(10, bool), [], np.array([1, 3, 5])):  # no such ids
        dist, ids = index.search(queries, k=8, allow=empty)
        assert (ids == -1).all() and np.isinf(dist).all()


def test_a_long_allow_list_draws_its_candidates_from_the_allowed_vectors_only():
    index, base = wider_index()
    queries = data(seed=23, n=40)
    allowed_rows = np.flatnonzero(np.arange(3000) % 3 != 0)  # 2,000 allowed: > EXHAUSTIVE * 300 candidates
    allow = 2 * allowed_rows + 7
    params = {"k": 10, "candidates": 300, "rerank": "exact", "refine": 300, "allow": allow}
    want_d, want_i = index.search(queries, compiled=False, **params)
    got_d, got_i = index.search(queries, compiled=True, **params)
    np.testing.assert_array_equal(got_i, want_i)
    np.testing.assert_allclose(got_d, want_d, rtol=1e-5, atol=1e-3)
    assert np.isin(got_i, allow).all()
    _, truth = brute_force(base[allowed_rows], queries, 1)
    assert np.mean(got_i[:, 0] == allow[truth[:, 0]]) >= 0.9
    everything = index.search(queries, compiled=False, **{**params, "allow": np.ones(7000, bool)})
    np.testing.assert_array_equal(everything[1], index.search(queries, compiled=False, k=10, candidates=300,
                                                              rerank="exact", refine=300)[1])


def test_allow_lists_on_torch_match_numpy():
    torch = pytest.importorskip("torch")
    index, _ = wider_index()
    queries = data(seed=24, n=10)
    for allow in (2 * np.arange(0, 3000, 97) + 7, 2 * np.arange(0, 3000, 2) + 7):
        for rerank in ("exact", "line"):
            d_np, i_np = index.search(queries, k=6, candidates=64, rerank=rerank, allow=allow)
            d_t, i_t = index.search(torch.from_numpy(queries), k=6, candidates=64, rerank=rerank, allow=allow)
            np.testing.assert_array_equal(i_t.numpy(), i_np)
            np.testing.assert_allclose(d_t.numpy(), d_np, rtol=1e-4, atol=1e-3)


def test_bad_allow_lists_fail_cleanly():
    index, _ = wider_index()
    with pytest.raises(InputError, match="must be 1-D"):
        index.search(data(n=2), allow=np.ones((2, 3), bool))
    with pytest.raises(InputError, match="integer ids or is a boolean mask"):
        index.search(data(n=2), allow=np.array([1.5, 2.0]))


def test_removed_vectors_are_never_found_again():
    index, base = wider_index()
    queries = data(seed=25, n=15)
    gone = 2 * np.arange(0, 3000, 4) + 7
    assert index.remove(np.append(gone, [-5, 10**9])) == 750  # ids not in the index are passed over
    assert index.remove(gone[:3]) == 0 and index.ntotal == 2250
    kept = np.flatnonzero(np.arange(3000) % 4 != 0)
    dist, ids = index.search(queries, k=10, rerank="exact", candidates=3000, bins=4096, refine=3000)
    want_d, want_rows = brute_force(base[kept], queries, 10)
    np.testing.assert_array_equal(ids, 2 * kept[want_rows] + 7)
    np.testing.assert_allclose(dist, want_d, rtol=1e-4)
    index.add(base[:4], ids=np.array([7, 9, 11, 13]))  # re-added after removal: found again
    assert index.search(base[:1], k=1, rerank="exact")[1][0, 0] == 7
    with pytest.raises(InputError, match="1-D integer array"):
        index.remove(np.array([[1]]))
    index.remove(np.arange(10**5))
    with pytest.raises(InputError, match="index is empty"):
        index.search(queries)


def test_shards_built_apart_and_merged_search_as_one_index(tmp_path):
    whole, base = wider_index()
    first = whole.trained_copy()
    second = mf_ann.load(whole.save(tmp_path / "copy.pqt"))  # a tree shipped to another process ...
    assert second.remove(2 * np.arange(3000) + 7) == 3000  # ... and emptied there
    first.add(base[:1200], ids=2 * np.arange(1200) + 7)
    second.add(base[1200:], ids=2 * np.arange(1200, 3000) + 7)
    first.merge(second)
    assert first.ntotal == 3000 and second.ntotal == 1800
    queries = data(seed=26, n=15)
    for rerank in ("exact", "line"):
        a = whole.search(queries, k=10, rerank=rerank, candidates=3000, bins=4096, refine=3000)
        b = first.search(queries, k=10, rerank=rerank, candidates=3000, bins=4096, refine=3000)
        np.testing.assert_array_equal(a[1], b[1])
        np.testing.assert_allclose(a[0], b[0], rtol=1e-6)
    loaded = mf_ann.load(first.save(tmp_path / "merged.pqt"))
    np.testing.assert_array_equal(loaded.search(queries, k=5)[1], first.search(queries, k=5)[1])


def test_indexes_trained_apart_are_not_merged():
    whole, base = wider_index()
    other = mf_ann.PQTIndex(parts=2, k1=4, k2=2, w=4, line_parts=4).train(base, iterations=5, seed=3)
    other.add(base[:10])
    with pytest.raises(InputError, match="trained apart"):
        whole.merge(other)
    narrow = mf_ann.PQTIndex(parts=2, k1=4, k2=2, w=4, line_parts=2).train(base, iterations=5)
    narrow.add(base[:10])
    with pytest.raises(InputError, match="differ in"):
        whole.merge(narrow)
    with pytest.raises(InputError, match="only trained"):
        whole.merge(mf_ann.PQTIndex())


def test_exact_distances_match_float64_and_mark_missing_ids_infinite():
    base, queries = data(0), data(1, n=7)
    index = mf_ann.PQTIndex(parts=2, k1=4, k2=2, w=2, line_parts=4).train(base, iterations=2)
    index.add(base, ids=np.arange(len(base)) + 100)
    ids = np.random.default_rng(3).integers(100, 100 + len(base), size=(7, 5))
    ids[0, 0], ids[1, 2] = -1, 5  # no vector, and an id never added
    got = index.exact_distances(queries, ids)
    want = ((queries[:, None, :].astype(np.float64) - base[ids - 100].astype(np.float64)) ** 2).sum(-1)
    mask = np.ones_like(got, bool)
    mask[0, 0] = mask[1, 2] = False
    np.testing.assert_allclose(got[mask], want[mask], rtol=1e-5)
    assert np.isinf(got[~mask]).all() and got.dtype == np.float32
