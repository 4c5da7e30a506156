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


class DatasetPicker:
    """Augmentation-style worker: random samples of an LMDB dataset, re-opened in each worker."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __call__(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        index = int(rng.integers(len(self.dataset)))
        sample = self.dataset[index]
        return {"index": np.int64(index), "x": sample["x"][::-1].copy()}


def sleepy(rng: np.random.Generator) -> dict[str, np.ndarray]:
    time.sleep(1.0)
    return counter(rng)


def huge(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"value": np.zeros(1 << 20, np.uint8)}
