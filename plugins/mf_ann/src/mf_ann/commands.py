"""``mf ann build | search | dataset``: the PQT index on the command line."""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from mfcore import (
    AddressOption,
    ExecutorOption,
    ExecutorWorkersOption,
    InputError,
    RunContext,
    check_writable_dir,
    get_executor,
    output_folder,
)
from mfcore.kit import PhaseProgress, step_progress, tracked

from . import datasets
from .index import PQTIndex, load
from .sharded import ShardedIndex, add_shards, build_sharded, is_sharded
from .vecs import read_ids, read_vecs, write_vecs


class Rerank(str, Enum):
    line = "line"
    exact = "exact"
    none = "none"


class Proposal(str, Enum):
    anisotropic = "anisotropic"
    queue = "queue"


class DatasetName(str, Enum):
    sift = "sift"
    gist = "gist"


def build(
    ctx: RunContext,
    base: Annotated[Path, typer.Argument(help="Base vectors (.fvecs, .bvecs, .npy).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Index file to write.")],
    parts: Annotated[int, typer.Option(help="Tree parts (a power of two).")] = 2,
    k1: Annotated[int, typer.Option(help="Level-1 centroids per part.")] = 32,
    k2: Annotated[int, typer.Option(help="Level-2 centroids per level-1 cluster.")] = 16,
    w: Annotated[int, typer.Option(help="Level-1 clusters refined per part at query time.")] = 16,
    line_parts: Annotated[int, typer.Option(help="Line-quantization parts (a multiple of --parts).")] = 16,
    max_bins: Annotated[int, typer.Option(help="Bins after hashing.")] = 1 << 24,
    train_sample: Annotated[int, typer.Option(help="Vectors used to train the codebooks.")] = 100_000,
    iterations: Annotated[int, typer.Option(help="Lloyd iterations per codebook.")] = 20,
    batch: Annotated[int, typer.Option(help="Vectors encoded per wave.")] = 65536,
    keep_vectors: Annotated[bool, typer.Option(help="Store raw vectors for exact re-ranking.")] = True,
    tree: Annotated[Path | None, typer.Option(
        help="Take the trained tree and settings of this index instead of training (shards to `mf ann merge`).")
    ] = None,
    first_id: Annotated[int, typer.Option(help="Id of BASE's first vector (a shard's offset).")] = 0,
    shards: Annotated[int | None, typer.Option(min=1, help="Write N shard files and a manifest into the folder "
                                               "--output, each shard a task of --executor (one tree, trained "
                                               "here).")] = None,
    executor: ExecutorOption = "local",
    workers: ExecutorWorkersOption = 1,
    address: AddressOption = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing sharded index folder.")] = False,
) -> dict[str, Any]:
    """Train a Product Quantization Tree on BASE and index every vector (in one file, or --shards N)."""
    if shards is None:
        check_writable_dir(output)
    elif first_id:
        raise InputError("--first-id numbers one index file's vectors; a sharded index numbers them itself")
    vectors = read_vecs(base)
    start = time.perf_counter()
    if tree is not None:
        index = load(tree).trained_copy()
    else:
        index = PQTIndex(parts, k1, k2, w, line_parts, max_bins, keep_vectors)
        index.train(vectors, sample=train_sample, iterations=iterations, seed=ctx.seed)
    trained = time.perf_counter()
    if shards is not None:
        with get_executor(executor).start(workers, address) as pool:
            entries = list(tracked(build_sharded(index, base, output, shards, pool, overwrite=overwrite,
                                                 batch=batch, extra={"executor": executor}),
                                   "indexing shards", shards, quiet=ctx.json))
        return {"index": str(output), "vectors": sum(e["count"] for e in entries), "dim": index.dim,
                "shards": len(entries), "executor": executor, "workers": workers,
                "train_seconds": round(trained - start, 2), "add_seconds": round(time.perf_counter() - trained, 2),
                "megabytes": round(sum(e["bytes"] for e in entries) / 1e6, 2)}
    elif executor != "local" or address is not None or workers != 1:
        raise InputError("--executor, --workers and --address place the shards of a sharded index: add --shards N")
    with step_progress("indexing", len(vectors), quiet=ctx.json) as progress:
        for first in range(0, len(vectors), batch):
            index.add(vectors[first : first + batch],
                      ids=first_id + np.arange(first, min(first + batch, len(vectors))))
            progress.update(min(first + batch, len(vectors)))
    index.save(output)
    sizes = index.bin_sizes()
    return {"index": str(output), "vectors": index.ntotal, "dim": index.dim,
            "train_seconds": round(trained - start, 2), "add_seconds": round(time.perf_counter() - trained, 2),
            "bins_used": int(len(sizes)), "largest_bin": int(sizes.max()),
            "bytes_per_vector": {k: round(v, 1) for k, v in index.bytes_per_vector.items()}}


