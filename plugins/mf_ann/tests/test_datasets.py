import numpy as np
import pytest
from mf_ann import datasets

from mfcore import InputError


def test_ground_truth_is_brute_force_with_ties_by_id():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 4, size=(3000, 8)).astype(np.float32)  # many exact ties
    queries = rng.integers(0, 4, size=(70, 8)).astype(np.float32)
    got = datasets.ground_truth(base, queries, 25, query_block=32, base_block=500)
    d = ((queries[:, None, :].astype(np.float64) - base[None]) ** 2).sum(-1)
    want = np.lexsort((np.broadcast_to(np.arange(3000), d.shape), d), axis=1)[:, :25]
    np.testing.assert_array_equal(got, want)
    with pytest.raises(InputError, match="larger than the base"):
        datasets.ground_truth(base[:10], queries, 11)


def test_unique_rows_keeps_first_occurrences_in_order():
    x = np.array([[1, 2], [3, 4], [1, 2], [5, 6], [3, 4]], np.float32)
    np.testing.assert_array_equal(datasets.unique_rows(x), [[1, 2], [3, 4], [5, 6]])


def test_sift_descriptors_of_a_bundled_photograph():
    descriptors = datasets._sift_of(("camera", 1.0, 0))
    assert descriptors.shape[1] == 128 and len(descriptors) > 300
    assert descriptors.min() >= 0 and descriptors.max() <= 255
    rotated = datasets._sift_of(("camera", 1.0, 30))
    assert not np.array_equal(descriptors[:10], rotated[:10])


def test_query_photographs_are_not_base_photographs():
    assert not set(datasets.BASE_PHOTOS) & set(datasets.QUERY_PHOTOS)
    for name in datasets.BASE_PHOTOS + datasets.QUERY_PHOTOS:
        image = datasets.photograph(name)
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3


def test_gist_like_descriptors_are_960_dimensional_and_deterministic():
    a = datasets._gist_of(("coffee", 3, 7))
    b = datasets._gist_of(("coffee", 3, 7))
    assert a.shape == (3, 960) and np.isfinite(a).all() and (a >= 0).all()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[0], a[1])
