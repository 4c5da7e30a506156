"""Samples (dicts of NumPy arrays) to bytes and back, without pickle.

The record is ``MAGIC | crc32 | msgpack({key: [dtype, shape, raw bytes]})``.
msgpack carries the raw buffers without copying them into Python objects, the
CRC catches bit rot in a dataset file, and nothing in a record can execute code
when it is read (unlike pickle).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import msgpack
import numpy as np

from ..errors import DatasetError

MAGIC = b"MFS1"
_HEADER = len(MAGIC) + 4


def encode(sample: Mapping[str, object]) -> bytes:
    """Serialise a sample; values must be NumPy arrays or numbers (no objects, no strings)."""
    body: dict[str, list[object]] = {}
    for key, value in sample.items():
        if not isinstance(key, str):
            raise TypeError(f"sample keys must be str, got {type(key).__name__}")
        array = np.asarray(value)
        if array.dtype.kind not in "biufc":
            raise TypeError(f"sample[{key!r}] has dtype {array.dtype}; only numeric and bool arrays are stored")
        array = array if array.flags.c_contiguous else array.copy(order="C")
        body[key] = [array.dtype.str, list(array.shape), memoryview(array.reshape(-1).view(np.uint8))]
    packed = msgpack.packb(body, use_bin_type=True)
    return MAGIC + zlib.crc32(packed).to_bytes(4, "little") + packed


def decode(record: bytes, verify: bool = True) -> dict[str, np.ndarray]:
    """Inverse of :func:`encode`. Arrays are read-only views on ``record``."""
    if record[: len(MAGIC)] != MAGIC:
        raise DatasetError("record is not an mf sample (bad magic bytes)")
    packed = memoryview(record)[_HEADER:]
    if verify and zlib.crc32(packed) != int.from_bytes(record[len(MAGIC) : _HEADER], "little"):
        raise DatasetError("record failed its CRC check (the dataset file is corrupt)")
    try:
        body = msgpack.unpackb(packed, raw=False)
        return {
            key: np.frombuffer(data, dtype=np.dtype(dtype)).reshape(tuple(shape)) for key, (dtype, shape, data) in body.items()
        }
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise DatasetError(f"record cannot be decoded: {exc}") from exc


def shapes_of(sample: Mapping[str, np.ndarray]) -> dict[str, dict[str, object]]:
    """Shape and dtype of each array in a sample, for metadata records."""
    return {k: {"shape": list(np.shape(v)), "dtype": np.asarray(v).dtype.str} for k, v in sample.items()}
