import mf_ann
import numpy as np
import pytest

D = 16


def data(seed: int, n: int) -> np.ndarray:
    centres = np.random.default_rng(99).normal(size=(40, D)) * 2
    rng = np.random.default_rng(seed)
    return (centres[rng.integers(40, size=n)] + rng.normal(size=(n, D))).astype(np.float32)


PARAMS = {"parts": 2, "k1": 8, "k2": 4, "w": 2, "line_parts": 4}


def build(n: int) -> mf_ann.MultiOrderIndex:
    index = mf_ann.MultiOrderIndex(n, **PARAMS).train(data(0, 3000), iterations=8)
    index.add(data(0, 3000))
    return index


def test_one_ordering_is_the_plain_index():
    multi = build(1)
    plain = mf_ann.PQTIndex(**PARAMS).train(data(0, 3000), iterations=8)
    plain.add(data(0, 3000))
    q = data(1, 30)
    np.testing.assert_array_equal(multi.search(q, k=10, candidates=300)[1], plain.search(q, k=10, candidates=300)[1])


def test_merged_results_are_distinct_sorted_and_recall_does_not_drop():
    base, q = data(0, 3000), data(2, 100)
    truth = ((q[:, None, :].astype(np.float64) - base[None]) ** 2).sum(-1).argmin(1)
    recalls = []
    for n in (1, 3):
        dist, ids = build(n).search(q, k=10, candidates=200, rerank="exact")
        for row_d, row_i in zip(dist, ids, strict=True):
            valid = row_i[row_i >= 0]
            assert len(set(valid.tolist())) == len(valid)
            assert (np.diff(row_d[np.isfinite(row_d)]) >= 0).all()
        recalls.append(np.mean(ids[:, 0] == truth))
    assert recalls[1] >= recalls[0] and recalls[1] > 0.5


def test_torch_agrees():
    torch = pytest.importorskip("torch")
    index = build(2)
    q = data(3, 20)
    np.testing.assert_array_equal(index.search(torch.from_numpy(q), k=5, candidates=200)[1].numpy(),
                                  index.search(q, k=5, candidates=200)[1])
