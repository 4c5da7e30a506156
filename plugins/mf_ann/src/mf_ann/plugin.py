"""mf hook implementations of the ann plugin (entry point ``ann``)."""

from __future__ import annotations

from mfcore import Task, hookimpl

from .bench import bench
from .commands import build, dataset, search
from .demo import demo


@hookimpl
def mf_tasks() -> list[Task]:
    return [Task("ann", "approximate nearest-neighbour search with the Product Quantization Tree",
                 backends=("numpy", "torch", "cupy"), commands={"bench": bench, "demo": demo},
                 subcommands={"build": build, "search": search, "dataset": dataset})]
