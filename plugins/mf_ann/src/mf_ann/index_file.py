"""Reading a ``.pqt`` index file as untrusted input: every member checked before search can touch it.

The compiled search indexes arrays with the file's own offsets and codes, so a
crafted file could make it read (or segfault) outside them. The file is an
uncompressed zip of ``.npy`` members (``np.savez``); it is read here member by
member, and refused with one line unless:

* it holds exactly the members an index has, each stored uncompressed, so no
  member can inflate past the file's own size;
* each member's declared shape and dtype match the metadata, and its byte
  count matches its header, before any array is allocated;
* the metadata holds sane integers (``k1`` at most 256, ``w`` at most ``k1``,
  ``parts`` a power of two, ...);
* the inverted lists are consistent: bin ids strictly increasing and below
  ``max_bins``, offsets from 0 to n and non-decreasing, every vector's bin equal
  to the bin whose range holds it, line pair codes below ``k1²``; centroids and
  vectors finite.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from mfcore import InputError

FORMAT = "mf-pqt"
FORMAT_VERSION = 3  # 3: λ over the whole line, [-7, 8]
_META_KEYS = {"parts": int, "k1": int, "k2": int, "w": int, "line_parts": int, "max_bins": int,
              "keep_vectors": bool}
_MAX_META_BYTES = 1 << 16


class _Refused(Exception):
    """Why a file is not a usable index; ``read_index`` turns it into one InputError line."""


def _meta(raw: np.ndarray) -> dict[str, Any]:
    try:
        meta = json.loads(raw.tobytes().decode())
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Refused(f"unreadable metadata ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _Refused("not an mf PQT index")
    if meta.get("version") != FORMAT_VERSION:
        raise _Refused(f"index format version {meta.get('version')} is not supported (this mf-ann reads version "
                       f"{FORMAT_VERSION}); rebuild the index")
    for key, kind in _META_KEYS.items():
        value = meta.get(key)
        if type(value) is not kind:
            raise _Refused(f"metadata field {key!r} is {value!r}, expected {kind.__name__}")
    parts, k1, k2, w, line_parts, max_bins = (meta[k] for k in ("parts", "k1", "k2", "w", "line_parts", "max_bins"))
    if not (1 <= parts <= 256 and parts & (parts - 1) == 0):
        raise _Refused(f"metadata: parts={parts} is not a power of two up to 256")
    if not 1 <= k1 <= 256:
        raise _Refused(f"metadata: k1={k1} is outside [1, 256]")
    if not 1 <= k2 <= 1 << 16:
        raise _Refused(f"metadata: k2={k2} is outside [1, 65536]")
    if not 1 <= w <= k1:
        raise _Refused(f"metadata: w={w} is outside [1, k1={k1}]")
    if not (1 <= line_parts <= 4096 and line_parts % parts == 0):
        raise _Refused(f"metadata: line_parts={line_parts} is not a positive multiple of parts={parts}")
    if not 1 <= max_bins <= 1 << 62:
        raise _Refused(f"metadata: max_bins={max_bins} is out of range")
    return meta


def _header(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[tuple[int, ...], np.dtype, int]:
    """A member's declared (shape, dtype) and where its data start, read from its .npy header only."""
    with archive.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read(f)
        except (ValueError, SyntaxError, EOFError) as exc:
            raise _Refused(f"member {info.filename}: not a .npy array ({exc})") from exc
        start = f.tell()
    if fortran or dtype.hasobject or dtype.kind not in "biuf":
        raise _Refused(f"member {info.filename}: unexpected layout or dtype {dtype}")
    if int(np.prod(shape, dtype=np.float64)) * dtype.itemsize != info.file_size - start:
        raise _Refused(f"member {info.filename}: declares shape {shape} of {dtype}, which does not match its "
                       f"{info.file_size - start} bytes")
    return tuple(shape), dtype, start


