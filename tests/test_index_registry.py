"""Vector index types through the registry: the core's exact index against float64 brute force, and the choice
of index type a task gets from ``mfcore.index_type``."""

import numpy as np
import pytest

import mfcore
from mfcore.builtin.exact_index import ExactIndex


def brute_force(base, queries, k):
    d = ((queries[:, None, :].astype(np.float64) - base[None].astype(np.float64)) ** 2).sum(-1)
    ids = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, ids, axis=1), ids


@pytest.mark.parametrize(("n", "k", "block"), [(500, 10, 1024), (500, 10, 7), (6, 10, 4)])
def test_exact_index_is_brute_force(n, k, block):
    rng = np.random.default_rng(n + k + block)
    base = rng.normal(size=(n, 12)).astype(np.float32)
    queries = rng.normal(size=(40, 12)).astype(np.float32)
    distances, ids = ExactIndex(base, block=block).search(queries, k)
    want_d, want_ids = brute_force(base, queries, min(k, n))
    np.testing.assert_array_equal(ids[:, : min(k, n)], want_ids)
    np.testing.assert_allclose(distances[:, : min(k, n)], want_d, rtol=1e-4, atol=1e-4)
    assert (ids[:, n:] == -1).all() and np.isinf(distances[:, n:]).all()  # fewer vectors than k


def test_exact_index_refuses_bad_vectors():
    with pytest.raises(mfcore.InputError, match="NaN or infinity"):
        ExactIndex(np.full((3, 2), np.nan, np.float32))
    with pytest.raises(mfcore.InputError, match="queries of shape"):
        ExactIndex(np.zeros((3, 2), np.float32)).search(np.zeros((1, 3), np.float32), 1)


def test_index_type_prefers_an_approximate_index_and_names_the_installed_ones():
    installed = mfcore.plugins.registry().indexes()
    assert installed["exact"].exact
    default = mfcore.index_type()
    assert default.name == ("pqt" if "pqt" in installed else "exact")
    assert mfcore.index_type("exact") is installed["exact"]
    with pytest.raises(mfcore.MfError, match="unknown index type 'nosuch'; installed: exact"):
        mfcore.index_type("nosuch")


@pytest.mark.parametrize("name", ["exact", "pqt"])
def test_every_index_type_finds_planted_copies(name):
    if name not in mfcore.plugins.registry().indexes():
        pytest.skip(f"index type {name} is not installed")
    rng = np.random.default_rng(3)
    base = rng.normal(size=(3000, 32)).astype(np.float32)
    index = mfcore.index_type(name).build(base)
    _, ids = index.search(base[::100] + 1e-3, 5)
    assert (ids[:, 0] == np.arange(0, 3000, 100)).mean() > 0.9
