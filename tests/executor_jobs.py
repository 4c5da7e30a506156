"""Module-level work for the executor and shard tests (task processes are spawned, so it must import)."""

import os
import time
from pathlib import Path

import numpy as np


def square(x: int) -> int:
    return x * x


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three is not allowed")
    return x


def sleep_and_tell(item: tuple[int, str]) -> int:
    """Write this process's pid, then sleep far longer than any test: only a kill ends it."""
    x, folder = item
    if x == 0:
        return x
    (Path(folder) / f"pid-{x}").write_text(str(os.getpid()))
    time.sleep(120)
    return x


def noise(rng: np.random.Generator, size: int = 6) -> dict[str, np.ndarray]:
    """A cheap sample generator."""
    return {"x": rng.normal(size=(size, size)).astype(np.float32), "k": np.int64(rng.integers(1000))}


def noise_failing_late(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fails on roughly one sample in five: a shard of a few samples is sure to meet one."""
    sample = noise(rng)
    if sample["k"] % 5 == 0:
        raise ValueError("generator bug")
    return sample


def die_always_held(held: int, arg: object) -> int:
    """A question that kills the holder every time it is asked."""
    from mfcore.testing import die_always

    return die_always(held)