def recall_at(ids: np.ndarray, truth: np.ndarray, ks: tuple[int, ...] = (1, 10, 100)) -> dict[str, float]:
    """R@k as in the thesis (and Jégou et al.): the fraction of queries whose true nearest
    neighbour is among the first k results."""
    return {f"R@{k}": float(np.mean((ids[:, :k] == truth[:, :1]).any(axis=1))) for k in ks if k <= ids.shape[1]}


def search(
    ctx: RunContext,
    index_path: Annotated[Path, typer.Argument(metavar="INDEX", help="Index file from `mf ann build`, or a sharded "
                                               "index's folder (`--shards`).")],
    queries: Annotated[Path, typer.Argument(help="Query vectors (.fvecs, .bvecs, .npy).")],
    k: Annotated[int, typer.Option("-k", help="Neighbours per query.")] = 10,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write neighbour ids (.ivecs or .npy).")] = None,
    candidates: Annotated[int, typer.Option(help="Vectors proposed for re-ranking per query.")] = 4096,
    bins: Annotated[int | None, typer.Option(help="Bins proposed per query (default: --candidates).")] = None,
    rerank: Annotated[Rerank, typer.Option(help="Re-ranking: line quantization, exact, or none.")] = Rerank.line,
    refine: Annotated[int, typer.Option(help="With --rerank exact: line-ranked vectors re-scored exactly.")] = 256,
    proposal: Annotated[Proposal, typer.Option(
        help="Bin order: the thesis's precomputed anisotropic one, or an exact priority queue (CPU only).")
    ] = Proposal.anisotropic,
    groundtruth: Annotated[Path | None, typer.Option(help="True neighbours (.ivecs) to report recall.")] = None,
    allow: Annotated[Path | None, typer.Option(
        help="Search only these ids: .ivecs or .npy of ids, or a boolean .npy mask over ids.")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads (default: every core; a sharded index: 1 per "
                                                    "worker, --workers sets the cores).")] = None,
    executor: ExecutorOption = "local",
    workers: ExecutorWorkersOption = 1,
    address: AddressOption = None,
) -> dict[str, Any]:
    """Search the K nearest neighbours of every query, in an index file or a sharded index's folder.

    A sharded index is searched shard by shard on --executor, each shard taking every vector of the first
    --bins proposed bins (default: --candidates), so that the neighbours are those one index over all the
    vectors returns with the same tree and bins; --candidates does not apply there.
    """
    if output is not None:
        check_writable_dir(output)
    q = np.asarray(read_vecs(queries), dtype=np.float32)
    if is_sharded(index_path):
        return _search_sharded(ctx, index_path, q, k, output, bins or candidates, rerank, refine, proposal,
                               groundtruth, allow, threads, executor, workers, address)
    if executor != "local" or address is not None or workers != 1:
        raise InputError("--executor, --workers and --address search the shards of a sharded index (a folder)")
    allowed = read_ids(allow) if allow is not None else None
    index = load(index_path)
    truth = _read_truth(groundtruth, len(q))
    xq = ctx.backend.asarray(q)
    params = {"k": k, "candidates": candidates, "rerank": None if rerank is Rerank.none else rerank.value,
              "bins": bins, "refine": refine, "proposal": proposal.value, "allow": allowed,
              "threads": threads}
    index.search(xq[:1], **params)  # warm-up: device upload, traversal tables
    start = time.perf_counter()
    _, ids = index.search(xq, **params)
    seconds = time.perf_counter() - start
    result: dict[str, Any] = {"queries": len(q), "k": k, "backend": ctx.backend.name, "device": ctx.backend.device()}
    return _report(result, ctx.backend.to_numpy(ids), seconds, truth, output)


