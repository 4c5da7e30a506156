"""LMDB dataset files: one file per split, random access by index (thesis 3.2.2).

A dataset is a single LMDB file (``subdir=False``) holding the samples under
8-byte big-endian index keys and one JSON metadata record (generator,
parameters, seed, version, count, shapes). Writers work on a temporary file and
rename it into place only when the metadata record is written, so a crashed or
interrupted write never leaves something that looks like a dataset. Readers
open the file read-only without a lock, lazily in each process (an LMDB
environment must not cross a ``fork``), and refuse truncated or corrupt files
with one clear error. Before LMDB maps a file, its page references are walked
with ordinary reads (:mod:`mfcore.data.lmdb_pages`): a damaged one would otherwise
make LMDB read past the end of the file and the process die of SIGBUS.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import lmdb
import numpy as np

from ..atomic import check_writable_dir, publish, temporary_beside
from ..errors import DatasetError
from . import serialize
from .lmdb_pages import check_pages

META_KEY = b"__mf_meta__"
FORMAT = "mf-lmdb"
FORMAT_VERSION = 1
_BATCH_BYTES = 32 << 20


def _key(index: int) -> bytes:
    return index.to_bytes(8, "big")


def checked_index(index: int, count: int) -> int:
    """``index`` of a sequence of ``count`` samples as a non-negative int (negative ones count from the end)."""
    if not isinstance(index, (int, np.integer)):
        raise TypeError("dataset indices must be integers")
    if index < 0:
        index += count
    if not 0 <= index < count:
        raise IndexError(f"index {index} out of range for a dataset of {count} samples")
    return int(index)


class DatasetWriter:
    """Append samples to a new dataset file; use as a context manager.

    The LMDB map grows by doubling whenever it fills (``MapFullError``), always with
    no transaction open, so callers never size it.
    """

    def __init__(self, path: str | os.PathLike[str], *, metadata: Mapping[str, Any] | None = None,
                 map_size: int = 64 << 20) -> None:
        self.path = Path(path)
        check_writable_dir(self.path)
        self.tmp = temporary_beside(self.path)  # exclusive: a planted symlink cannot redirect the write
        self.metadata = dict(metadata or {})
        self.count = 0
        self.shapes: dict[str, dict[str, object]] | None = None
        self._fixed_shapes = True
        self._next = 0
        self._in_order = True
        self._pending: list[tuple[bytes, bytes]] = []
        self._pending_bytes = 0
        try:
            self._env = lmdb.open(str(self.tmp), subdir=False, map_size=map_size, lock=False, sync=False,
                                  metasync=False, meminit=False, map_async=True)
        except lmdb.Error as exc:
            self.tmp.unlink()
            raise DatasetError(f"cannot write {self.path}: {exc}") from exc
        self._closed = False

    def append(self, sample: Mapping[str, np.ndarray]) -> None:
        """Store ``sample`` at the next index."""
        self.put(self._next, sample)

    def put(self, index: int, sample: Mapping[str, np.ndarray]) -> None:
        """Store ``sample`` at ``index``; indices may arrive in any order but must end up gap-free."""
        shapes = serialize.shapes_of(sample)
        if self.shapes is None:
            self.shapes = shapes
        elif shapes.keys() != self.shapes.keys():
            raise DatasetError(f"sample {index} has keys {sorted(shapes)}, expected {sorted(self.shapes)}")
        elif shapes != self.shapes:
            self._fixed_shapes = False
        record = serialize.encode(sample)
        self._pending.append((_key(index), record))
        self._pending_bytes += len(record)
        self._in_order = self._in_order and index == self._next
        self._next = max(self._next, index + 1)
        self.count += 1
        if self._pending_bytes >= _BATCH_BYTES:
            self._flush()

    def _put_all(self, items: Sequence[tuple[bytes, bytes]], append: bool = True) -> None:
        while True:
            try:
                with self._env.begin(write=True) as txn:
                    for key, value in items:
                        txn.put(key, value, append=append)
                return
            except lmdb.MapFullError:  # the transaction is aborted: safe to grow now
                self._env.set_mapsize(self._env.info()["map_size"] * 2)

    def _flush(self) -> None:
        if self._pending:
            self._put_all(self._pending, append=self._in_order)
            self._pending.clear()
            self._pending_bytes = 0

    def close(self) -> Path:
        """Write the metadata record, sync, and move the file into place; on any failure, :meth:`abort`."""
        try:
            return self._finish()
        except BaseException:
            self.abort()
            raise

    def _finish(self) -> Path:
        self._flush()
        if self.count != self._next:
            raise DatasetError(f"{self.path}: {self.count} samples written but indices reach {self._next - 1}")
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **self.metadata,
            "count": self.count,
            "shapes": self.shapes or {},
            "fixed_shapes": self._fixed_shapes,
        }
        self._put_all([(META_KEY, json.dumps(meta).encode())], append=False)
        self._env.sync(True)
        self._env.close()
        self._closed = True
        publish(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the temporary file; the final name is left as it was."""
        if not self._closed:
            self._env.close()
            self._closed = True
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class Dataset(Sequence[dict[str, np.ndarray]]):
    """Read-only random access to a dataset file; picklable and fork-safe.

    ``verify`` checks each sample's CRC (about half the warm read throughput; see
    ``docs/benchmarks/data.md``). ``readahead`` lets the kernel read around each page
    fault, which makes cold random reads of samples larger than a page an order of
    magnitude faster; turn it off only for files much larger than RAM with small samples.
    """

    def __init__(self, path: str | os.PathLike[str], verify: bool = True, readahead: bool = True) -> None:
        self.path = Path(path)
        self.verify = verify
        self.readahead = readahead
        self._env: lmdb.Environment | None = None
        self._pid = -1
        self._pages_checked = False
        self.metadata = self._read_metadata()
        self._count = int(self.metadata["count"])

    def _open(self) -> lmdb.Environment:
        if self._env is not None and self._pid != os.getpid():
            # Inherited through fork: never use it here. Closing a read-only, lock-free
            # environment only unmaps it, and py-lmdb refuses a second open of the same path.
            self._env.close()
            self._env = None
        if self._env is None:
            if not self.path.is_file():
                raise DatasetError(f"{self.path}: no such dataset file")
            if not self._pages_checked:  # once, in the process that opens it first: workers inherit the verdict
                check_pages(self.path)
                self._pages_checked = True
            try:
                env = lmdb.open(str(self.path), subdir=False, readonly=True, lock=False, readahead=self.readahead,
                                max_readers=512)
                info, stat = env.info(), env.stat()
            except lmdb.Error as exc:
                raise DatasetError(f"{self.path}: not a readable LMDB file ({exc})") from exc
            needed = (info["last_pgno"] + 1) * stat["psize"]
            size = self.path.stat().st_size
            if size < needed:
                env.close()
                raise DatasetError(f"{self.path}: truncated ({size} bytes, the LMDB index needs {needed})")
            self._env, self._pid = env, os.getpid()
        return self._env

    def _read_metadata(self) -> dict[str, Any]:
        env = self._open()
        try:
            with env.begin() as txn:
                raw = txn.get(META_KEY)
        except lmdb.Error as exc:
            raise DatasetError(f"{self.path}: corrupt LMDB file ({exc})") from exc
        if raw is None:
            raise DatasetError(f"{self.path}: no mf metadata record (not an mf dataset, or its write never finished)")
        try:
            meta = json.loads(raw)
        except ValueError as exc:
            raise DatasetError(f"{self.path}: metadata record is corrupt ({exc})") from exc
        if meta.get("format") != FORMAT or meta.get("format_version", 0) > FORMAT_VERSION:
            raise DatasetError(f"{self.path}: unsupported dataset format {meta.get('format')!r} "
                               f"v{meta.get('format_version')}")
        return meta

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:  # type: ignore[override]
        index = checked_index(index, self._count)
        try:
            with self._open().begin(buffers=False) as txn:
                record = txn.get(_key(int(index)))
        except lmdb.Error as exc:
            raise DatasetError(f"{self.path}: corrupt LMDB file ({exc})") from exc
        if record is None:
            raise DatasetError(f"{self.path}: sample {index} is missing (the file is corrupt)")
        try:
            return serialize.decode(record, verify=self.verify)
        except DatasetError as exc:
            raise DatasetError(f"{self.path}: sample {index}: {exc}") from exc

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        for i in range(self._count):
            yield self[i]

    def close(self) -> None:
        if self._env is not None:
            self._env.close()
            self._env = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_env": None, "_pid": -1}
