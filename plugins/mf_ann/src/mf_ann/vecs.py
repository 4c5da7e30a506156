"""Vector files: TEXMEX ``.fvecs`` / ``.bvecs`` / ``.ivecs`` and NumPy ``.npy``, memory-mapped.

The TEXMEX formats (SIFT1M, GIST1M, SIFT1B) store each vector as a little-endian
int32 dimension followed by its components (float32, uint8 or int32). Reading
maps the file and returns a strided view without the dimension column, so a
SIFT1B ``.bvecs`` of 132 GB can be indexed in slices without loading it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mfcore.atomic import atomic_path
from mfcore.errors import InputError

_COMPONENT = {".fvecs": np.dtype("<f4"), ".bvecs": np.dtype("u1"), ".ivecs": np.dtype("<i4")}
SUFFIXES = (*_COMPONENT, ".npy")


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path}: unknown vector file type {suffix!r}; use one of {', '.join(SUFFIXES)}")
    return suffix


def read_vecs(path: str | Path, mmap: bool = True) -> np.ndarray:
    """Read an (n, d) array of vectors; memory-mapped (read-only) unless ``mmap=False``."""
    path = Path(path)
    suffix = _suffix(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if suffix == ".npy":
        try:
            array = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise InputError(f"{path}: not a readable .npy file ({exc})") from exc
        if array.ndim != 2 or array.dtype.kind not in "uif":
            raise InputError(f"{path}: expected a 2-D numeric array, got shape {array.shape} of {array.dtype}")
        return array
    size = path.stat().st_size
    if size < 4:
        raise InputError(f"{path}: empty {suffix} file")
    dim = int(np.fromfile(path, dtype="<i4", count=1)[0])
    component = _COMPONENT[suffix]
    record = 4 + dim * component.itemsize
    if dim <= 0 or size % record:
        raise InputError(f"{path}: not a {suffix} file (size {size} is not a multiple of the "
                         f"{record}-byte record implied by the leading dimension {dim})")
    n = size // record
    raw = np.memmap(path, dtype=np.uint8, mode="r", shape=(n, record)) if mmap else \
        np.fromfile(path, dtype=np.uint8).reshape(n, record)
    # Check the dimension field of up to 1024 evenly spaced records: reading all of them
    # would touch every page of a file that may be far larger than memory.
    probe = np.unique(np.linspace(0, n - 1, min(n, 1024)).astype(np.int64))
    dims = raw[probe, :4].copy().view("<i4").ravel()
    if (dims != dim).any():
        bad = int(probe[np.flatnonzero(dims != dim)[0]])
        raise InputError(f"{path}: vector {bad} has dimension {int(raw[bad, :4].copy().view('<i4')[0])}, "
                         f"the first has {dim}")
    return raw[:, 4:].view(component)


def write_vecs(path: str | Path, vectors: np.ndarray) -> Path:
    """Write (n, d) vectors in the format the suffix names, atomically."""
    path = Path(path)
    suffix = _suffix(path)
    vectors = np.asarray(vectors)
    if vectors.ndim != 2:
        raise InputError(f"{path}: vectors must be 2-D (n, d), got shape {vectors.shape}")
    with atomic_path(path) as tmp:
        if suffix == ".npy":
            with open(tmp, "wb") as f:
                np.save(f, vectors)
            return path
        component = _COMPONENT[suffix]
        n, d = vectors.shape
        out = np.empty((n, 4 + d * component.itemsize), dtype=np.uint8)
        out[:, :4] = np.full((n, 1), d, dtype="<i4").view(np.uint8)
        out[:, 4:] = np.ascontiguousarray(vectors, dtype=component).view(np.uint8).reshape(n, -1)
        out.tofile(tmp)
    return path
