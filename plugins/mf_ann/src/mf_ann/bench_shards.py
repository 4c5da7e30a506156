"""``mf bench ann-shards``: a sharded PQT index built and searched on every executor with 1 and 2 workers.

The figures a cluster is sized from (``docs/scale.md``):

* Build: the tree trained once in this process (timed apart), then every
  shard encoded and written as one task (one core each); vectors per second
  from the first shard handed out to the manifest written, after a warm-up
  task per worker (imports, the first numba compilations).
* Search: the shards loaded once into the workers (:class:`ShardedIndex`,
  load time apart), a warm-up batch, then every query searched on every
  shard (one numba thread per worker) and the top k merged; queries per
  second, the candidates each query scanned per shard, and the time per
  candidate on one core. Every run must return the same ids (same tree, same
  bins): the table says so.
* Round trip: one query searched many times, its latency against the batch's
  time per query: what the executor adds to each search call.
* Rates: every shard on one core, for several bin budgets, fitted as a cost
  per shard and query, per bin proposed and per candidate scanned; with the
  bytes per vector, what ``docs/scale.md`` sizes a cluster from.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from scipy.optimize import nnls

from mfcore import Executor, InputError, Pool, RunContext, get_executor, stderr
from mfcore.kit import (
    BenchExecutorsOption,
    BenchWorkersOption,
    add_speedups,
    bench_executors,
    environment,
    positive_ints,
    write_markdown,
)

from .commands import recall_at
from .datasets import set_files
from .index import PQTIndex
from .sharded import BuildJob, ShardedIndex, build_shard, build_sharded
from .vecs import read_vecs, write_vecs

#: Single-query searches timed per run for the round trip.
ROUND_TRIPS = 20
#: Every timed search: 10 neighbours, the best 256 by line distance re-ranked exactly.
SEARCH = {"k": 10, "rerank": "exact", "refine": 256}


def _warm_up(pool: Pool, tree: PQTIndex, base: Path, folder: Path) -> None:
    """One tiny shard per worker: imports and the encoder's first compilations happen before the timing."""
    jobs = [BuildJob(tree.trained_copy(), str(base), 0, 64, 0, str(folder / f"warm-{k}.npz"), 64)
            for k in range(pool.workers)]
    list(pool.map_unordered(build_shard, jobs))


def _run(executor: Executor, workers: int, tree: PQTIndex, base: Path, count: int, queries: np.ndarray,
         shards: int, bins: int, folder: Path) -> tuple[dict[str, Any], np.ndarray]:
    options = {**SEARCH, "bins": bins}
    started = time.perf_counter()
    with executor.start(workers) as pool:
        _warm_up(pool, tree, base, folder)
        warm = time.perf_counter()
        for _ in build_sharded(tree, base, folder / f"{executor.name}-{workers}", shards, pool):
            pass
        built = time.perf_counter()
        with ShardedIndex(folder / f"{executor.name}-{workers}", pool) as index:
            loaded = time.perf_counter()
            index.search(queries[:8], **options)  # each worker's search kernels compiled before the timing
            searched = time.perf_counter()
            _, ids = index.search(queries, **options)
            search_s = time.perf_counter() - searched
            trips = time.perf_counter()
            for q in range(ROUND_TRIPS):
                index.search(queries[q : q + 1], **options)
            trip_s = (time.perf_counter() - trips) / ROUND_TRIPS
    row = {"executor": executor.name, "workers": workers, "shards": shards, "start_s": round(warm - started, 2),
           "build_s": round(built - warm, 2), "build_vectors_per_s": round(count / (built - warm)),
           "load_s": round(loaded - built, 2), "search_s": round(search_s, 2),
           "qps": round(len(queries) / search_s, 1), "one_query_ms": round(trip_s * 1e3, 2),
           "batch_ms_per_query": round(search_s / len(queries) * 1e3, 3)}
    return row, ids


