import importlib.util
import json

import numpy as np
from mf_ann import datasets
from mf_ann.bench import FILTERED_FAISS, FILTERED_PQT, PQT_CONFIGS, SELECTIVITIES, THREADED_PQT
from mf_ann.vecs import write_vecs


def test_bench_ann_measures_pqt_and_reproduces_the_thesis_tables(mf, tmp_path):
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(30, 32)) * 3
    base = (centres[rng.integers(30, size=3000)] + rng.normal(size=(3000, 32))).astype(np.float32)
    queries = (centres[rng.integers(30, size=50)] + rng.normal(size=(50, 32))).astype(np.float32)
    write_vecs(tmp_path / "toy_base.fvecs", base)
    write_vecs(tmp_path / "toy_query.fvecs", queries)
    write_vecs(tmp_path / "toy_groundtruth.ivecs", datasets.ground_truth(base, queries, 100))
    peers = importlib.util.find_spec("faiss") is not None and importlib.util.find_spec("hnswlib") is not None
    args = ["bench", "ann", "--data", tmp_path, "--dataset", "toy", "--queries", "50", "--markdown",
            tmp_path / "ann.md", "--json"] + ([] if peers else ["--no-peers"])
    if importlib.util.find_spec("matplotlib") is not None:
        args += ["--plot", tmp_path / "ann.png"]
    result = mf(*args)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    pqt = [r for r in info["results"] if r["method"].startswith("PQT")]
    assert len(pqt) == sum(len(settings) for _, settings in PQT_CONFIGS)  # numpy: queue settings included
    for row in pqt:
        assert 0 <= row["R@1"] <= row["R@10"] <= row["R@100"] <= 1 and row["QPS"] > 0
    exact = [r for r in pqt if "rerank=exact" in r["setting"]]
    assert max(r["R@10"] for r in exact) >= 0.9
    fastest = info["fastest_at_0.95"]
    assert fastest and all(r["R@10"] >= 0.95 for r in fastest)
    for row in info["results"]:  # no qualifying setting is faster than the one reported for its method
        if row["R@10"] >= 0.95:
            assert any(row["QPS"] <= r["QPS"] and row["method"] == r["method"] for r in fastest)
    if peers:
        brute = [r for r in info["results"] if r["method"] == "brute force"]
        assert brute and brute[0]["R@1"] == 1.0
    assert sum(info["bin_occupancy"][0][k] for k in info["bin_occupancy"][0] if k != "config") > 0
    proposal = info["bin_proposal"]
    assert {r["bin order"].split(" (")[0] for r in proposal} == {"anisotropic heuristic", "exhaustive"}
    for row in proposal:
        fractions = [row[k] for k in ("L<=1024", "L<=4096", "L<=16384", "L<=65536")]
        assert fractions == sorted(fractions) and fractions[-1] == 1.0  # 3000 vectors: every bin is reached
    orderings = info["orderings"]
    assert [r["orderings"] for r in orderings] == [1, 2, 4]
    assert orderings[0]["R@10"] == orderings[0]["predicted R@10"]
    assert orderings[-1]["R@10"] >= orderings[0]["R@10"]
    line = info["line_parts"]
    assert [r["P_line"] for r in line] == [2, 4, 8, 16, 32]
    assert line[-1]["R@10"] >= line[0]["R@10"]
    filtered = info["filtered"]
    per_share = len(FILTERED_PQT) + (sum(len(nprobes) for _, nprobes in FILTERED_FAISS) if peers else 0)
    assert len(filtered) == len(SELECTIVITIES) * per_share
    assert all(row["only allowed"] and 0 <= row["R@1"] <= row["R@10"] <= 1 for row in filtered)
    smallest = [r for r in filtered if r["allowed"].endswith("(10)") and r["method"].startswith("PQT")]
    assert smallest and all(r["R@1"] == 1.0 for r in smallest)  # 10 allowed: searched exhaustively, exactly
    threaded = info["threads"]
    assert len(threaded) == len(THREADED_PQT) + (len(FILTERED_FAISS) if peers else 0)
    assert all(row["scaling"] > 0 and 0 <= row["R@10"] <= 1 for row in threaded)
    assert "| PQT (numpy) |" in (tmp_path / "ann.md").read_text()


def test_bench_ann_without_a_dataset_says_how_to_make_one(mf, tmp_path):
    result = mf("bench", "ann", "--data", tmp_path)
    assert result.returncode != 0
    assert f"create the set with `mf ann dataset sift -o {tmp_path}`" in result.stderr
