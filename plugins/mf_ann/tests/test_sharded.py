"""Sharded PQT indexes: with one trained tree, a search fanned out to shards and merged returns exactly what one
index over all the vectors returns with the same bins (and brute force where those bins hold everything);
shards added later join the same tree; damaged folders are one clear line."""

import json
import shutil

import mf_ann
import numpy as np
import pytest
from mf_ann.sharded import ShardedIndex, add_shards, build_sharded
from mf_ann.vecs import read_vecs, write_vecs

from mfcore import ExecutorError, InputError, get_executor
from mfcore.testing import assert_clean_error

pytestmark = pytest.mark.backend_independent

D = 16


def data(seed: int, n: int) -> np.ndarray:
    centres = np.random.default_rng(99).normal(size=(12, D)) * 3
    rng = np.random.default_rng(seed)
    return (centres[rng.integers(12, size=n)] + rng.normal(size=(n, D))).astype(np.float32)


def brute_force(base: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    d = ((queries[:, None, :].astype(np.float64) - base[None].astype(np.float64)) ** 2).sum(-1)
    return np.argsort(d, axis=1)[:, :k]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """3,000 vectors in 3 shards on a tree trained once; the same tree over all of them in one index."""
    folder = tmp_path_factory.mktemp("sharded")
    base = write_vecs(folder / "base.fvecs", data(0, 3000))
    tree = mf_ann.PQTIndex(parts=2, k1=8, k2=4, w=4, line_parts=4).train(read_vecs(base), iterations=5)
    with get_executor("local").start(2) as pool:
        entries = list(build_sharded(tree, base, folder / "index", 3, pool))
    single = tree.trained_copy()
    single.add(read_vecs(base))
    return folder, single, entries


def sharded(folder, queries, **options):
    with get_executor("local").start(2) as pool, ShardedIndex(folder / "index", pool) as index:
        return index.search(queries, **options)


@pytest.fixture(scope="module")
def held(built):
    """The 3 shards loaded once into 2 worker processes, searched by every test that takes it."""
    with get_executor("local").start(2) as pool, ShardedIndex(built[0] / "index", pool) as index:
        yield index


def test_the_shards_split_the_vectors_with_their_ids(built):
    folder, _, entries = built
    assert sorted((e["first_id"], e["count"]) for e in entries) == [(0, 1000), (1000, 1000), (2000, 1000)]
    manifest = json.loads((folder / "index" / "manifest.json").read_text())
    assert [e["first_id"] for e in manifest["shards"]] == [0, 1000, 2000]
    assert manifest["count"] == 3000 and manifest["dim"] == D and manifest["settings"]["k1"] == 8


@pytest.mark.parametrize("rerank,refine", [("line", 0), ("exact", 40)])
@pytest.mark.parametrize("bins", [6, 40])
def test_sharded_search_returns_the_single_index_neighbours(built, held, rerank, refine, bins):
    _, single, _ = built
    queries = data(1, 60)
    dist, ids = held.search(queries, k=10, bins=bins, rerank=rerank, refine=refine)
    want_d, want_ids = single.search(queries, k=10, candidates=single.ntotal, bins=bins, rerank=rerank,
                                     refine=refine)
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_allclose(dist, want_d, rtol=1e-5)
    assert (ids[:, 0] >= 0).all()


def test_over_every_bin_it_is_brute_force(held):
    queries = data(2, 25)
    _, ids = held.search(queries, k=10, bins=(8 * 4) ** 2, rerank="exact", refine=3000, threads=2)
    np.testing.assert_array_equal(ids, brute_force(data(0, 3000), queries, 10))


def test_added_shards_join_the_tree_and_the_ids_continue(built, tmp_path):
    folder, single, _ = built
    copy = tmp_path / "index"
    shutil.copytree(folder / "index", copy)
    more = write_vecs(tmp_path / "more.fvecs", data(3, 500))
    with get_executor("local").start(2) as pool:
        entries = list(add_shards(copy, more, 2, pool))
        assert sorted((e["first_id"], e["count"], e["file"]) for e in entries) == [
            (3000, 250, "shard-00003.npz"), (3250, 250, "shard-00004.npz")]
        queries = data(4, 30)
        with ShardedIndex(copy, pool) as index:
            _, ids = index.search(queries, k=10, bins=(8 * 4) ** 2, rerank="exact", refine=3500)
    np.testing.assert_array_equal(ids, brute_force(np.concatenate([data(0, 3000), data(3, 500)]), queries, 10))


def test_a_missing_shard_or_a_crafted_manifest_is_one_clear_error(built, tmp_path):
    folder, _, _ = built
    copy = tmp_path / "index"
    shutil.copytree(folder / "index", copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "shards": [{**manifest["shards"][0],
                                                                             "file": "../base.fvecs"}]}))
    with pytest.raises(InputError, match="shard entry 0 is malformed"):
        sharded(tmp_path, data(1, 2))
    (copy / "manifest.json").write_text(json.dumps(manifest))
    (copy / "shard-00001.npz").unlink()
    with pytest.raises(InputError, match="shard shard-00001.npz is missing"):
        sharded(tmp_path, data(1, 2))
    shutil.copy(copy / "shard-00002.npz", copy / "shard-00001.npz")  # put back; now a count the file does not hold
    (copy / "manifest.json").write_text(json.dumps({**manifest, "count": 2999, "shards": [
        {**e, "count": 999} if e["file"] == "shard-00002.npz" else e for e in manifest["shards"]]}))
    with pytest.raises(ExecutorError, match=r"item 2 failed to load: .*shard-00002.npz: holds 1000 vectors, the "
                                            r"manifest says 999"):
        sharded(tmp_path, data(1, 2))


