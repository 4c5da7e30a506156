"""mf hook implementations of the sync plugin (entry point ``sync``)."""

from __future__ import annotations

from mfcore import ModelSpec, Task, hookimpl

from .bench import bench
from .collection import collection
from .commands import run
from .demo import demo
from .model_io import DESCRIPTOR
from .synthesis import synth
from .train import train


@hookimpl
def mf_tasks() -> list[Task]:
    return [Task("sync", "synchronise videos of the same route, learned without annotations",
                 backends=("numpy", "torch", "tensorflow"),
                 commands={"run": run, "synth": synth, "train": train, "bench": bench, "demo": demo},
                 subcommands={"collection": collection})]


@hookimpl
def mf_models() -> list[ModelSpec]:
    return [DESCRIPTOR]
