"""``mf bench ann``: the PQT beside FAISS, hnswlib and brute force on one real vector set.

Every method searches the same queries of a set made by ``mf ann dataset``,
single-threaded (BLAS, OpenMP and torch limited to one thread; index builds
may use every core, as each library's own default). Reported per method and
setting: R@1, R@10, R@100 (fraction of queries whose true nearest neighbour is
in the first k results, the thesis's definition), queries per second, build
seconds and bytes per vector (the serialised index divided by its size).

Also reproduced from the thesis: the bin-occupancy histogram (table 2.4) of
each PQT configuration, and recall against the number of line-quantization
parts (fig. 2.11). Filtered search: the default PQT and FAISS IVF with an
``IDSelectorBatch`` on random allow-lists of 50 % down to 0.1 % of the ids,
scored against brute force on the allowed vectors.
"""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from mfcore import RunContext, stderr
from mfcore.kit import environment, write_markdown

from .commands import recall_at
from .datasets import ground_truth, set_files
from .index import PQTIndex
from .lines import LineQuantizer
from .orderings import MultiOrderIndex
from .vecs import read_vecs

KS = (1, 10, 100)


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Limit BLAS, OpenMP (FAISS), numba and torch to one thread for the timed searches."""
    from threadpoolctl import threadpool_limits

    restore: list[Callable[[], None]] = []
    with contextlib.suppress(ImportError):
        import faiss

        before = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        restore.append(lambda: faiss.omp_set_num_threads(before))
    with contextlib.suppress(ImportError):
        import numba

        numba_threads = numba.get_num_threads()
        numba.set_num_threads(1)
        restore.append(lambda: numba.set_num_threads(numba_threads))
    with contextlib.suppress(ImportError):
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        restore.append(lambda: torch.set_num_threads(threads))
    try:
        with threadpool_limits(1):
            yield
    finally:
        for undo in restore:
            undo()


def _row(method: str, series: str, knob: str, ids: np.ndarray, truth: np.ndarray, seconds: float, build: float,
         nbytes: float) -> dict[str, Any]:
    """One measured setting; ``series`` names the configuration whose ``knob`` the plot varies."""
    recalls = recall_at(ids, truth, KS)
    return {"method": method, "setting": f"{series} {knob}".strip(), **{k: round(v, 3) for k, v in recalls.items()},
            "QPS": round(len(ids) / seconds, 1), "build s": round(build, 1), "bytes/vector": round(nbytes, 1),
            "series": f"{method}: {series}"}


def _timed(search: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    with single_thread():
        start = time.perf_counter()
        ids = search()
        return ids, time.perf_counter() - start


PQT_CONFIGS = (
    # (parts, k1, k2, w, line_parts), search settings (candidates, rerank, refine, bin proposal); the
    # anisotropic proposal visits `candidates` bins, the priority queue up to 4x as many (empty ones count)
    ((2, 16, 8, 8, 16), ((4096, "line", 0, "anisotropic"), (4096, "exact", 256, "anisotropic"),
                         (16384, "exact", 256, "anisotropic"))),
    ((2, 32, 16, 16, 16), ((4096, "line", 0, "anisotropic"), (16384, "line", 0, "anisotropic"),
                           (4096, "exact", 256, "anisotropic"), (16384, "exact", 256, "anisotropic"),
                           (16384, "line", 0, "queue"), (4096, "exact", 256, "queue"), (8192, "exact", 256, "queue"),
                           (9216, "exact", 256, "queue"), (10240, "exact", 256, "queue"),
                           (12288, "exact", 256, "queue"))),
    ((2, 32, 16, 16, 32), ((16384, "line", 0, "queue"), (32768, "line", 0, "queue"), (10240, "exact", 256, "queue"))),
    ((4, 16, 8, 8, 32), ((4096, "line", 0, "anisotropic"), (4096, "exact", 256, "anisotropic"))),
)
BINS_PER_CANDIDATE = {"anisotropic": 1, "queue": 4}


def _proposal_runs(order: str, ctx: RunContext) -> bool:
    """Whether bin proposal ``order`` runs on the chosen backend: the priority queue is compiled CPU only."""
    return order != "queue" or ctx.backend.name == "numpy"

#: The configuration whose index the filtered-search section searches: PQTIndex's defaults.
FILTERED_CONFIG = (2, 32, 16, 16, 16)
#: Shares of the ids an allow-list admits, and the settings searched with each.
SELECTIVITIES = (0.5, 0.1, 0.01, 0.001)
FILTERED_PQT = ((4096, "anisotropic"), (16384, "anisotropic"), (10240, "queue"))
FILTERED_FAISS = (("PQ16,RFlat", (32, 128)), ("PQ32x4fs,RFlat", (32, 128)))
#: Settings timed on one thread and on every core: PQT's (candidates, proposal), FAISS's nprobe.
THREADED_PQT = ((9216, "queue"), (16384, "anisotropic"))
THREADED_NPROBE = 48
#: p=4 proposes this many bins: most of the (k1*k2)^4 combinations near a query are empty.
WIDE_BINS = 65536


def _pqt_rows(base: np.ndarray, queries: np.ndarray, truth: np.ndarray, ctx: RunContext,
              configs: tuple = PQT_CONFIGS) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]],
                                                     PQTIndex | None]:
    """Rows per configuration and setting, bin occupancy, bin proposal, and the index of FILTERED_CONFIG."""
    rows, occupancy, proposal, kept = [], [], [], None
    for config, settings in configs:
        parts, k1, k2, w, line_parts = config
        start = time.perf_counter()
        index = PQTIndex(parts, k1, k2, w, line_parts).train(base, iterations=20, seed=ctx.seed)
        index.add(base)
        if config == FILTERED_CONFIG:
            kept = index
        sizes = index.bin_sizes()
        build = time.perf_counter() - start
        name = f"p={parts} k1={k1} k2={k2} w={w} Pline={line_parts}"
        occupancy.append({"config": name, **_histogram(sizes)})
        proposal += [{"config": name, **row} for row in _proposal_rows(index, queries, truth)]
        xq = ctx.backend.asarray(queries)
        index.search(xq[:8], k=100)  # device upload, compilation and traversal tables outside the timing
        for candidates, rerank, refine, order in settings:
            if not _proposal_runs(order, ctx):
                continue
            bins = WIDE_BINS if parts > 2 else candidates * BINS_PER_CANDIDATE[order]
            ids, seconds = _timed(lambda: ctx.backend.to_numpy(index.search(
                xq, k=100, candidates=candidates, rerank=rerank, refine=refine, bins=bins, proposal=order)[1]))
            per_vector = index.bytes_per_vector["with_vectors" if rerank == "exact" else "index"]
            knob = f"L={candidates}" + (f" bins={bins}" if parts > 2 else "")
            rows.append(_row(f"PQT ({ctx.backend.name})", f"{name} {order} rerank={rerank}", knob, ids, truth,
                             seconds, build, per_vector))
            stderr.print(rows[-1])
    return rows, occupancy, proposal, kept


def _filtered_rows(index: PQTIndex, base: np.ndarray, queries: np.ndarray, ctx: RunContext,
                   faiss_indexes: dict[str, Any]) -> list[dict[str, Any]]:
    """R@10 and queries/s with random allow-lists (:data:`SELECTIVITIES`), against brute force on the allowed."""
    xq = ctx.backend.asarray(queries)
    rows = []
    for share in SELECTIVITIES:
        rng = np.random.default_rng([ctx.seed, int(share * 1e6)])
        allowed = np.sort(rng.choice(len(base), size=max(10, int(share * len(base))), replace=False))
        truth = allowed[ground_truth(base[allowed], queries, 1)]

        def row(method: str, setting: str, ids: np.ndarray, seconds: float) -> dict[str, Any]:
            return {"allowed": f"{share:.1%} ({len(allowed)})", "method": method, "setting": setting,
                    "R@1": round(float(np.mean(ids[:, 0] == truth[:, 0])), 3),
                    "R@10": round(float(np.mean((ids[:, :10] == truth).any(axis=1))), 3),
                    "QPS": round(len(ids) / seconds, 1), "only allowed": bool(np.isin(ids[ids >= 0], allowed).all())}

        for candidates, order in FILTERED_PQT:
            if not _proposal_runs(order, ctx):
                continue
            ids, seconds = _timed(lambda: ctx.backend.to_numpy(index.search(
                xq, k=10, candidates=candidates, rerank="exact", proposal=order, allow=allowed)[1]))
            rows.append(row(f"PQT ({ctx.backend.name})", f"{order} rerank=exact L={candidates}", ids, seconds))
            stderr.print(rows[-1])
        for spec, (faiss_index, params, _) in faiss_indexes.items():
            for nprobe in dict(FILTERED_FAISS)[spec.split(",", 1)[1]]:
                search_params = params(nprobe, allowed)  # (parameters, the objects they point to)
                ids, seconds = _timed(lambda: faiss_index.search(queries, 10, params=search_params[0])[1])
                rows.append(row("FAISS", f"{spec} k_factor=4 nprobe={nprobe}", ids, seconds))
                stderr.print(rows[-1])
    return rows


def _thread_rows(index: PQTIndex, queries: np.ndarray, truth: np.ndarray, ctx: RunContext,
                 faiss_indexes: dict[str, Any]) -> list[dict[str, Any]]:
    """Queries/s on one thread and on every core (numba's and OpenMP's default), for PQT and FAISS."""
    import numba

    cores = numba.config.NUMBA_NUM_THREADS
    xq = ctx.backend.asarray(queries)
    searches: dict[tuple[str, str], Callable[[int | None], np.ndarray]] = {}
    for candidates, order in THREADED_PQT:
        if not _proposal_runs(order, ctx):
            continue
        searches[f"PQT ({ctx.backend.name})", f"{order} rerank=exact L={candidates}"] = (
            lambda threads, c=candidates, o=order: ctx.backend.to_numpy(index.search(
                xq, k=100, candidates=c, rerank="exact", proposal=o, threads=threads)[1]))
    for spec, (faiss_index, params, _) in faiss_indexes.items():
        search_params = params(THREADED_NPROBE)
        searches["FAISS", f"{spec} k_factor=4 nprobe={THREADED_NPROBE}"] = (
            lambda threads, i=faiss_index, p=search_params: i.search(queries, 100, params=p[0])[1])
    rows = []
    for (method, setting), search in searches.items():
        ids, one = _timed(lambda: search(1))
        search(None)  # warm the threads
        start = time.perf_counter()
        search(None)
        every = time.perf_counter() - start
        rows.append({"method": method, "setting": setting, "R@10": round(recall_at(ids, truth, (10,))["R@10"], 3),
                     "QPS 1 thread": round(len(ids) / one, 1), f"QPS {cores} threads": round(len(ids) / every, 1),
                     "scaling": round(one / every, 2)})
        stderr.print(rows[-1])
    return rows


def _faiss_refined_indexes(base: np.ndarray) -> dict[str, tuple[Any, Callable[..., tuple[Any, ...]], float]]:
    """FAISS IVF indexes with exact refinement (:data:`FILTERED_FAISS`) for the filtered and threads sections
    (and their rows in the main table), each with a maker of its search parameters (nprobe, optionally an
    allow-list) and its build seconds."""
    try:
        import faiss
    except ImportError:
        return {}

    def params(nprobe: int, allowed: np.ndarray | None = None) -> tuple[Any, ...]:
        if allowed is None:
            ivf = faiss.SearchParametersIVF(nprobe=nprobe)
            return faiss.IndexRefineSearchParameters(k_factor=4, base_index_params=ivf), ivf
        selector = faiss.IDSelectorBatch(allowed.astype(np.int64))
        ivf = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
        refine = faiss.IndexRefineSearchParameters(k_factor=4, base_index_params=ivf)
        refine.sel = selector
        return refine, selector, ivf  # the SWIG objects the parameters point to must outlive the search

    indexes = {}
    for codes, _ in FILTERED_FAISS:
        spec = f"IVF{_ivf_lists(len(base))},{codes}"
        index, build = _faiss_build(spec, base)
        indexes[spec] = (index, params, build)
    return indexes


def _proposal_rows(index: PQTIndex, queries: np.ndarray, truth: np.ndarray, bins: int = 4096,
                   budgets: tuple[int, ...] = (1024, 4096, 16384, 65536)) -> list[dict[str, Any]]:
    """How early the true nearest neighbour's bin comes in the candidate stream (thesis fig. 2.5).

    For each query: the number of candidates proposed before the bin holding its true nearest
    neighbour, following the precomputed anisotropic order, and following the exhaustive order
    (every combination of the parts' candidate cells sorted by summed distance, what a priority
    queue would yield; two parts only). The fraction of queries whose neighbour's bin starts
    within L candidates bounds the recall reachable with L candidates.
    """
    store = index._finalize()
    dev = index._on_device(np, None)
    position_of = np.empty(int(store["ids"].max()) + 1, np.int64)
    position_of[store["ids"]] = np.arange(len(store["ids"]))
    nn_bins = store["bins"][position_of[truth[:, 0]]]
    q = queries.astype(np.float32)
    dists, codes = index._traverse(np, dev, q, None)
    orders = {"anisotropic heuristic (precomputed)": index._propose_bins(np, dists, codes, bins, None)[0]}
    if index.tree.parts == 2:
        cells = dists[0].shape[1]
        summed = (dists[0][:, :, None] + dists[1][:, None, :]).reshape(len(q), -1)
        ra, rb = np.divmod(np.argsort(summed, axis=1, kind="stable")[:, :bins], cells)
        pairs = np.stack([np.take_along_axis(codes[0], ra, 1), np.take_along_axis(codes[1], rb, 1)], axis=-1)
        orders["exhaustive (sorted sums, priority-queue order)"] = index._bins(pairs)
    rows = []
    for name, bin_ids in orders.items():
        _, counts = index._bin_counts(np, dev, bin_ids, None)
        hit = bin_ids == nn_bins[:, None]
        before = np.take_along_axis(np.cumsum(counts, axis=1) - counts, hit.argmax(axis=1)[:, None], axis=1)[:, 0]
        position = np.where(hit.any(axis=1), before, np.iinfo(np.int64).max)
        rows.append({"bin order": name, **{f"L<={b}": round(float(np.mean(position < b)), 3) for b in budgets}})
    return rows


def _histogram(sizes: np.ndarray) -> dict[str, int]:
    """Bins holding (2^(l-1), 2^l] vectors, as in thesis table 2.4."""
    top = int(np.ceil(np.log2(max(2, sizes.max()))))
    edges = [2**e for e in range(1, top + 1)]
    counts = np.histogram(sizes, bins=[0, *edges])[0]
    return {f"<={edge}": int(c) for edge, c in zip(edges, counts, strict=True)}


def _ivf_lists(n: int) -> int:
    """FAISS IVF lists for n vectors: 4 √n, from 64 to 4096."""
    return max(64, min(4096, int(4 * np.sqrt(n))))


def _faiss_build(spec: str, base: np.ndarray) -> tuple[Any, float]:
    """A FAISS index of ``spec`` trained on a sample of ``base`` (100 per list, at most 200,000) and holding all
    of it, and its build seconds."""
    import faiss

    n, d = base.shape
    train = base[np.random.default_rng(0).choice(n, size=min(n, 100 * _ivf_lists(n), 200_000), replace=False)]
    start = time.perf_counter()
    index = faiss.index_factory(d, spec)
    index.train(train)
    index.add(base)
    return index, time.perf_counter() - start


def _faiss_rows(base: np.ndarray, queries: np.ndarray, truth: np.ndarray,
                built: dict[str, tuple[Any, Any, float]]) -> list[dict[str, Any]]:
    """Rows of every FAISS spec; those in ``built`` (:func:`_faiss_refined_indexes`) are not built again."""
    try:
        import faiss
    except ImportError:
        stderr.print("faiss-cpu is not installed (pip install 'mf-ann[bench]'): FAISS rows skipped")
        return []
    n, d = base.shape
    nlist = _ivf_lists(n)
    specs = {
        f"IVF{nlist},PQ16": ("nprobe", (8, 32, 128)),
        f"IVF{nlist},PQ16,RFlat": ("nprobe", (8, 16, 32, 48, 64, 96, 128)),
        # 4-bit fast-scan: codes blocked so one SIMD register holds a look-up table (the anchor)
        f"IVF{nlist},PQ32x4fs": ("nprobe", (8, 32, 128)),
        f"IVF{nlist},PQ32x4fs,RFlat": ("nprobe", (8, 16, 32, 48, 64, 96, 128)),
        # no raw vectors at PQT line re-ranking's bytes per vector (57 at P_line=16, 105 at 32)
        f"IVF{nlist},PQ32": ("nprobe", (32, 128)),
        f"IVF{nlist},PQ64": ("nprobe", (32, 128)),
        f"IMI2x{int(np.log2(nlist) // 2 + 4)},PQ16": ("nprobe", (64, 256, 1024)),
        "HNSW32": ("efSearch", (64, 128, 256)),
        "Flat": (None, (None,)),
    }
    rows = []
    for spec, (param, values) in specs.items():
        codes = re.search(r"PQ(\d+)", spec)
        if codes and d % int(codes.group(1)):
            continue  # PQ needs sub-vectors of equal length
        if spec in built:
            index, _, build = built[spec]
        else:
            index, build = _faiss_build(spec, base)
        nbytes = len(faiss.serialize_index(index)) / n
        if spec.endswith("RFlat"):
            faiss.downcast_index(index).k_factor = 4  # re-rank 4x100 PQ candidates exactly
        for value in values:
            if param is not None:
                faiss.ParameterSpace().set_index_parameter(index, param, value)
            ids, seconds = _timed(lambda: index.search(queries, 100)[1])
            series = spec + (" k_factor=4" if spec.endswith("RFlat") else "")
            rows.append(_row("FAISS" if spec != "Flat" else "brute force", series, f"{param}={value}" if param else "",
                             ids, truth, seconds, build, nbytes))
            stderr.print(rows[-1])
    return rows


def _hnswlib_rows(base: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> list[dict[str, Any]]:
    try:
        import hnswlib
    except ImportError:
        stderr.print("hnswlib is not installed (pip install 'mf-ann[bench]'): hnswlib rows skipped")
        return []
    n, d = base.shape
    start = time.perf_counter()
    index = hnswlib.Index(space="l2", dim=d)
    index.init_index(max_elements=n, M=16, ef_construction=200, random_seed=0)
    index.add_items(base, np.arange(n))
    build = time.perf_counter() - start
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        index.save_index(f.name)
        nbytes = Path(f.name).stat().st_size / n
    rows = []
    for ef in (64, 128, 256):
        index.set_ef(ef)
        index.set_num_threads(1)
        ids, seconds = _timed(lambda: index.knn_query(queries, k=100)[0])
        rows.append(_row("hnswlib", "M=16", f"ef={ef}", ids.astype(np.int64), truth, seconds, build, nbytes))
        stderr.print(rows[-1])
    return rows


def _line_parts_rows(base: np.ndarray, queries: np.ndarray, truth: np.ndarray, ctx: RunContext) -> list[dict]:
    """Recall of line re-ranking against the number of line parts (thesis fig. 2.11)."""
    tree = PQTIndex(2, 16, 8, 4, 2).train(base, iterations=20, seed=ctx.seed).tree
    rows = []
    for line_parts in (2, 4, 8, 16, 32, 64):
        if base.shape[1] % line_parts:
            continue
        probe = PQTIndex(2, 16, 8, 4, line_parts, keep_vectors=False)
        probe.tree, probe.lines = tree, LineQuantizer(tree.level1, line_parts)  # one tree for every P_line
        probe.add(base)
        ids = probe.search(queries, k=100, candidates=4096, rerank="line")[1]
        sample = base[:: max(1, len(base) // 10_000)]
        distortion = ((probe.lines.decode(*probe.lines.encode(sample)) - sample) ** 2).sum(axis=1)
        rows.append({"P_line": line_parts, "bytes/vector": 3 * line_parts,
                     **{k: round(v, 3) for k, v in recall_at(ids, truth, KS).items()},
                     "min distortion": round(float(distortion.min()), 1),
                     "avg distortion": round(float(distortion.mean()), 1),
                     "max distortion": round(float(distortion.max()), 1)})
    return rows


def _orderings_rows(base: np.ndarray, queries: np.ndarray, truth: np.ndarray, ctx: RunContext,
                    counts: tuple[int, ...] = (1, 2, 4)) -> list[dict[str, Any]]:
    """Recall of n merged axis orderings against the independence prediction 1 - (1 - F)^n (thesis 2.4)."""
    rows, single = [], {}
    for n in counts:
        index = MultiOrderIndex(n, seed=ctx.seed, parts=2, k1=16, k2=8, w=8, line_parts=16)
        index.train(base, iterations=20, seed=ctx.seed)
        index.add(base)
        index.search(queries[:8], k=100)  # inverted lists and bin tables are built once, outside the timing
        ids, seconds = _timed(lambda: index.search(queries, k=100, candidates=4096, rerank="exact")[1])
        recalls = recall_at(ids, truth, (1, 10))
        single = single or recalls
        rows.append({"orderings": n, **{k: round(v, 3) for k, v in recalls.items()},
                     **{f"predicted {k}": round(1 - (1 - single[k]) ** n, 3) for k in recalls},
                     "QPS": round(len(ids) / seconds, 1)})
        stderr.print(rows[-1])
    return rows


def _fastest_at(rows: list[dict[str, Any]], target: float = 0.95) -> list[dict[str, Any]]:
    """Per method and configuration, the fastest measured setting with R@10 >= target."""
    best: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["R@10"] >= target and row["QPS"] > best.get(row["series"], {"QPS": -1.0})["QPS"]:
            best[row["series"]] = row
    return [{"method": r["method"], "setting": r["setting"], "R@10": r["R@10"], "QPS": r["QPS"],
             "bytes/vector": r["bytes/vector"]} for r in sorted(best.values(), key=lambda r: -r["QPS"])]


def _plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    methods: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        methods.setdefault(row["series"], []).append((row["R@10"], row["QPS"]))
    for key, points in methods.items():
        points.sort()
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=key)
    ax.set_xlabel("R@10 (true nearest neighbour in the first 10)")
    ax.set_ylabel("queries per second (1 thread)")
    ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    from mfcore import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def bench(
    ctx: RunContext,
    data: Annotated[Path, typer.Option(help="Folder written by `mf ann dataset`.")] = Path("data/ann"),
    dataset: Annotated[str, typer.Option(help="Set name inside --data (sift or gist).")] = "sift",
    queries: Annotated[int, typer.Option(help="Queries to time (the first N of the set).")] = 2000,
    peers: Annotated[bool, typer.Option(help="Also run FAISS, hnswlib and brute force.")] = True,
    markdown: Annotated[Path | None, typer.Option(help="Write the tables to this Markdown file.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Write the recall-vs-QPS plot to this PNG.")] = None,
) -> dict[str, Any]:
    """PQT against FAISS IVFPQ/IMI/HNSW, hnswlib and brute force on one real vector set."""
    files = set_files(data, dataset)
    base = np.ascontiguousarray(read_vecs(files[0]), dtype=np.float32)
    q = np.ascontiguousarray(read_vecs(files[1])[:queries], dtype=np.float32)
    truth = np.asarray(read_vecs(files[2])[:queries])
    pqt, occupancy, proposal, default_index = _pqt_rows(base, q, truth, ctx)
    faiss_indexes = _faiss_refined_indexes(base) if peers else {}
    filtered, threaded = [], []
    if default_index is not None:
        filtered = _filtered_rows(default_index, base, q, ctx, faiss_indexes)
        threaded = _thread_rows(default_index, q, truth, ctx, faiss_indexes)
    del default_index
    rows = pqt + (_faiss_rows(base, q, truth, faiss_indexes) + _hnswlib_rows(base, q, truth) if peers else [])
    del faiss_indexes
    line_rows = _line_parts_rows(base, q, truth, ctx)
    ordering_rows = _orderings_rows(base, q, truth, ctx)
    fastest = _fastest_at(rows)
    command = f"mf bench ann --data {data} --dataset {dataset} --queries {queries} --backend {ctx.backend.name}"
    env = environment(("mf-core", "mf-ann", "numpy", "torch", "faiss-cpu", "hnswlib"))
    if plot is not None:
        _plot(rows, plot)
    if markdown is not None:
        write_markdown(markdown, f"Nearest-neighbour search benchmark ({dataset})", command, env, [
            (f"{dataset}: {len(base)} base vectors of dimension {base.shape[1]}, {len(q)} queries",
             "Searches single-threaded; R@k = fraction of queries whose true nearest neighbour is among the first "
             "k results." + (f" Plot: `{plot.name}`." if plot else ""),
             [{k: v for k, v in row.items() if k != "series"} for row in rows]),
            ("Fastest setting at R@10 >= 0.95",
             "Per method and configuration, the measured setting with the most queries per second among those "
             "reaching R@10 >= 0.95 (the issue's target for PQT with exact re-ranking).", fastest),
            ("Threads",
             "Queries per second on one thread and on every core of this machine (a batch of queries spread over "
             "numba's threads; FAISS over OpenMP's), 100 neighbours per query.", threaded),
            ("Filtered search (allow-lists)",
             "Random allow-lists admitting a share of the ids; R@k against brute force on the allowed vectors; "
             "10 neighbours per query, single-threaded, the allow-list's set-up inside PQT's timing (it converts "
             "the list per call) and outside FAISS's (IDSelectorBatch made beforehand). PQT: the default index "
             f"(p={FILTERED_CONFIG[0]} k1={FILTERED_CONFIG[1]} k2={FILTERED_CONFIG[2]} w={FILTERED_CONFIG[3]} "
             f"Pline={FILTERED_CONFIG[4]}), exact re-ranking; a list of at most 4 x L vectors is searched "
             "exhaustively. \"only allowed\": no result outside the list.", filtered),
            ("Bin proposal: where the true nearest neighbour's bin starts (thesis fig. 2.5)",
             "Fraction of queries whose nearest neighbour's bin begins within the first L proposed candidates "
             "(4096 bins proposed): an upper bound on R@k with L candidates. The exhaustive order is what a "
             "sequential priority queue would visit.", proposal),
            ("Bin occupancy (thesis table 2.4)", "Number of bins holding up to 2^l vectors (and more than 2^(l-1)).",
             occupancy),
            ("Multiple axis orderings (thesis 2.4)",
             "p=2, k1=16, k2=8, w=8, P_line=16, 4096 candidates, exact re-ranking, per ordering; merged results. "
             "Predicted: 1 - (1 - F)^n from the single ordering's recall F, if the orderings failed independently.",
             ordering_rows),
            ("Recall against line-quantization parts (thesis fig. 2.11)",
             "p=2, k1=16, k2=8, w=4, 4096 candidates, line re-ranking only. Distortion: squared distance "
             "between a base vector and its line-quantised point, over a sample of 10,000 base vectors "
             "(the thesis's table beside fig. 2.11 gives 10509.7 average at P_line = 16 on SIFT1M).", line_rows),
        ])
    return {"command": command, **env, "results": [{k: v for k, v in row.items() if k != "series"} for row in rows],
            "fastest_at_0.95": fastest, "bin_occupancy": occupancy, "bin_proposal": proposal, "filtered": filtered,
            "threads": threaded,
            "line_parts": line_rows,
            "orderings": ordering_rows}