def test_bad_queries_to_a_held_index_are_one_clear_error_and_it_still_answers(held):
    with pytest.raises(InputError, match=r"expects \(n, 16\)"):
        held.search(data(1, 3)[:, :8])
    with pytest.raises(InputError, match="k=3001 must be between 1 and"):
        held.search(data(1, 3), k=3001)
    assert held.search(data(1, 3), k=2)[1].shape == (3, 2)


def test_the_command_line_builds_adds_and_searches_shards(mf, tmp_path):
    base = write_vecs(tmp_path / "base.fvecs", data(0, 2000))
    queries = write_vecs(tmp_path / "q.fvecs", data(1, 40))
    more = write_vecs(tmp_path / "more.fvecs", data(3, 300))
    result = mf("ann", "build", base, "-o", tmp_path / "index", "--shards", "2", "--workers", "2", "--k1", "8",
                "--k2", "4", "--w", "4", "--line-parts", "4", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["shards"] == 2
    # One index file on the same tree, over the same vectors, for reference.
    assert mf("ann", "build", base, "-o", tmp_path / "one.npz", "--tree", tmp_path / "index" / "shard-00000.npz",
              "--json").returncode == 0
    searched = {}
    for name, extra in (("index", ("--workers", "2")), ("one.npz", ("--candidates", "2000"))):
        out = tmp_path / f"{name}.ivecs"
        result = mf("ann", "search", tmp_path / name, queries, "--bins", "30", "--rerank", "exact", "--refine", "50",
                    "-o", out, *extra, "--json")
        assert result.returncode == 0, result.stderr
        searched[name] = read_vecs(out)
    np.testing.assert_array_equal(searched["index"], searched["one.npz"])
    added = mf("ann", "add", tmp_path / "index", more, "--json")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["first_id"] == 2000
    assert_clean_error(mf("ann", "add", tmp_path / "one.npz", more), "not a sharded index folder")
    assert_clean_error(mf("ann", "search", tmp_path / "one.npz", queries, "--workers", "2"),
                       "search the shards of a sharded index")
    assert_clean_error(mf("ann", "build", base, "-o", tmp_path / "index", "--shards", "2"), "exists; pass --overwrite")


def test_bench_ann_shards_builds_and_searches_on_each_worker_count_with_the_same_ids(mf, tmp_path):
    base, queries = data(0, 2000), data(1, 20)
    write_vecs(tmp_path / "sift_base.fvecs", base)
    write_vecs(tmp_path / "sift_query.fvecs", queries)
    write_vecs(tmp_path / "sift_groundtruth.ivecs", brute_force(base, queries, 10).astype(np.int32))
    result = mf("bench", "ann-shards", "--data", tmp_path, "--queries", "20", "--shards", "3", "--bins", "8",
                "--rate-bins", "4,8,16", "--k1", "8", "--k2", "4", "--workers", "1,2", "-e", "local", "--markdown",
                tmp_path / "shards.md", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [(r["workers"], r["same_ids_as_first_run"]) for r in report["runs"]] == [(1, True), (2, True)]
    assert report["runs"][0]["build_speedup_over_1"] == 1.0
    budgets = {row["bins"]: row for row in report["bin_budgets"]}
    assert budgets[4]["candidates_per_query"] < budgets[16]["candidates_per_query"] <= 2000
    assert 0 < budgets[16]["R@10"] <= 1 and report["rates"]["bytes_per_vector_with_vectors"] > 4 * D
    assert "Rates" in (tmp_path / "shards.md").read_text()
    assert_clean_error(mf("bench", "ann-shards", "--data", tmp_path / "none"), "create the set with `mf ann dataset")
    assert_clean_error(mf("bench", "ann-shards", "--data", tmp_path, "--rate-bins", "8,8,16"), "at least three bin budgets")
