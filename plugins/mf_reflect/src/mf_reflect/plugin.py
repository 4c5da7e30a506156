"""mf hook implementations of the reflect plugin (entry point ``reflect``)."""

from __future__ import annotations

from mfcore import ModelSpec, Synthesizer, Task, hookimpl

from .bench import bench
from .commands import run
from .demo import demo
from .model_io import SEPARATION
from .synthesis import ANGLES, DR_MAX, reflection_sample
from .train import train

PARAMS = {"size": 128, "angles": list(ANGLES), "dr": True, "edges": 0.3, "free": 0.2, "nrd": 0.5, "shift": 0.5,
          "lcg": True, "dr_max": DR_MAX, "gamma": 2.2, "sensor_model": True, "n": 1.5, "images": None}


@hookimpl
def mf_tasks() -> list[Task]:
    return [Task("reflect", "reflection and transmission through glass from polarisation images",
                 backends=("numpy", "torch", "tensorflow"),
                 commands={"run": run, "bench": bench, "demo": demo, "train": train})]


@hookimpl
def mf_synthesizers() -> list[Synthesizer]:
    return [Synthesizer("reflect", "triple", "polarisation triples from two photographs: DR, edges, NRD, panes "
                        "(perspective, curved), eq. 5.2, sensor noise", reflection_sample, PARAMS)]


@hookimpl
def mf_models() -> list[ModelSpec]:
    return [SEPARATION]