def _read_truth(groundtruth: Path | None, queries: int) -> np.ndarray | None:
    """True neighbours (.ivecs), checked against the queries."""
    if groundtruth is None:
        return None
    truth = read_vecs(groundtruth)
    if truth.dtype.kind not in "iu":
        raise InputError(f"{groundtruth}: ground truth must hold integer ids (.ivecs or an integer .npy), "
                         f"not {truth.dtype}")
    if len(truth) != queries:
        raise InputError(f"{groundtruth}: {len(truth)} ground-truth rows for {queries} queries")
    return np.asarray(truth)


def _report(result: dict[str, Any], ids: np.ndarray, seconds: float, truth: np.ndarray | None,
            output: Path | None) -> dict[str, Any]:
    """A search's result: timing, recall against ``truth``, the ids written to ``output``."""
    if output is not None:
        write_vecs(output, ids.astype(np.int32))
    result.update({"seconds": round(seconds, 4), "queries_per_s": round(result["queries"] / seconds, 1)})
    if truth is not None:
        result.update({key: round(value, 4) for key, value in recall_at(ids, truth).items()})
    if output is not None:
        result["output"] = str(output)
    return result


def _search_sharded(ctx: RunContext, folder: Path, q: np.ndarray, k: int, output: Path | None, bins: int,
                    rerank: Rerank, refine: int, proposal: Proposal, groundtruth: Path | None, allow: Path | None,
                    threads: int | None, executor: str, workers: int, address: str | None) -> dict[str, Any]:
    """``mf ann search FOLDER``: the shards loaded into the executor's workers, searched there, the top k merged."""
    if ctx.backend.name != "numpy":
        raise InputError("a sharded index is searched on the CPU by its executor's workers: use --backend numpy")
    if allow is not None:
        raise InputError("--allow is not supported on a sharded index yet: search an index file")
    truth = _read_truth(groundtruth, len(q))
    with get_executor(executor).start(workers, address) as pool:
        start = time.perf_counter()
        with ShardedIndex(folder, pool) as index:
            loaded = time.perf_counter()
            _, ids = index.search(q, k=k, bins=bins, rerank=None if rerank is Rerank.none else rerank.value,
                                  refine=refine, proposal=proposal.value, threads=threads or 1)
            seconds = time.perf_counter() - loaded
    result: dict[str, Any] = {"queries": len(q), "k": k, "backend": "numpy", "device": "cpu", "executor": executor,
                              "workers": workers, "bins": bins, "load_seconds": round(loaded - start, 3)}
    return _report(result, ids, seconds, truth, output)