def _scanned(single: PQTIndex, queries: np.ndarray, bins: int) -> float:
    """Vectors a query scans in all shards together (every vector of its first ``bins`` proposed bins), averaged
    over 200 queries, read off one index over every vector on the same tree."""
    dev = single._on_device(np, None)
    dists, codes = single._traverse(np, dev, queries[:200], None)
    _, counts = single._bin_counts(np, dev, single._propose_bins(np, dists, codes, bins, None)[0], None)
    return float(counts.sum(axis=1).mean())


def _rates(folder: Path, single: PQTIndex, queries: np.ndarray, truth: np.ndarray, shards: int,
           bins: list[int]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per bin budget, the batch time per query with every shard on one worker and one core (local executor),
    the candidates scanned and R@k; and the fit ``ms per query = shards * (a + bins * c) + candidates * b``."""
    rows = []
    with get_executor("local").start(1) as pool, ShardedIndex(folder, pool) as index:
        for budget in bins:
            options = {**SEARCH, "bins": budget}
            index.search(queries[:8], **options)
            start = time.perf_counter()
            _, ids = index.search(queries, **options)
            ms = (time.perf_counter() - start) / len(queries) * 1e3
            recall = recall_at(ids, truth, (1, 10))
            rows.append({"bins": budget, "candidates_per_query": round(_scanned(single, queries, budget)),
                         "ms_per_query_one_core": round(ms, 3), **{k: round(v, 3) for k, v in recall.items()}})
    design = np.array([[shards, shards * r["bins"], r["candidates_per_query"]] for r in rows], np.float64)
    (a, c, b), _ = nnls(design, np.array([r["ms_per_query_one_core"] for r in rows]))  # rates are not negative
    return rows, {"shards": shards, "ms_per_shard_per_query": round(float(a), 4),
                  "us_per_shard_per_bin": round(float(c) * 1e3, 5), "us_per_candidate": round(float(b) * 1e3, 4)}


def bench(
    ctx: RunContext,
    data: Annotated[Path, typer.Option(help="Folder written by `mf ann dataset`.")] = Path("data/ann"),
    dataset: Annotated[str, typer.Option(help="Set name inside --data (sift or gist).")] = "sift",
    base_count: Annotated[int | None, typer.Option("--base", min=1, help="Index the first N base vectors "
                                                   "(default: all).")] = None,
    queries: Annotated[int, typer.Option(min=1, help="Queries to time (the first N of the set).")] = 2000,
    shards: Annotated[int, typer.Option(min=1, help="Shards of the index.")] = 8,
    bins: Annotated[int, typer.Option(min=1, help="Bins each query takes from every shard.")] = 1024,
    rate_bins: Annotated[str, typer.Option(help="Comma-separated bin budgets for the rates (one core, every "
                                           "shard on one worker).")] = "64,256,1024,4096",
    parts: Annotated[int, typer.Option(help="Parts the tree splits a vector into (a power of two).")] = 2,
    k1: Annotated[int, typer.Option(help="Level-1 centroids per part.")] = 16,
    k2: Annotated[int, typer.Option(help="Level-2 centroids per level-1 centroid.")] = 8,
    w: Annotated[int, typer.Option(help="Level-1 clusters traversed per part.")] = 8,
    workers: BenchWorkersOption = "1,2",
    executor: BenchExecutorsOption = None,
    markdown: Annotated[Path | None, typer.Option(help="Also write the tables to this Markdown file.")] = None,
) -> dict[str, Any]:
    """Sharded PQT index: build and search throughput with 1 and 2 workers on each executor, the same ids."""
    files = set_files(data, dataset)
    base = np.ascontiguousarray(read_vecs(files[0])[:base_count], dtype=np.float32)
    q = np.ascontiguousarray(read_vecs(files[1])[:queries], dtype=np.float32)
    chosen = bench_executors(executor)
    counts = positive_ints(workers)
    budgets = positive_ints(rate_bins, "--rate-bins")
    if len(set(budgets)) < 3:
        raise InputError("--rate-bins needs at least three bin budgets: three rates are fitted over them")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="mf-bench-ann-shards-") as tmp:
        folder = Path(tmp)
        base_file = write_vecs(folder / "base.fvecs", base)
        start = time.perf_counter()
        tree = PQTIndex(parts=parts, k1=k1, k2=k2, w=w, line_parts=16).train(base, seed=ctx.seed)
        train_s = time.perf_counter() - start
        reference = None
        for item in chosen:
            for count in counts:
                stderr.print(f"{item.name}: {count} worker(s)")
                row, ids = _run(item, count, tree, base_file, len(base), q, shards, bins, folder)
                reference = ids if reference is None else reference
                row["same_ids_as_first_run"] = bool(np.array_equal(ids, reference))
                rows.append(row)
        single = tree.trained_copy()
        single.add(base)
        truth = np.asarray(read_vecs(files[2])[:queries])
        rates, fit = _rates(folder / f"{chosen[0].name}-{counts[0]}", single, q, truth, shards, budgets)
    add_speedups(rows, "build_vectors_per_s", "build_speedup_over_1")
    add_speedups(rows, "qps", "search_speedup_over_1")
    sizes = single.bytes_per_vector
    fit |= {"vectors": len(base), "dim": int(base.shape[1]), "train_s": round(train_s, 2),
            "bytes_per_vector_index": round(sizes["index"], 1),
            "bytes_per_vector_with_vectors": round(sizes["with_vectors"], 1)}
    command = (f"mf bench ann-shards --data {data} --dataset {dataset}"
               + (f" --base {base_count}" if base_count else "")
               + f" --queries {queries} --shards {shards} --bins {bins} --rate-bins {rate_bins} --parts {parts} "
               + f"--k1 {k1} --k2 {k2} --w {w} "
               + f"--workers {workers} "
               + " ".join(f"-e {e.name}" for e in chosen))
    env = environment(("mf-core", "mf-ann", "numpy", "numba", "ray"))
    if markdown is not None:
        write_markdown(markdown, "Sharded PQT index benchmark", command, env, [
            (f"{dataset}: {len(base)} vectors of dimension {base.shape[1]} in {shards} shards, {len(q)} queries",
             "One tree trained in this process, then per executor and worker count: the build (each shard a task, "
             "one core each; start_s is the pool's start and a warm-up task per worker, kept apart), the shards "
             "loaded into the workers (load_s), a batch of every query (k=10, every vector of the first "
             f"{bins} bins of each shard, exact re-ranking of the best 256 by line distance; one numba thread per "
             "worker), and one query searched alone (one_query_ms: the round trip of a search call). "
             "same_ids_as_first_run: the neighbours are identical whatever the executor and workers.", rows),
            ("Bin budgets", "Every shard on one worker of the local executor, one core: the batch time per query "
             "for each number of bins taken per shard, the candidates each query scans in all shards together "
             "(every vector of its proposed bins; averaged over 200 queries), and R@k against the set's ground "
             "truth.", rates),
            ("Rates", "What a cluster is sized from (docs/scale.md): the non-negative least-squares fit of the "
             "table above, "
             "ms per query on one core = shards x (ms_per_shard_per_query + bins x us_per_shard_per_bin / 1000) "
             "+ candidates x us_per_candidate / 1000: what every shard pays per query (traversal, exact "
             "re-ranking of 256, the call), per bin it proposes, and per candidate scanned (gathering and line "
             "re-ranking); the index's bytes per vector without and with the raw vectors (exact re-ranking needs "
             "them). A rate that the budgets barely vary (candidates where bins hold about one vector) is poorly "
             "determined: read it from a run where it dominates.", [fit]),
        ])
    return {"command": command, **env, "runs": rows, "bin_budgets": rates, "rates": fit}
