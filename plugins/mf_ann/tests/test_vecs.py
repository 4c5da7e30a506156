import numpy as np
import pytest
from mf_ann.vecs import read_vecs, write_vecs

from mfcore import InputError


@pytest.mark.parametrize("suffix,dtype", [(".fvecs", np.float32), (".bvecs", np.uint8), (".ivecs", np.int32),
                                          (".npy", np.float32)])
@pytest.mark.parametrize("mmap", [True, False])
def test_round_trip(tmp_path, suffix, dtype, mmap):
    rng = np.random.default_rng(0)
    vectors = (rng.random((37, 13)) * 200).astype(dtype)
    path = write_vecs(tmp_path / f"v{suffix}", vectors)
    back = read_vecs(path, mmap=mmap)
    assert back.dtype == dtype and back.shape == (37, 13)
    np.testing.assert_array_equal(back, vectors)


def test_fvecs_layout_is_texmex(tmp_path):
    path = write_vecs(tmp_path / "a.fvecs", np.array([[1.5, -2.0, 3.25]], np.float32))
    raw = path.read_bytes()
    assert raw[:4] == (3).to_bytes(4, "little")
    assert np.frombuffer(raw[4:], "<f4").tolist() == [1.5, -2.0, 3.25]


def test_bad_files_are_refused(tmp_path):
    with pytest.raises(InputError, match="unknown vector file type"):
        read_vecs(tmp_path / "x.csv")
    with pytest.raises(InputError, match="no such file"):
        read_vecs(tmp_path / "x.fvecs")
    (tmp_path / "e.fvecs").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_vecs(tmp_path / "e.fvecs")
    path = write_vecs(tmp_path / "t.fvecs", np.ones((10, 8), np.float32))
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(InputError, match="not a multiple"):
        read_vecs(path)
    mixed = write_vecs(tmp_path / "m.ivecs", np.ones((5, 4), np.int32))
    data = bytearray(mixed.read_bytes())
    data[3 * 20 : 3 * 20 + 4] = (2).to_bytes(4, "little")  # record 3 claims another dimension
    mixed.write_bytes(bytes(data))
    with pytest.raises(InputError, match="vector 3 has dimension 2, the first has 4"):
        read_vecs(mixed)
    (tmp_path / "s.npy").write_bytes(b"not numpy")
    with pytest.raises(InputError, match="not a readable .npy"):
        read_vecs(tmp_path / "s.npy")


@pytest.mark.parametrize("mmap", [True, False])
def test_a_bad_dimension_field_anywhere_is_found(tmp_path, mmap):
    n = 5000
    probes = set(np.linspace(0, n - 1, 1024).astype(int))  # what a sampled check would have looked at
    victim = next(i for i in range(n // 2, n) if i not in probes)
    path = write_vecs(tmp_path / "v.bvecs", np.ones((n, 4), np.uint8))
    data = bytearray(path.read_bytes())
    data[victim * 8 : victim * 8 + 4] = (7).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=f"vector {victim} has dimension 7, the first has 4"):
        read_vecs(path, mmap=mmap)


def test_integer_ids_under_a_float_suffix_are_refused(tmp_path):
    ids = np.random.default_rng(0).integers(0, 1_000_000, (100, 10)).astype(np.int32)
    path = write_vecs(tmp_path / "gt.ivecs", ids)
    renamed = path.rename(tmp_path / "gt.fvecs")
    with pytest.raises(InputError, match="holds integers, not float32 components"):
        read_vecs(renamed)
    sparse = np.zeros((50, 8), np.float32)
    sparse[::7, 3] = 0.25  # mostly zeros: real features, not integers
    assert read_vecs(write_vecs(tmp_path / "sparse.fvecs", sparse)).shape == (50, 8)
