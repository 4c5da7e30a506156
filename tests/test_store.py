import multiprocessing as mp
import os
import re
import stat

import lmdb
import numpy as np
import pytest

from mfcore import DatasetError, InputError
from mfcore.data import Dataset, DatasetWriter


def make_sample(i: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(i)
    return {"x": rng.normal(size=(4, 6)).astype(np.float32), "y": np.int64(i), "v": rng.integers(0, 255, (i % 7,), np.uint8)}


def write(path, n, **kwargs):
    with DatasetWriter(path, metadata={"generator": "test", "seed": 3}, **kwargs) as writer:
        for i in range(n):
            writer.append(make_sample(i))
    return path


def test_round_trip_10k_samples_with_random_access(tmp_path):
    path = write(tmp_path / "train.lmdb", 10_000, map_size=1 << 20)  # forces several map growths
    ds = Dataset(path)
    assert len(ds) == 10_000
    assert ds.metadata["count"] == 10_000
    assert ds.metadata["generator"] == "test" and ds.metadata["seed"] == 3
    assert ds.metadata["shapes"]["x"] == {"shape": [4, 6], "dtype": "<f4"}
    assert ds.metadata["fixed_shapes"] is False  # "v" changes length
    for i in np.random.default_rng(1).permutation(10_000)[:2000]:
        got, want = ds[int(i)], make_sample(int(i))
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])
    np.testing.assert_array_equal(ds[-1]["y"], 9999)
    with pytest.raises(IndexError):
        ds[10_000]
    assert [int(s["y"]) for s in ds][:5] == [0, 1, 2, 3, 4]


def test_out_of_order_puts_and_gaps(tmp_path):
    with DatasetWriter(tmp_path / "a.lmdb") as writer:
        for i in (2, 0, 1):
            writer.put(i, make_sample(i))
    assert [int(s["y"]) for s in Dataset(tmp_path / "a.lmdb")] == [0, 1, 2]
    with pytest.raises(DatasetError, match="indices"):
        with DatasetWriter(tmp_path / "b.lmdb") as writer:
            writer.put(0, make_sample(0))
            writer.put(2, make_sample(2))
    assert not (tmp_path / "b.lmdb").exists()


def test_failed_write_leaves_nothing(tmp_path):
    path = tmp_path / "x.lmdb"
    with pytest.raises(RuntimeError):
        with DatasetWriter(path) as writer:
            writer.append(make_sample(0))
            raise RuntimeError("generator crashed")
    assert list(tmp_path.iterdir()) == []


def test_existing_dataset_survives_a_failed_rewrite(tmp_path):
    path = write(tmp_path / "x.lmdb", 5)
    with pytest.raises(RuntimeError):
        with DatasetWriter(path) as writer:
            writer.append(make_sample(0))
            raise RuntimeError
    assert len(Dataset(path)) == 5


def test_truncated_file_is_refused(tmp_path):
    path = write(tmp_path / "t.lmdb", 2000)
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size // 2)
    with pytest.raises(DatasetError, match="truncated|not a readable"):
        Dataset(path)


def test_garbage_file_is_refused(tmp_path):
    path = tmp_path / "g.lmdb"
    path.write_bytes(os.urandom(64 * 1024))
    with pytest.raises(DatasetError, match="not a readable LMDB"):
        Dataset(path)


def test_flipped_bytes_in_a_sample_are_detected(tmp_path):
    path = write(tmp_path / "c.lmdb", 50)
    data = bytearray(path.read_bytes())
    marker = np.random.default_rng(17).normal(size=(4, 6)).astype(np.float32).tobytes()
    offset = data.find(marker)
    assert offset > 0
    data[offset + 3] ^= 0x55
    path.write_bytes(bytes(data))
    ds = Dataset(path)
    with pytest.raises(DatasetError, match="sample 17: .*CRC"):
        ds[17]
    np.testing.assert_array_equal(ds[16]["y"], 16)


def test_lmdb_without_mf_metadata_is_refused(tmp_path):
    path = tmp_path / "foreign.lmdb"
    env = lmdb.open(str(path), subdir=False, lock=False)
    with env.begin(write=True) as txn:
        txn.put(b"k", b"v")
    env.close()
    with pytest.raises(DatasetError, match="no mf metadata"):
        Dataset(path)


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="no such dataset"):
        Dataset(tmp_path / "nope.lmdb")


def _child_sum(ds: Dataset, queue) -> None:
    queue.put(sum(int(ds[i]["y"]) for i in range(len(ds))))


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_dataset_opened_in_parent_is_readable_in_children(tmp_path, method):
    ds = Dataset(write(tmp_path / "f.lmdb", 100))
    assert int(ds[3]["y"]) == 3  # the parent's environment is open before the child starts
    ctx = mp.get_context(method)
    queue = ctx.Queue()
    proc = ctx.Process(target=_child_sum, args=(ds, queue))
    proc.start()
    assert queue.get(timeout=60) == sum(range(100))
    proc.join(30)
    assert proc.exitcode == 0


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


