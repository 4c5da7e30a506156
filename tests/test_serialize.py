import numpy as np
import pytest

from mfcore import DatasetError
from mfcore.data import serialize

DTYPES = [np.uint8, np.int16, np.int64, np.float16, np.float32, np.float64, np.complex64, np.bool_]


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_preserves_values_dtype_and_shape(dtype):
    rng = np.random.default_rng(0)
    sample = {
        "a": (rng.normal(size=(3, 5, 7)) * 50).astype(dtype),
        "scalar": np.asarray(rng.integers(100)).astype(dtype),
        "empty": np.zeros((0, 4), dtype=dtype),
        "strided": (rng.normal(size=(8, 8)) * 50).astype(dtype)[::2, ::3],
    }
    back = serialize.decode(serialize.encode(sample))
    assert back.keys() == sample.keys()
    for key, value in sample.items():
        assert back[key].dtype == value.dtype
        assert back[key].shape == value.shape
        np.testing.assert_array_equal(back[key], value)


def test_big_endian_arrays_keep_their_values():
    value = np.arange(10, dtype=">i4")
    np.testing.assert_array_equal(serialize.decode(serialize.encode({"x": value}))["x"], value)


def test_flipped_byte_fails_crc():
    record = bytearray(serialize.encode({"x": np.arange(100, dtype=np.float32)}))
    record[-5] ^= 0xFF
    with pytest.raises(DatasetError, match="CRC"):
        serialize.decode(bytes(record))


def test_not_a_record():
    with pytest.raises(DatasetError, match="magic"):
        serialize.decode(b"\x80\x04pickle-ish bytes")


@pytest.mark.parametrize("value", [np.array(["a", "b"]), np.array([object()], dtype=object)])
def test_non_numeric_values_are_refused(value):
    with pytest.raises(TypeError, match="only numeric"):
        serialize.encode({"x": value})
