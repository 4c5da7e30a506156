"""mf hook implementations of the deblur plugin (entry point ``deblur``)."""

from __future__ import annotations

from mfcore import Synthesizer, Task, hookimpl

from .bench import bench
from .burst import burst_sample
from .commands import demo, run


@hookimpl
def mf_tasks() -> list[Task]:
    return [Task("deblur", "burst deblurring with Fourier Burst Accumulation", backends=("numpy", "torch", "cupy"),
                 commands={"run": run, "bench": bench, "demo": demo})]


@hookimpl
def mf_synthesizers() -> list[Synthesizer]:
    return [Synthesizer("deblur", "burst", "random crops of bundled photos blurred by random camera shake",
                        burst_sample, {"size": 128, "frames": 8, "kernel_size": 17, "noise": 0.01})]
