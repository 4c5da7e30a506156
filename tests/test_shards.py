"""Sharded datasets: the same samples whatever the number of shards, read as one dataset, refused in one line when
a shard or the manifest is missing, swapped or damaged, and never half-written."""

import json
import pickle
import shutil

import numpy as np
import pytest
from executor_jobs import noise, noise_failing_late

from mfcore import ExecutorError, get_executor
from mfcore.data import Dataset, ShardedDataset, open_dataset, sample_rng, write_sharded
from mfcore.errors import DatasetError, InputError
from mfcore.kit.training import Sources

pytestmark = pytest.mark.backend_independent


def write(folder, shards, count=10, seed=5, generator=noise, **kwargs):
    with get_executor("local").start(2) as pool:
        entries = list(write_sharded(folder, generator, count=count, shards=shards, seed=seed, pool=pool,
                                     metadata={"generator": "test/noise"}, **kwargs))
    return entries


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sharded") / "three"
    write(folder, 3)
    return folder


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        for key in x:
            np.testing.assert_array_equal(x[key], y[key])


def test_sample_i_is_the_generator_on_its_own_seed_whatever_the_shards(three, tmp_path):
    reference = [noise(sample_rng(5, i)) for i in range(10)]
    assert_same(list(ShardedDataset(three)), reference)
    for shards in (1, 4):
        write(tmp_path / f"s{shards}", shards)
        assert_same(list(ShardedDataset(tmp_path / f"s{shards}")), reference)
    assert not np.array_equal(reference[0]["x"], reference[1]["x"])


def test_the_folder_reads_as_one_dataset(three):
    dataset = open_dataset(three)
    assert isinstance(dataset, ShardedDataset) and len(dataset) == 10
    manifest = json.loads((three / "manifest.json").read_text())
    assert [s["count"] for s in manifest["shards"]] == [3, 3, 4] and manifest["seed"] == 5
    assert dataset.metadata["generator"] == "test/noise" and dataset.metadata["shard_count"] == 3
    assert dataset.metadata["shapes"]["x"]["shape"] == [6, 6]
    assert_same([dataset[i] for i in range(10)], list(dataset))
    assert_same([dataset[-1]], [dataset[9]])
    with pytest.raises(IndexError):
        dataset[10]
    samples = list(dataset)
    copy = pickle.loads(pickle.dumps(dataset))
    dataset.close()  # LMDB opens a file once per process: the copy (for another process) reads after the original
    assert_same(list(copy), samples)
    copy.close()
    single = open_dataset(three / "shard-00000.lmdb")
    assert isinstance(single, Dataset) and len(single) == 3
    single.close()


def test_training_reads_a_sharded_dataset(three):
    reference = {int(s["k"]) for s in ShardedDataset(three)}
    sources = Sources([three], {}, workers=1, seed=0, hwm=4)
    drawn = {int(sources.draw(i)[1]["k"]) for i in range(20)}
    assert drawn <= reference and len(drawn) > 1


def damaged_copy(three, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(three, folder)
    return folder


def test_a_missing_shard_is_one_clear_error(three, tmp_path):
    folder = damaged_copy(three, tmp_path)
    (folder / "shard-00001.lmdb").unlink()
    with pytest.raises(DatasetError, match="shard shard-00001.lmdb is missing"):
        ShardedDataset(folder)


def test_a_swapped_shard_is_caught_by_the_manifest(three, tmp_path):
    folder = damaged_copy(three, tmp_path)
    shutil.copy(folder / "shard-00000.lmdb", folder / "shard-00001.lmdb")
    with pytest.raises(DatasetError, match="does not match the manifest"):
        ShardedDataset(folder)


def test_a_truncated_shard_is_one_clear_error(three, tmp_path):
    folder = damaged_copy(three, tmp_path)
    path = folder / "shard-00002.lmdb"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DatasetError, match="shard-00002.lmdb"):
        ShardedDataset(folder)


@pytest.mark.parametrize("edit,fragment", [
    (lambda m: b"\x00garbage{", "manifest.json: unreadable"),
    (lambda m: json.dumps({**m, "format": "other"}).encode(), "not an mf shard manifest"),
    (lambda m: json.dumps({**m, "shards": [{**m["shards"][0], "file": "../../etc/passwd"}, *m["shards"][1:]]}).encode(),
     "shard entry 0 is malformed"),
    (lambda m: json.dumps({**m, "shards": m["shards"][:2]}).encode(), "the shards hold 6 samples but the manifest"),
    (lambda m: json.dumps({**m, "shards": [m["shards"][1], m["shards"][0], m["shards"][2]]}).encode(),
     "shard entry 0 is malformed"),
])
def test_a_damaged_or_crafted_manifest_is_one_clear_error(three, tmp_path, edit, fragment):
    folder = damaged_copy(three, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_bytes(edit(manifest))
    with pytest.raises(DatasetError, match=fragment):
        ShardedDataset(folder)


def test_a_manifest_that_is_not_a_regular_file_is_refused(three, tmp_path):
    folder = damaged_copy(three, tmp_path)
    (folder / "manifest.json").unlink()
    (folder / "manifest.json").symlink_to("/dev/zero")
    with pytest.raises(DatasetError, match="not a regular file"):
        ShardedDataset(folder)


def test_a_folder_without_manifest_is_not_a_dataset(tmp_path):
    with pytest.raises(DatasetError, match="no manifest.json"):
        open_dataset(tmp_path)


def test_a_failing_shard_leaves_nothing_behind(tmp_path):
    with pytest.raises(ExecutorError, match=r"item \d+ failed: ValueError: generator bug"):
        write(tmp_path / "out", 4, count=40, generator=noise_failing_late)
    assert list(tmp_path.iterdir()) == []


def test_replacing_needs_overwrite_and_only_replaces_a_sharded_dataset(tmp_path):
    folder = tmp_path / "out"
    write(folder, 2, count=4)
    with pytest.raises(InputError, match="exists; pass --overwrite"):
        write(folder, 2, count=4)
    write(folder, 3, count=6, overwrite=True)
    assert len(ShardedDataset(folder)) == 6 and sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    (tmp_path / "mine").mkdir()
    with pytest.raises(InputError, match="it has no manifest.json, so mf did not write it"):
        write(tmp_path / "mine", 2, count=4, overwrite=True)


def test_mf_synth_shards_and_dataset_info_check(mf, tmp_path):
    folder = tmp_path / "patches"
    result = mf("synth", "data", "-o", folder, "-n", "6", "--shards", "3", "-w", "2", "--set", "size=16",
                "--seed", "2", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["shards"] == 3
    info = mf("dataset", "info", folder, "--check", "--json")
    assert info.returncode == 0, info.stderr
    meta = json.loads(info.stdout)
    assert meta["count"] == 6 and meta["shard_count"] == 3 and meta["checked"] and meta["seed"] == 2
    assert meta["executor"] == "local" and meta["params"] == {"size": 16, "noise": 0.02}
