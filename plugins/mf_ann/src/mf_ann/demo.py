"""The ann section of ``mf demo``: the PQT beside brute force on real SIFT descriptors.

A small set (50,000 base descriptors of the bundled photographs, 500 queries from
held-out ones) keeps the demo to seconds; ``mf bench ann`` is the full-size
comparison with FAISS and hnswlib.
"""

from __future__ import annotations

import time
from pathlib import Path

from mfcore import DemoSection, RunContext
from mfcore.kit import table

from . import datasets
from .commands import recall_at
from .index import PQTIndex

BASE, QUERIES = 50_000, 500
#: (label, search settings) on one p=2, k1=16, k2=8, w=8, P_line=16 index.
SETTINGS = (
    ("line re-ranking, 1024 candidates", {"candidates": 1024, "rerank": "line"}),
    ("exact re-ranking, 1024 candidates", {"candidates": 1024, "rerank": "exact"}),
    ("exact re-ranking, 4096 candidates", {"candidates": 4096, "rerank": "exact"}),
    ("exact, 4096 candidates, priority-queue bins", {"candidates": 4096, "rerank": "exact", "proposal": "queue",
                                                     "bins": 16384}),
)


def demo(ctx: RunContext, folder: Path) -> DemoSection:
    """Index SIFT descriptors of bundled photographs with a PQT and score its searches against brute force."""
    vectors = datasets.sift(BASE, QUERIES, seed=ctx.seed)
    base, queries = vectors.base, vectors.queries
    truth = datasets.ground_truth(base, queries, 10)
    start = time.perf_counter()
    index = PQTIndex(parts=2, k1=16, k2=8, w=8, line_parts=16).train(base, seed=ctx.seed)
    index.add(base)
    build = time.perf_counter() - start
    xq = ctx.backend.asarray(queries)
    metrics, rows = {}, []
    for label, params in SETTINGS:
        if params.get("proposal") == "queue" and ctx.backend.name != "numpy":
            continue  # the priority queue runs on the compiled CPU path only
        index.search(xq[:4], k=10, **params)  # compilation and device upload outside the timing
        start = time.perf_counter()
        ids = ctx.backend.to_numpy(index.search(xq, k=10, **params)[1])
        seconds = time.perf_counter() - start
        recalls = recall_at(ids, truth, (1, 10))
        metrics[label] = {**{k: round(v, 3) for k, v in recalls.items()}, "QPS": round(len(queries) / seconds, 1)}
        rows.append((label, recalls["R@1"], recalls["R@10"], round(len(queries) / seconds)))
    html = (f"<p>{len(base):,} SIFT descriptors (OpenCV) of the photographs bundled with scikit-image and "
            f"scikit-learn, {len(queries)} queries from other photographs; exact neighbours by brute force. "
            f"Product Quantization Tree p=2, k1=16, k2=8, w=8, P_line=16, built in {build:.1f} s, searched on "
            f"the <b>{ctx.backend.name}</b> backend. R@k: the true nearest neighbour is among the first k. "
            "Full-size comparison with FAISS and hnswlib: <code>mf bench ann</code>.</p>"
            + table(("search", "R@1", "R@10", "queries/s"), rows))
    return DemoSection("Nearest-neighbour search (PQT)", html, metrics)
