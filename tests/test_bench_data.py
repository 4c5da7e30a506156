import importlib.util
import json


def test_bench_data_measures_every_pipeline_and_writes_its_table(mf, tmp_path):
    table = tmp_path / "data.md"
    result = mf("bench", "data", "--samples", "60", "--stream-samples", "40", "--workers", "1,2",
                "--markdown", table, "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    stores = {row["store"] for row in info["random_reads"]}
    assert {"mf LMDB (CRC checked)", "mf LMDB (verify=False)"} <= stores
    assert ("HDF5 (h5py)" in stores) == (importlib.util.find_spec("h5py") is not None)
    for row in info["random_reads"]:
        assert row["samples"] == 60 and row["warm_mb_per_s"] > 0
    pipelines = {(row["pipeline"], row["workers"]) for row in info["streaming"]}
    assert {("mf ZeroMQ stream", 1), ("mf ZeroMQ stream", 2), ("in-process (no workers)", 0)} <= pipelines
    assert (("torch DataLoader", 2) in pipelines) == (importlib.util.find_spec("torch") is not None)
    assert all(row["samples_per_s"] > 0 for row in info["streaming"])
    text = table.read_text()
    assert text.startswith("# Data layer benchmark") and info["command"] in text and "| mf LMDB (CRC checked) |" in text
