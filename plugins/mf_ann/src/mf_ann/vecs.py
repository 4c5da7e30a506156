"""Vector files: TEXMEX ``.fvecs`` / ``.bvecs`` / ``.ivecs`` and NumPy ``.npy``, memory-mapped.

The TEXMEX formats (SIFT1M, GIST1M, SIFT1B) store each vector as a little-endian
int32 dimension followed by its components (float32, uint8 or int32). Reading
maps the file and returns a strided view without the dimension column, so a
SIFT1B ``.bvecs`` of 132 GB can be indexed in slices without loading it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mfcore import InputError, atomic_path

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
    _check_dimension_fields(path, raw, dim)
    vectors = raw[:, 4:].view(component)
    if suffix == ".fvecs":
        _check_floats(path, vectors)
    return vectors


def read_ids(path: str | Path) -> np.ndarray:
    """A 1-D array of ids (``.ivecs``, or an integer ``.npy``) or a boolean mask over ids (a bool ``.npy``):
    an allow-list (:mod:`mf_ann.allow`) or the ids to remove."""
    path = Path(path)
    if path.suffix.lower() == ".ivecs":
        return np.asarray(read_vecs(path)).ravel()
    if path.suffix.lower() != ".npy":
        raise InputError(f"{path}: ids come as .ivecs or .npy (integer ids, or a boolean mask over ids)")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise InputError(f"{path}: not a readable .npy file ({exc})") from exc
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or array.dtype.kind not in "biu":
        raise InputError(f"{path}: expected 1-D integer ids or a boolean mask, got shape {array.shape} of "
                         f"{array.dtype}")
    return array


def _check_dimension_fields(path: Path, raw: np.ndarray, dim: int) -> None:
    """Every record must repeat the first one's dimension; checked in slices, so memory stays bounded.

    This reads a page of every part of the file once (the dimension fields are
    spread through it), sequentially: about a second per GB from disk, far less
    than indexing the same vectors.
    """
    step = max(1, (64 << 20) // raw.shape[1])
    for start in range(0, raw.shape[0], step):
        dims = np.ascontiguousarray(raw[start : start + step, :4]).view("<i4").ravel()
        bad = np.flatnonzero(dims != dim)
        if bad.size:
            raise InputError(f"{path}: vector {start + int(bad[0])} has dimension {int(dims[bad[0]])}, "
                             f"the first has {dim} (a damaged or concatenated file)")


def _check_floats(path: Path, vectors: np.ndarray) -> None:
    """Refuse integer data under a float suffix (an .ivecs file renamed .fvecs).

    Small non-negative int32 values (ids, counts) read as float32 are subnormal
    numbers, which real float features practically never are; up to 1024 evenly
    spaced records are looked at.
    """
    probe = np.unique(np.linspace(0, len(vectors) - 1, min(len(vectors), 1024)).astype(np.int64))
    sample = np.asarray(vectors[probe])
    nonzero = sample[sample != 0]
    subnormal = np.abs(nonzero) < np.finfo(np.float32).tiny
    if nonzero.size and subnormal.mean() > 0.5:
        raise InputError(f"{path}: holds integers, not float32 components (an .ivecs file named .fvecs?)")


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
