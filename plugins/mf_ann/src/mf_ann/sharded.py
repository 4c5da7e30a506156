"""Sharded PQT indexes: one trained tree, vectors added shard by shard in parallel, queries fanned out, top k merged.

A sharded index is a folder::

    manifest.json          the tree's settings, dimension, count; per shard its file, first id and count
    shard-00000.npz ...    ordinary index files (the format of ``mf ann build``), all on one trained tree

The tree is trained once, on a sample, in the process that builds; each shard
is then one task of an executor (``mfcore.Executor``: local processes or Ray),
which encodes its run of vectors with that tree and writes its file. ``mf ann
add`` encodes more vectors into new shards with the same tree.

**Same neighbours as one index.** A search (:class:`ShardedIndex`) sends the
queries to the workers holding the shards and merges their answers. A budget of
vectors cannot be split over shards without changing the answer (how many of a
bin's vectors one shard holds depends on how vectors fall into shards), but a
budget of bins can: which bins a query proposes, and in which order, depends on
the tree and the query only. So each shard takes *every* vector of the first
``bins`` proposed bins (like an IVF index's nprobe), re-ranks them by line
quantization and returns its best ``keep`` (``k``, or ``refine`` for exact
re-ranking) with their exact distances. The merge keeps the best ``keep`` of all
shards by line distance and, for exact re-ranking, orders those by exact
distance. Each shard's share of the global best ``keep`` is within its own best
``keep``, so this is exactly what one index over all vectors returns with the
same tree when it takes every vector of those bins (tested against one index
and brute force).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mfcore import InputError, Pool, atomic_folder, atomic_path
from mfcore.data import read_json_file, shard_ranges

from .compiled import limited_threads
from .index import PQTIndex, load
from .vecs import read_vecs

MANIFEST = "manifest.json"
FORMAT = "mf-ann-shards"
FORMAT_VERSION = 1
_SHARD_NAME = re.compile(r"shard-\d{5,}\.npz")


def is_sharded(path: Path) -> bool:
    """Whether ``path`` names a sharded index (a folder) rather than an index file."""
    return path.is_dir()


@dataclass(frozen=True)
class BuildJob:
    """One shard to encode and write: a picklable unit of work for any executor."""

    tree: PQTIndex  # trained, empty
    base: str
    start: int
    stop: int
    id_offset: int  # the id of the base file's first vector
    path: str
    batch: int


def build_shard(job: BuildJob) -> dict[str, Any]:
    """Encode ``base[start:stop]`` with the tree, ids ``id_offset + position``, and write the shard file.

    On one core (numba and the BLAS on one thread): the executor's workers are the parallelism, one CPU each, as
    a Ray cluster schedules them; threads in every worker would only fight over the cores.
    """
    index = job.tree.trained_copy()
    vectors = read_vecs(job.base)
    with limited_threads(1):
        for first in range(job.start, job.stop, job.batch):
            last = min(first + job.batch, job.stop)
            index.add(np.asarray(vectors[first:last], dtype=np.float32), ids=job.id_offset + np.arange(first, last))
    index.save(job.path)
    return {"file": Path(job.path).name, "first_id": job.id_offset + job.start, "count": job.stop - job.start,
            "bytes": os.path.getsize(job.path)}


def _settings(index: PQTIndex) -> dict[str, Any]:
    return {"parts": index.tree.parts, "k1": index.tree.k1, "k2": index.tree.k2, "w": index.w,
            "line_parts": index.line_parts, "max_bins": index.max_bins, "keep_vectors": index.keep_vectors}


def _write_manifest(folder: Path, tree: PQTIndex, entries: list[dict[str, Any]], extra: dict[str, Any]) -> None:
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **extra, "dim": tree.dim,
                "settings": _settings(tree), "count": sum(e["count"] for e in entries), "shards": entries}
    with atomic_path(folder / MANIFEST) as path:
        path.write_text(json.dumps(manifest, indent=1))


def _jobs(tree: PQTIndex, base: Path, count: int, shards: int, folder: Path, first_shard: int, id_offset: int,
          batch: int) -> list[BuildJob]:
    empty = tree.trained_copy()  # pickled to every task: the tree without any vectors
    return [BuildJob(empty, str(base.resolve()), start, stop, id_offset,
                     str(folder / f"shard-{first_shard + k:05d}.npz"), batch)
            for k, (start, stop) in enumerate(shard_ranges(count, shards))]


def build_sharded(tree: PQTIndex, base: Path, folder: Path, shards: int, pool: Pool, *, overwrite: bool = False,
                  batch: int = 65536, extra: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Encode every vector of ``base`` with the trained ``tree`` into ``shards`` shard files in ``folder``, one
    task each; yield each shard's entry as it is written. The folder appears only when all are."""
    count = len(read_vecs(base))
    with atomic_folder(folder, MANIFEST, overwrite) as tmp:
        jobs = _jobs(tree, base, count, shards, tmp, 0, 0, batch)
        entries: list[dict[str, Any]] = [{}] * len(jobs)
        for k, entry in pool.map_unordered(build_shard, jobs):
            entries[k] = entry
            yield entry
        _write_manifest(tmp, tree, entries, extra or {})


