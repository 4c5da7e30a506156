"""Module-level sample generators for the stream tests (workers are spawned, so they must import)."""

import os
import time

import numpy as np


def counter(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"value": rng.normal(size=(3, 4)).astype(np.float32), "pid": np.int64(os.getpid())}


def failing(rng: np.random.Generator) -> dict[str, np.ndarray]:
    raise ValueError("synthetic failure in generator")


def slow(rng: np.random.Generator) -> dict[str, np.ndarray]:
    time.sleep(0.01)
    return counter(rng)
