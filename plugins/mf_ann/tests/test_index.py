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
    with pytest.raises(InputError, match="NaN or infinity"):
        index.search(np.full((2, D), np.nan, np.float32))
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