def add_shards(folder: Path, more: Path, shards: int, pool: Pool, batch: int = 65536) -> Iterator[dict[str, Any]]:
    """Encode the vectors of ``more`` into new shards of the index in ``folder`` (ids continue after its last);
    the manifest is replaced only when every new shard is written, and a failure removes the new files."""
    manifest = read_manifest(folder)
    tree = load(folder / manifest["shards"][0]["file"]).trained_copy()
    vectors = read_vecs(more)
    if vectors.ndim != 2 or vectors.shape[1] != manifest["dim"]:
        raise InputError(f"{more}: vectors of shape {tuple(vectors.shape)}, the index holds dimension "
                         f"{manifest['dim']}")
    last = max(int(e["file"][6:-4]) for e in manifest["shards"])
    jobs = _jobs(tree, more, len(vectors), shards, folder, last + 1, manifest["count"], batch)
    entries: list[dict[str, Any]] = [{}] * len(jobs)
    try:
        for k, entry in pool.map_unordered(build_shard, jobs):
            entries[k] = entry
            yield entry
        extra = {key: value for key, value in manifest.items()
                 if key not in ("format", "format_version", "created", "dim", "settings", "count", "shards")}
        _write_manifest(folder, tree, manifest["shards"] + entries, extra)
    except BaseException:
        for job in jobs:
            Path(job.path).unlink(missing_ok=True)
        raise


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a sharded index, checked for shape and against its shard files' presence."""
    path = folder / MANIFEST
    try:
        manifest = read_json_file(path, InputError)
    except FileNotFoundError:
        raise InputError(f"{folder}: no {MANIFEST} (not a sharded index, or its build never finished)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"{path}: not the manifest of a sharded mf index")
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise InputError(f"{path}: manifest version {manifest.get('format_version')} is newer than this mf reads")
    shards = manifest.get("shards")
    if not isinstance(shards, list) or not shards or not isinstance(manifest.get("dim"), int):
        raise InputError(f"{path}: the manifest lists no shards")
    total = 0
    for k, entry in enumerate(shards):
        ok = (isinstance(entry, dict) and isinstance(entry.get("file"), str)
              and _SHARD_NAME.fullmatch(entry["file"]) is not None and isinstance(entry.get("count"), int)
              and entry["count"] > 0 and isinstance(entry.get("first_id"), int))
        if not ok:
            raise InputError(f"{path}: shard entry {k} is malformed")
        if not (folder / entry["file"]).is_file():
            raise InputError(f"{folder}: shard {entry['file']} is missing")
        total += entry["count"]
    if manifest.get("count") != total:
        raise InputError(f"{path}: the shards hold {total} vectors but the manifest says {manifest.get('count')}")
    return manifest


def load_shard(shard: tuple[str, int]) -> PQTIndex:
    """Load one shard file, checked against the count its manifest gives, ready to search."""
    path, count = shard
    index = load(path)
    if index.ntotal != count:
        raise InputError(f"{path}: holds {index.ntotal} vectors, the manifest says {count}")
    return index


@dataclass(frozen=True)
class SearchRequest:
    """One batch of queries, as every shard is asked it."""

    queries: np.ndarray
    keep: int
    bins: int
    rerank: str | None
    proposal: str
    threads: int


def search_shard(index: PQTIndex, request: SearchRequest) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """(ranking distances, exact distances or None, ids), each (nq, keep): every vector of the first ``bins``
    proposed bins of this shard, its best ``keep`` by line distance (bin distance without re-ranking)."""
    keep = min(request.keep, index.ntotal)
    dist, ids = index.search(request.queries, k=keep, candidates=index.ntotal, bins=request.bins,
                             rerank=None if request.rerank is None else "line", proposal=request.proposal,
                             threads=request.threads)
    with limited_threads(request.threads):
        exact = index.exact_distances(request.queries, ids) if request.rerank == "exact" else None
    return dist, exact, ids


def merge_top(parts: list[tuple[np.ndarray, np.ndarray | None, np.ndarray]], k: int,
              keep: int) -> tuple[np.ndarray, np.ndarray]:
    """The best ``keep`` of every shard's by ranking distance, then (when exact distances came) the best ``k`` of
    those by exact distance: (distances, ids), each (nq, k), ids -1 where fewer were found."""
    ranking = np.concatenate([p[0] for p in parts], axis=1)
    ids = np.concatenate([p[2] for p in parts], axis=1)
    order = np.argsort(ranking, axis=1, kind="stable")[:, :keep]
    dist = np.take_along_axis(ranking, order, axis=1)
    ids = np.take_along_axis(ids, order, axis=1)
    if parts[0][1] is not None:
        exact = np.take_along_axis(np.concatenate([p[1] for p in parts], axis=1), order, axis=1)  # type: ignore[misc]
        order = np.argsort(exact, axis=1, kind="stable")
        dist, ids = np.take_along_axis(exact, order, axis=1), np.take_along_axis(ids, order, axis=1)
    dist, ids = dist[:, :k], ids[:, :k]
    if dist.shape[1] < k:
        pad = k - dist.shape[1]
        dist = np.concatenate([dist, np.full((len(dist), pad), np.inf, np.float32)], axis=1)
        ids = np.concatenate([ids, np.full((len(ids), pad), -1, np.int64)], axis=1)
    return dist.astype(np.float32), np.where(np.isinf(dist), -1, ids).astype(np.int64)


class ShardedIndex:
    """A sharded index held by a pool's workers: each shard loaded once into one of them (a process of ``local``,
    a Ray actor of ``ray``, shard ``s`` on worker ``s % workers``), then searched batch after batch.

    Use as a context manager (or :meth:`close`) so the workers let the shards go.
    """

    def __init__(self, folder: Path, pool: Pool) -> None:
        self.manifest = read_manifest(folder)
        self._holders = pool.hold(load_shard, [(str(folder / e["file"]), e["count"]) for e in self.manifest["shards"]])

    def search(self, queries: np.ndarray, *, k: int = 10, bins: int = 4096, rerank: str | None = "line",
               refine: int = 256, proposal: str = "anisotropic", threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest neighbours of ``queries``: every shard searched on its worker (on ``threads`` CPU
        threads there), the top ``k`` merged."""
        dim, count = self.manifest["dim"], self.manifest["count"]
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.ndim != 2 or queries.shape[1] != dim:
            raise InputError(f"queries have shape {tuple(queries.shape)}, the index expects (n, {dim})")
        if not 1 <= k <= count:
            raise InputError(f"k={k} must be between 1 and the number of indexed vectors ({count})")
        keep = max(refine, k) if rerank == "exact" else k
        parts: list[Any] = [None] * len(self.manifest["shards"])
        for s, part in self._holders.ask(search_shard, SearchRequest(queries, keep, bins, rerank, proposal,
                                                                     threads)):
            parts[s] = part
        return merge_top(parts, k, keep)

    def close(self) -> None:
        self._holders.close()

    def __enter__(self) -> ShardedIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
