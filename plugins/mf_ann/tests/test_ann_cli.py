import json

import numpy as np
import pytest
from mf_ann.vecs import read_vecs, write_vecs

from mfcore.testing import assert_clean_error


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ann")
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(10, 16)) * 3
    base = (centres[rng.integers(10, size=800)] + rng.normal(size=(800, 16))).astype(np.float32)
    queries = (centres[rng.integers(10, size=20)] + rng.normal(size=(20, 16))).astype(np.float32)
    d = ((queries[:, None, :].astype(np.float64) - base[None]) ** 2).sum(-1)
    write_vecs(folder / "base.fvecs", base)
    write_vecs(folder / "query.fvecs", queries)
    write_vecs(folder / "gt.ivecs", np.argsort(d, axis=1)[:, :10].astype(np.int32))
    return folder


@pytest.mark.mf_task("ann")
def test_build_then_search_finds_the_neighbours(mf, files, backend):
    backend_name = backend.name
    index = files / f"{backend_name}.pqt"
    built = mf("ann", "build", files / "base.fvecs", "-o", index, "--parts", "2", "--k1", "4", "--k2", "2",
               "--w", "4", "--line-parts", "4", "--iterations", "5", "--json")
    assert built.returncode == 0, built.stderr
    info = json.loads(built.stdout)
    assert info["vectors"] == 800 and info["dim"] == 16 and info["bins_used"] <= 64
    out = files / f"{backend_name}_ids.ivecs"
    result = mf("ann", "search", index, files / "query.fvecs", "-k", "10", "-o", out, "--rerank", "exact",
                "--candidates", "800", "--bins", "64", "--refine", "800", "--groundtruth", files / "gt.ivecs",
                "--backend", backend_name, "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["R@1"] == 1.0 and info["R@10"] == 1.0  # every bin visited, exact distances
    np.testing.assert_array_equal(read_vecs(out), read_vecs(files / "gt.ivecs"))


def test_bad_inputs_are_one_line(mf, files, tmp_path):
    index = tmp_path / "i.pqt"
    built = mf("ann", "build", files / "base.fvecs", "-o", index, "--k1", "4", "--k2", "2", "--w", "2",
               "--line-parts", "4", "--iterations", "2")
    assert built.returncode == 0, built.stderr
    assert "indexing: 800/800" in built.stderr  # progress shows when stderr is a log file, not a terminal
    write_vecs(tmp_path / "q12.fvecs", np.zeros((3, 12), np.float32))
    nan_base = read_vecs(files / "base.fvecs").copy()
    nan_base[5, 3] = np.nan
    write_vecs(tmp_path / "nan.fvecs", nan_base)
    (tmp_path / "empty.fvecs").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("hello")
    cases = [
        (("ann", "search", index, tmp_path / "q12.fvecs"), "expects (n, 16)"),
        (("ann", "search", index, files / "query.fvecs", "-k", "900"), "k=900 must be between 1 and"),
        (("ann", "build", tmp_path / "nan.fvecs", "-o", tmp_path / "x.pqt"), "NaN or infinity"),
        (("ann", "build", tmp_path / "empty.fvecs", "-o", tmp_path / "x.pqt"), "empty"),
        (("ann", "build", tmp_path / "notes.txt", "-o", tmp_path / "x.pqt"), "unknown vector file type"),
        (("ann", "search", tmp_path / "notes.txt", files / "query.fvecs"), "corrupt or truncated"),
        (("ann", "search", tmp_path / "missing.pqt", files / "query.fvecs"), "no such index file"),
        (("ann", "build", files / "base.fvecs", "-o", tmp_path / "x.pqt", "--parts", "3"), "power of two"),
    ]
    for args, fragment in cases:
        assert_clean_error(mf(*args), fragment)
    assert not (tmp_path / "x.pqt").exists()


def test_shards_built_on_one_tree_merge_and_filtered_search_skips_removed_ids(mf, files, tmp_path):
    base, queries = read_vecs(files / "base.fvecs"), read_vecs(files / "query.fvecs")
    write_vecs(tmp_path / "a.fvecs", base[:500])
    write_vecs(tmp_path / "b.fvecs", base[500:])
    small = ("--parts", "2", "--k1", "4", "--k2", "2", "--w", "4", "--line-parts", "4", "--iterations", "5")
    assert mf("ann", "build", tmp_path / "a.fvecs", "-o", tmp_path / "a.pqt", *small).returncode == 0
    shard = mf("ann", "build", tmp_path / "b.fvecs", "-o", tmp_path / "b.pqt", "--tree", tmp_path / "a.pqt",
               "--first-id", "500")
    assert shard.returncode == 0, shard.stderr
    merged = mf("ann", "merge", tmp_path / "a.pqt", tmp_path / "b.pqt", "-o", tmp_path / "m.pqt", "--json")
    assert merged.returncode == 0 and json.loads(merged.stdout)["vectors"] == 800, merged.stderr
    np.save(tmp_path / "odd.npy", np.arange(1, 800, 2))
    removed = mf("ann", "remove", tmp_path / "m.pqt", tmp_path / "odd.npy", "-o", tmp_path / "m.pqt", "--json")
    assert json.loads(removed.stdout) == {"index": str(tmp_path / "m.pqt"), "removed": 400, "vectors": 400}
    np.save(tmp_path / "allow.npy", np.arange(800) % 4 == 0)  # a mask: ids 0, 4, 8, ...
    result = mf("ann", "search", tmp_path / "m.pqt", files / "query.fvecs", "-k", "5", "--rerank", "exact",
                "--allow", tmp_path / "allow.npy", "-o", tmp_path / "ids.npy")
    assert result.returncode == 0, result.stderr
    d = ((queries[:, None, :].astype(np.float64) - base[None, ::4]) ** 2).sum(-1)
    np.testing.assert_array_equal(np.load(tmp_path / "ids.npy"), 4 * np.argsort(d, axis=1)[:, :5])
    assert mf("ann", "build", files / "base.fvecs", "-o", tmp_path / "c.pqt", *small, "--seed", "3").returncode == 0
    np.save(tmp_path / "flat.npy", np.zeros((2, 2)))
    cases = [
        (("ann", "merge", tmp_path / "a.pqt", tmp_path / "c.pqt", "-o", tmp_path / "x.pqt"), "trained apart"),
        (("ann", "merge", tmp_path / "a.pqt", "-o", tmp_path / "x.pqt"), "at least two indexes"),
        (("ann", "remove", tmp_path / "m.pqt", tmp_path / "allow.npy", "-o", tmp_path / "x.pqt"), "not a mask"),
        (("ann", "search", tmp_path / "m.pqt", files / "query.fvecs", "--allow", tmp_path / "flat.npy"),
         "expected 1-D integer ids"),
    ]
    for args, fragment in cases:
        assert_clean_error(mf(*args), fragment)
    assert not (tmp_path / "x.pqt").exists()


def test_demo_section_scores_pqt_against_brute_force(mf, tmp_path):
    result = mf("demo", "-o", tmp_path / "report", "--json", env={"MF_PLUGINS": "ann"})
    assert result.returncode == 0, result.stderr
    rows = {row["case"]: row for row in json.loads(result.stdout)["results"] if row["task"] == "ann"}
    assert len(rows) == 4
    assert rows["exact re-ranking, 4096 candidates"]["R@10"] >= rows["exact re-ranking, 1024 candidates"]["R@10"]
    assert rows["exact re-ranking, 1024 candidates"]["R@10"] >= rows["line re-ranking, 1024 candidates"]["R@1"]
    assert rows["exact, 4096 candidates, priority-queue bins"]["R@10"] >= 0.8
    assert "Nearest-neighbour search (PQT)" in (tmp_path / "report" / "index.html").read_text()


def test_dataset_reports_each_phase_in_a_log_and_writes_its_files(mf, tmp_path):
    result = mf("ann", "dataset", "gist", "-o", tmp_path, "--base", "400", "--queries", "100", "--gt-k", "5",
                "--workers", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert [line.split(",")[0] for line in lines] == ["gist base descriptors (jobs): 2/2",
                                                      "gist query descriptors (jobs): 1/1", "ground truth: 1/1"]
    assert read_vecs(tmp_path / "gist_base.fvecs").shape == (400, 960)
    truth = read_vecs(tmp_path / "gist_groundtruth.ivecs")
    assert truth.shape == (100, 5) and truth.max() < 400
