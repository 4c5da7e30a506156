"""mf hook implementations of the ann plugin (entry point ``ann``)."""

from __future__ import annotations

import numpy as np

from mfcore import IndexSpec, Task, hookimpl

from .bench import bench
from .bench_shards import bench as bench_shards
from .commands import add, build, dataset, merge, remove, search
from .demo import demo
from .index import PQTIndex


@hookimpl
def mf_tasks() -> list[Task]:
    return [Task("ann", "approximate nearest-neighbour search with the Product Quantization Tree",
                 backends=("numpy", "torch", "cupy"), commands={"bench": bench, "demo": demo},
                 subcommands={"build": build, "search": search, "add": add, "remove": remove, "merge": merge,
                              "dataset": dataset}),
            Task("ann-shards", "benchmark of sharded PQT indexes on the executors (build and search, 1 and 2 "
                 "workers)", backends=("numpy",), commands={"bench": bench_shards})]


def build_pqt(vectors: np.ndarray) -> PQTIndex:
    """A PQT sized for the set: about eight vectors per level-1 cell (k1 from 4 to 32), k2 = 8, w = min(8, k1),
    so that a few thousand vectors (a collection's coarse frames) still train a sound tree. For large sets
    tuned by hand, build a :class:`PQTIndex` directly (``mf ann build``)."""
    k1 = int(np.clip(np.sqrt(len(vectors) / 8), 4, 32))
    index = PQTIndex(parts=2, k1=k1, k2=8, w=min(8, k1)).train(vectors)
    index.add(vectors)
    return index


@hookimpl
def mf_indexes() -> list[IndexSpec]:
    return [IndexSpec("pqt", "Product Quantization Tree with line-quantization re-ranking (thesis chapter 2)",
                      build_pqt)]