def test_the_temporary_file_is_new_private_and_not_a_planted_link(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    for pid in range(os.getpid() - 5, os.getpid() + 5):  # the old, predictable temporary names
        os.symlink(victim, tmp_path / f".d.lmdb.{pid}.tmp")
    writer = DatasetWriter(tmp_path / "d.lmdb")
    info = os.lstat(writer.tmp)
    assert stat.S_ISREG(info.st_mode) and info.st_mode & 0o777 == 0o600 and info.st_uid == os.getuid()
    writer.append({"x": np.zeros(3, np.float32)})
    writer.close()
    assert victim.read_text() == "keep me"
    assert stat.S_ISREG(os.lstat(tmp_path / "d.lmdb").st_mode) and len(Dataset(tmp_path / "d.lmdb")) == 1


@pytest.mark.parametrize("kind", ["symlink", "folder", "fifo"])
def test_a_non_regular_file_is_never_replaced(tmp_path, kind):
    target = tmp_path / "d.lmdb"
    if kind == "symlink":
        os.symlink(tmp_path / "elsewhere.lmdb", target)
    elif kind == "folder":
        target.mkdir()
    else:
        os.mkfifo(target)
    with pytest.raises(InputError, match="not a regular file; mf will not replace it"):
        DatasetWriter(target)
    assert _leftovers(tmp_path) == [] and not (tmp_path / "elsewhere.lmdb").exists()


def test_a_failed_close_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "d.lmdb"
    writer = DatasetWriter(target)
    writer.append({"x": np.zeros(3, np.float32)})
    target.mkdir()  # something takes the name while the dataset is written
    with pytest.raises(InputError, match="it is a folder"):
        writer.close()
    assert _leftovers(tmp_path) == [] and target.is_dir()


def _page_surgery(path, edit):
    """Apply ``edit(data, psize, leaf_nodes)`` to the file's bytes; leaf_nodes: (page offset, node offset) of
    every record stored on overflow pages."""
    import struct

    data = bytearray(path.read_bytes())
    psize = 4096
    nodes = []
    for base in range(2 * psize, len(data), psize):
        _, _, flags, lower, _ = struct.unpack_from("<QHHHH", data, base)
        if flags == 0x02:  # a leaf page
            for ptr in struct.unpack_from(f"<{(lower - 16) // 2}H", data, base + 16):
                if struct.unpack_from("<H", data, base + ptr + 4)[0] & 0x01:  # F_BIGDATA
                    nodes.append((base, ptr))
    edit(data, psize, nodes)
    path.write_bytes(bytes(data))
    return path


def _oversized_record(data, psize, nodes):
    import struct

    for base, ptr in nodes:  # on every leaf page: stale copies of the leaf from earlier transactions remain
        struct.pack_into("<HH", data, base + ptr, 0, 8 << 20 >> 16)  # the record now claims 8 MB


def _root_past_the_end(data, psize, nodes):
    import struct

    for meta in (0, psize):  # the main database's root page, in both meta pages
        struct.pack_into("<Q", data, meta + 16 + 24 + 48 + 40, 3000)


@pytest.mark.parametrize(("edit", "message"), [
    (_oversized_record, r"a record of 8388608 bytes on pages \d+..\d+ runs past the last page"),
    (_root_past_the_end, "a reference to page 3000"),
])
def test_damaged_page_references_are_refused_without_a_crash(tmp_path, edit, message):
    """The oversized record made LMDB read past the end of the file: SIGBUS killed the reader. A child
    process runs the read, so that a crash fails this test instead of killing pytest."""
    import subprocess
    import sys

    with DatasetWriter(tmp_path / "d.lmdb") as writer:
        for i in range(40):  # records larger than half a page: LMDB stores them on overflow pages
            writer.append({"x": np.full(1000, i, np.float32)})
    path = _page_surgery(tmp_path / "d.lmdb", edit)
    script = ("import sys\nfrom mfcore.data.store import Dataset\nfrom mfcore.errors import DatasetError\n"
              "try:\n    list(Dataset(sys.argv[1]))\nexcept DatasetError as exc:\n    print(exc)\n    sys.exit(3)\n")
    result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 3, f"exit {result.returncode}: {result.stderr[-500:]}"
    assert re.search(message, result.stdout), result.stdout


def test_an_intact_dataset_passes_the_page_check(tmp_path):
    from mfcore.data import check_pages

    check_pages(write(tmp_path / "d.lmdb", 300))
    with DatasetWriter(tmp_path / "empty.lmdb"):
        pass
    check_pages(tmp_path / "empty.lmdb")
