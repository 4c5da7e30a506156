"""The core's own plugin, registered through the ``mf.plugins`` entry point like any other.

It adds the ``data`` task (``mf bench data``: the data-layer benchmark), the
``scale`` task (``mf bench scale``: the executors' benchmark), the
``data/patches`` generator, a cheap real-image sample generator that exercises
``mf synth`` and the stream without any task plugin installed, and the
``exact`` index type, the brute-force fallback of :func:`mfcore.index_type`.
"""

from __future__ import annotations

import numpy as np

from .. import hookimpl
from ..index import IndexSpec
from ..kit.sample_images import PHOTOS, crop, photo
from ..synthesizer import Sample, Synthesizer
from ..task import Task
from .bench_data import bench
from .bench_scale import bench as bench_scale
from .exact_index import ExactIndex


def patches(rng: np.random.Generator, size: int = 128, noise: float = 0.02) -> Sample:
    """A random, randomly flipped crop of a bundled photo with Gaussian noise, as uint8."""
    label = int(rng.integers(len(PHOTOS)))
    patch = crop(photo(PHOTOS[label]), size, rng)
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    noisy = patch + rng.normal(0.0, noise, patch.shape).astype(np.float32)
    image = (np.clip(noisy, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return {"image": image, "label": np.int64(label)}


@hookimpl
def mf_tasks() -> list[Task]:
    return [Task("data", "benchmarks of the data layer (LMDB store, ZeroMQ stream)", backends=("numpy",),
                 commands={"bench": bench}),
            Task("scale", "benchmarks of the executors (sharded synthesis on local and Ray workers)",
                 backends=("numpy",), commands={"bench": bench_scale})]


@hookimpl
def mf_synthesizers() -> list[Synthesizer]:
    return [Synthesizer("data", "patches", "noisy random crops of scikit-image's bundled photos", patches,
                        {"size": 128, "noise": 0.02})]


@hookimpl
def mf_indexes() -> list[IndexSpec]:
    return [IndexSpec("exact", "brute-force exact search (the core's fallback)", ExactIndex, exact=True)]
