"""Sharded datasets: N LMDB shard files and a manifest, written in parallel, read as one dataset.

A sharded dataset is a folder::

    manifest.json          generator, parameters, seed, count, and per shard:
                           file, first index, count, CRC32 of its metadata record
    shard-00000.lmdb ...   ordinary dataset files (:mod:`mfcore.data.store`)

Sample ``i`` is drawn with its own generator, seeded by
``SeedSequence(seed, spawn_key=(i,))``, so a dataset depends on its seed and
count only: the same seed gives the same samples whatever the executor, the
number of shards or of workers, and a shard rerun after its worker died makes
the same bytes. (A single-file ``mf synth`` without ``--shards`` seeds each
stream worker instead, and its samples depend on ``--workers``.)

The folder is written under a temporary name beside its final one and renamed
into place only after every shard is written and the manifest is complete: a
failed shard leaves nothing that looks like a dataset. Readers check the
manifest against each shard (count and metadata CRC) before the first read, so
a missing, swapped or rewritten shard is one clear :class:`DatasetError`.

On a cluster, the output folder must be on a file system every node sees.
"""

from __future__ import annotations

import json
import os
import re
import stat
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_folder, atomic_path
from ..errors import DatasetError, InputError, MfError
from ..executor import Pool
from .store import Dataset, DatasetWriter, checked_index

MANIFEST = "manifest.json"
FORMAT = "mf-shards"
FORMAT_VERSION = 1
_SHARD_NAME = re.compile(r"shard-\d{5,}\.lmdb")
_MANIFEST_MAX_BYTES = 64 << 20


def sample_rng(seed: int, index: int) -> np.random.Generator:
    """The generator sample ``index`` of a sharded dataset with ``seed`` is drawn with."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


def metadata_crc(metadata: Mapping[str, Any]) -> int:
    """CRC32 of a shard's metadata record in canonical JSON: what the manifest holds for each shard."""
    return zlib.crc32(json.dumps(metadata, sort_keys=True).encode())


