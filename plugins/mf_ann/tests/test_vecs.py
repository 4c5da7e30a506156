import numpy as np
import pytest

from mfcore.errors import InputError
from mf_ann.vecs import read_vecs, write_vecs


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