def add(
    ctx: RunContext,
    index_path: Annotated[Path, typer.Argument(metavar="FOLDER", help="Sharded index from `mf ann build --shards`.")],
    more: Annotated[Path, typer.Argument(help="Vectors to add (.fvecs, .bvecs, .npy); ids continue the index's.")],
    shards: Annotated[int, typer.Option(min=1, help="New shards to split them into.")] = 1,
    executor: ExecutorOption = "local",
    workers: ExecutorWorkersOption = 1,
    address: AddressOption = None,
    batch: Annotated[int, typer.Option(help="Vectors encoded per wave.")] = 65536,
) -> dict[str, Any]:
    """Add vectors to a sharded index as new shards on its trained tree."""
    if not is_sharded(index_path):
        raise InputError(f"{index_path}: not a sharded index folder (add to an index file with `mf ann build "
                         "--tree` and `mf ann merge`)")
    start = time.perf_counter()
    with get_executor(executor).start(workers, address) as pool:
        entries = list(tracked(add_shards(index_path, more, shards, pool, batch=batch), "indexing new shards",
                               shards, quiet=ctx.json))
    return {"index": str(index_path), "added": sum(e["count"] for e in entries), "shards_added": len(entries),
            "first_id": entries[0]["first_id"], "seconds": round(time.perf_counter() - start, 2)}


def remove(
    ctx: RunContext,
    index_path: Annotated[Path, typer.Argument(metavar="INDEX", help="Index file from `mf ann build`.")],
    ids: Annotated[Path, typer.Argument(help="Ids to remove: .ivecs or .npy.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Index file to write (may be INDEX).")],
) -> dict[str, Any]:
    """Remove the vectors with the given ids from an index."""
    check_writable_dir(output)
    drop = read_ids(ids)
    if drop.dtype == np.bool_:
        raise InputError(f"{ids}: give the ids to remove, not a mask")
    index = load(index_path)
    removed = index.remove(drop)
    index.save(output)
    return {"index": str(output), "removed": removed, "vectors": index.ntotal}


def merge(
    ctx: RunContext,
    indexes: Annotated[list[Path], typer.Argument(metavar="INDEX...", help="Indexes sharing one trained tree.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Index file to write.")],
) -> dict[str, Any]:
    """Merge indexes built on one trained tree (shards) into one."""
    check_writable_dir(output)
    if len(indexes) < 2:
        raise InputError("give at least two indexes to merge")
    merged = load(indexes[0])
    for path in indexes[1:]:
        merged.merge(load(path))
    merged.save(output)
    return {"index": str(output), "merged": len(indexes), "vectors": merged.ntotal}


def dataset(
    ctx: RunContext,
    name: Annotated[DatasetName, typer.Argument(help="sift (128-d) or gist (960-d, GIST-like).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the .fvecs/.ivecs files.")],
    base: Annotated[int, typer.Option(help="Base vectors.")] = 1_000_000,
    queries: Annotated[int, typer.Option(help="Query vectors.")] = 10_000,
    gt_k: Annotated[int, typer.Option(help="Ground-truth neighbours per query.")] = 100,
    workers: Annotated[int, typer.Option(help="Processes extracting descriptors.")] = 2,
) -> dict[str, Any]:
    """Build a real vector set from bundled photographs, with exact ground truth."""
    output_folder(output)
    start = time.perf_counter()
    with PhaseProgress([f"{name.value} base descriptors (jobs)", f"{name.value} query descriptors (jobs)"],
                       quiet=ctx.json) as progress:
        vectors = datasets.GENERATORS[name.value](base, queries, seed=ctx.seed, workers=workers, progress=progress)
    with step_progress("ground truth", 1, quiet=ctx.json) as done:
        truth = datasets.ground_truth(vectors.base, vectors.queries, min(gt_k, base))
        done.update(1)
    files = {
        "base": write_vecs(output / f"{name.value}_base.fvecs", vectors.base),
        "queries": write_vecs(output / f"{name.value}_query.fvecs", vectors.queries),
        "groundtruth": write_vecs(output / f"{name.value}_groundtruth.ivecs", truth),
    }
    return {"dataset": name.value, "dim": int(vectors.base.shape[1]), "base": len(vectors.base),
            "queries": len(vectors.queries), "seconds": round(time.perf_counter() - start, 1),
            **{f"{key}_file": str(path) for key, path in files.items()}}