def shard_ranges(count: int, shards: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of each shard: ``count`` items (samples, vectors) in ``shards`` near-equal runs."""
    if not 1 <= shards <= count:
        raise InputError(f"cannot split {count} items into {shards} shards (need 1 <= shards <= count)")
    edges = [count * k // shards for k in range(shards + 1)]
    return list(zip(edges[:-1], edges[1:]))


@dataclass(frozen=True)
class ShardJob:
    """One shard to write: a picklable unit of work for any executor."""

    generator: Callable[[np.random.Generator], Mapping[str, np.ndarray]]
    seed: int
    start: int
    stop: int
    path: str
    metadata: Mapping[str, Any]


def write_shard(job: ShardJob) -> dict[str, Any]:
    """Write one shard file (atomically, like every dataset file); return its manifest entry."""
    path = Path(job.path)
    with DatasetWriter(path, metadata={**job.metadata, "first_index": job.start}) as writer:
        for index in range(job.start, job.stop):
            writer.append(job.generator(sample_rng(job.seed, index)))
    written = Dataset(path, verify=False)
    meta = written.metadata
    written.close()
    return {"file": path.name, "start": job.start, "count": job.stop - job.start,
            "metadata_crc32": metadata_crc(meta), "bytes": path.stat().st_size}


def write_sharded(folder: Path, generator: Callable[[np.random.Generator], Mapping[str, np.ndarray]], *,
                  count: int, shards: int, seed: int, pool: Pool, metadata: Mapping[str, Any],
                  overwrite: bool = False, retries: int = 2) -> Iterator[dict[str, Any]]:
    """Write a sharded dataset into ``folder`` with ``pool``; yield each shard's entry as it is done.

    The folder appears, complete, only when the iteration ends without error.
    """
    ranges = shard_ranges(count, shards)
    with atomic_folder(folder, MANIFEST, overwrite) as tmp:
        jobs = [ShardJob(generator, seed, start, stop, str(tmp / f"shard-{k:05d}.lmdb"), dict(metadata))
                for k, (start, stop) in enumerate(ranges)]
        entries: list[dict[str, Any] | None] = [None] * len(jobs)
        for k, entry in pool.map_unordered(write_shard, jobs, retries=retries):
            entries[k] = entry
            yield entry
        listed = {entry["file"] for entry in entries if entry}
        for leftover in tmp.iterdir():  # the temporary file of an attempt whose worker died
            if leftover.name not in listed:
                leftover.unlink()
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **metadata,
                    "seed": seed, "count": count, "sample_seeds": "SeedSequence(seed, spawn_key=(index,))",
                    "shards": entries}
        with atomic_path(tmp / MANIFEST) as path:
            path.write_text(json.dumps(manifest, indent=1))


def read_json_file(path: Path, error: type[MfError] = DatasetError, max_bytes: int = _MANIFEST_MAX_BYTES) -> Any:
    """A small JSON file mf wrote (a manifest), read only from a regular file and at most ``max_bytes``: a FIFO or
    /dev/zero planted in its place would never end. Other failures are one ``error``; a missing file raises
    ``FileNotFoundError`` for the caller to say what is missing."""
    try:
        with open(path, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise error(f"{path}: not a regular file")
            raw = f.read(max_bytes + 1)
        if len(raw) > max_bytes:
            raise error(f"{path}: larger than any such file mf writes ({max_bytes} bytes)")
        return json.loads(raw)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise error(f"{path}: unreadable ({exc})") from exc


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a sharded dataset, checked for shape (not yet against its shards)."""
    path = folder / MANIFEST
    try:
        manifest = read_json_file(path)
    except FileNotFoundError:
        raise DatasetError(f"{folder}: no {MANIFEST} (not a sharded mf dataset, or its write never finished)")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DatasetError(f"{path}: not an mf shard manifest")
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise DatasetError(f"{path}: manifest version {manifest.get('format_version')} is newer than this mf reads")
    shards = manifest.get("shards")
    if not isinstance(shards, list) or not shards:
        raise DatasetError(f"{path}: the manifest lists no shards")
    start = 0
    for k, entry in enumerate(shards):
        ok = (isinstance(entry, dict) and isinstance(entry.get("file"), str)
              and _SHARD_NAME.fullmatch(entry["file"]) is not None
              and entry.get("start") == start and isinstance(entry.get("count"), int) and entry["count"] > 0
              and isinstance(entry.get("metadata_crc32"), int))
        if not ok:
            raise DatasetError(f"{path}: shard entry {k} is malformed")
        start += entry["count"]
    if manifest.get("count") != start:
        raise DatasetError(f"{path}: the shards hold {start} samples but the manifest says {manifest.get('count')}")
    return manifest


class ShardedDataset(Sequence[dict[str, np.ndarray]]):
    """Read-only random access to a sharded dataset, as one sequence; picklable and fork-safe like :class:`Dataset`."""

    def __init__(self, folder: str | os.PathLike[str], verify: bool = True, readahead: bool = True) -> None:
        self.path = Path(folder)
        manifest = read_manifest(self.path)
        self.shards: list[Dataset] = []
        for entry in manifest["shards"]:
            shard_path = self.path / entry["file"]
            if not shard_path.is_file():
                raise DatasetError(f"{self.path}: shard {entry['file']} is missing")
            shard = Dataset(shard_path, verify=verify, readahead=readahead)
            if len(shard) != entry["count"] or metadata_crc(shard.metadata) != entry["metadata_crc32"]:
                raise DatasetError(f"{shard_path}: does not match the manifest (another shard's or rewritten file)")
            self.shards.append(shard)
        self.metadata = {k: v for k, v in manifest.items() if k != "shards"}
        self.metadata["shapes"] = self.shards[0].metadata.get("shapes", {})
        self.metadata["shard_count"] = len(self.shards)
        self._starts = np.array([entry["start"] for entry in manifest["shards"]], dtype=np.int64)
        self._count = int(manifest["count"])

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:  # type: ignore[override]
        index = checked_index(index, self._count)
        k = int(np.searchsorted(self._starts, index, side="right")) - 1
        return self.shards[k][int(index - self._starts[k])]

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        for shard in self.shards:
            yield from shard

    def close(self) -> None:
        for shard in self.shards:
            shard.close()


def open_dataset(path: str | os.PathLike[str], verify: bool = True,
                 readahead: bool = True) -> Dataset | ShardedDataset:
    """A dataset file, or a sharded dataset folder, for reading."""
    path = Path(path)
    if path.is_dir():
        return ShardedDataset(path, verify=verify, readahead=readahead)
    if not path.exists():
        raise DatasetError(f"{path}: no such dataset file or folder")
    return Dataset(path, verify=verify, readahead=readahead)


