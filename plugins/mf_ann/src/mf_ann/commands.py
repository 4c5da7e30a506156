"""``mf ann build | search | dataset``: the PQT index on the command line."""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from mfcore import InputError, RunContext, check_writable_dir, output_folder
from mfcore.kit import PhaseProgress, step_progress

from . import datasets
from .index import PQTIndex, load
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
) -> dict[str, Any]:
    """Train a Product Quantization Tree on BASE and index every vector."""
    check_writable_dir(output)
    vectors = read_vecs(base)
    start = time.perf_counter()
    if tree is not None:
        index = load(tree).trained_copy()
    else:
        index = PQTIndex(parts, k1, k2, w, line_parts, max_bins, keep_vectors)
        index.train(vectors, sample=train_sample, iterations=iterations, seed=ctx.seed)
    trained = time.perf_counter()
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
    index_path: Annotated[Path, typer.Argument(metavar="INDEX", help="Index file from `mf ann build`.")],
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
    threads: Annotated[int | None, typer.Option(help="CPU threads (default: every core).")] = None,
) -> dict[str, Any]:
    """Search the K nearest neighbours of every query."""
    if output is not None:
        check_writable_dir(output)
    allowed = read_ids(allow) if allow is not None else None
    index = load(index_path)
    q = np.asarray(read_vecs(queries), dtype=np.float32)
    truth = read_vecs(groundtruth) if groundtruth is not None else None
    if truth is not None and truth.dtype.kind not in "iu":
        raise InputError(f"{groundtruth}: ground truth must hold integer ids (.ivecs or an integer .npy), "
                         f"not {truth.dtype}")
    if truth is not None and len(truth) != len(q):
        raise InputError(f"{groundtruth}: {len(truth)} ground-truth rows for {len(q)} queries")
    xq = ctx.backend.asarray(q)
    params = {"k": k, "candidates": candidates, "rerank": None if rerank is Rerank.none else rerank.value,
              "bins": bins, "refine": refine, "proposal": proposal.value, "allow": allowed,
              "threads": threads}
    index.search(xq[:1], **params)  # warm-up: device upload, traversal tables
    start = time.perf_counter()
    _, ids = index.search(xq, **params)
    seconds = time.perf_counter() - start
    ids = ctx.backend.to_numpy(ids)
    if output is not None:
        write_vecs(output, ids.astype(np.int32))
    result: dict[str, Any] = {"queries": len(q), "k": k, "backend": ctx.backend.name, "device": ctx.backend.device(),
                              "seconds": round(seconds, 4), "queries_per_s": round(len(q) / seconds, 1)}
    if truth is not None:
        result.update({key: round(value, 4) for key, value in recall_at(ids, np.asarray(truth)).items()})
    if output is not None:
        result["output"] = str(output)
    return result


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
