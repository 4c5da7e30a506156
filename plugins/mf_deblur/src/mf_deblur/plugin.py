"""mf hook implementations of the deblur plugin (entry point ``deblur``)."""

from __future__ import annotations

from mfcore import ModelSpec, Synthesizer, Task, hookimpl

from .bench import bench
from .commands import run
from .demo import demo
from .model_io import FOURIERNET, RDN
from .synthesis.burst import static_sample
from .synthesis.dynamic import dynamic_sample
from .synthesis.kernels import SIZES
from .synthesis.motion_blur import EXPOSURES
from .train import train

COMMON = {"size": 64, "frames": 5, "sizes": list(SIZES), "noise": 0.01, "max_noise": None, "images": None}


@hookimpl
def mf_tasks() -> list[Task]:
    return [Task("deblur", "burst and video deblurring: Recurrent Deblur Network and Fourier Burst Accumulation",
                 backends=("numpy", "torch", "tensorflow", "cupy"),
                 commands={"run": run, "bench": bench, "demo": demo, "train": train})]


@hookimpl
def mf_synthesizers() -> list[Synthesizer]:
    return [
        Synthesizer("deblur", "static", "textured patches of sharp images, each frame shaken by its own GP kernel",
                    static_sample, {**COMMON, "flat_share": 0.0}),
        Synthesizer("deblur", "dynamic", "motion blur from flow-interpolated video (eq. 6.12) plus camera shake",
                    dynamic_sample, {**COMMON, "exposures": list(EXPOSURES), "max_speed": 4.0, "videos": None}),
    ]


@hookimpl
def mf_models() -> list[ModelSpec]:
    return [RDN, FOURIERNET]