def _expected(meta: dict[str, Any], shapes: dict[str, tuple[int, ...]]) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Dtype and shape of every member, given the metadata and the sizes n (vectors), m (bins), dp, d."""
    parts, k1, k2, line_parts = meta["parts"], meta["k1"], meta["k2"], meta["line_parts"]
    level1 = shapes.get("level1", ())
    if len(level1) != 3 or level1[:2] != (parts, k1) or level1[2] < 1:
        raise _Refused(f"member level1 has shape {level1}, expected ({parts}, {k1}, part dimension)")
    dp = level1[2]
    if dp % (line_parts // parts):
        raise _Refused(f"line_parts={line_parts} does not split the {dp}-dimensional parts evenly")
    n = shapes.get("ids", (0,))[0] if len(shapes.get("ids", ())) == 1 else -1
    m = shapes.get("bin_ids", (0,))[0] if len(shapes.get("bin_ids", ())) == 1 else -1
    if n < 1 or m < 1:
        raise _Refused("the index has no vectors, or its ids or bin ids are not 1-D")
    pair = "|u1" if k1 <= 16 else "<u2"
    expected = {"level1": ("<f4", (parts, k1, dp)), "level2": ("<f4", (parts, k1, k2, dp)),
                "bins": ("<i8", (n,)), "ids": ("<i8", (n,)), "line_pair": (pair, (n, line_parts)),
                "line_lam": ("|u1", (n, line_parts)), "bin_ids": ("<i8", (m,)), "offsets": ("<i8", (m + 1,))}
    if meta["keep_vectors"]:
        expected["vectors"] = ("<f4", (n, parts * dp))
    return expected


def _check_contents(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    n = len(arrays["ids"])
    offsets, bin_ids, bins = arrays["offsets"], arrays["bin_ids"], arrays["bins"]
    if offsets[0] != 0 or offsets[-1] != n or (np.diff(offsets) < 1).any():
        raise _Refused(f"offsets do not rise from 0 to {n} with every bin non-empty")
    if (np.diff(bin_ids) < 1).any() or bin_ids[0] < 0 or bin_ids[-1] >= meta["max_bins"]:
        raise _Refused(f"bin ids are not strictly increasing within [0, max_bins={meta['max_bins']})")
    if not np.array_equal(np.repeat(bin_ids, np.diff(offsets)), bins):
        raise _Refused("vector bins do not match the inverted lists' bin ids and offsets")
    if int(arrays["line_pair"].max(initial=0)) >= meta["k1"] ** 2:
        raise _Refused(f"line pair codes reach {int(arrays['line_pair'].max())}, but k1={meta['k1']} allows "
                       f"codes below {meta['k1'] ** 2}")
    for name in ("level1", "level2", "vectors"):
        if name in arrays and not np.isfinite(arrays[name]).all():
            raise _Refused(f"member {name} holds NaN or infinity")


def read_index(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(metadata, arrays) of the index file at ``path``, checked as the module docstring says."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
            if "meta" not in infos:
                raise _Refused("not an mf PQT index (no metadata)")
            size = path.stat().st_size
            for name, info in infos.items():
                if info.compress_type != zipfile.ZIP_STORED or info.file_size > size:
                    raise _Refused(f"member {name} is compressed or larger than the file (mf writes neither)")
            headers = {name: _header(archive, info) for name, info in infos.items()}
            meta_shape, meta_dtype, _ = headers["meta"]
            if meta_dtype != np.uint8 or len(meta_shape) != 1 or meta_shape[0] > _MAX_META_BYTES:
                raise _Refused("metadata member is not a short byte string")
            meta = _meta(_read(archive, infos["meta"], headers["meta"]))
            expected = _expected(meta, {name: header[0] for name, header in headers.items()})
            if set(infos) != set(expected) | {"meta"}:
                missing, extra = set(expected) - set(infos), set(infos) - set(expected) - {"meta"}
                raise _Refused("members " + "; ".join(
                    part for part in (f"missing: {', '.join(sorted(missing))}" if missing else "",
                                      f"unexpected: {', '.join(sorted(extra))}" if extra else "") if part))
            for name, (dtype, shape) in expected.items():
                if headers[name][1] != np.dtype(dtype) or headers[name][0] != shape:
                    raise _Refused(f"member {name} is {headers[name][0]} of {headers[name][1]}, expected {shape} "
                                   f"of {np.dtype(dtype)}")
            arrays = {name: _read(archive, infos[name], headers[name]) for name in expected}
    except _Refused as exc:
        raise InputError(f"{path}: not a usable PQT index: {exc}") from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise InputError(f"{path}: corrupt or truncated index file ({exc})") from exc
    try:
        _check_contents(meta, arrays)
    except _Refused as exc:
        raise InputError(f"{path}: not a usable PQT index: {exc}") from exc
    return meta, arrays


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, header: tuple[tuple[int, ...], np.dtype, int]) -> np.ndarray:
    """The member's array; zipfile checks its CRC as the last byte is read."""
    shape, dtype, start = header
    data = bytearray(info.file_size - start)  # writable, so arrays can go to any device without a copy
    with archive.open(info) as f:
        f.seek(start)
        if f.readinto(data) != len(data) or f.read(1):
            raise _Refused(f"member {info.filename} is shorter or longer than its header says")
    return np.frombuffer(data, dtype=dtype).reshape(shape)
