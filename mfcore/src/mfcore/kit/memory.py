"""Peak memory of one phase of a run, measured in-process, for benchmarks and memory tests.

``resource.getrusage`` only reports the process's lifetime peak, which never
comes down: after a large phase every later phase reads the same. Here a
thread samples the resident set size (psutil, every ``interval`` seconds)
while the phase runs, and reports its peak above the RSS at the start. The
array libraries that do the heavy work (NumPy, PyTorch, OpenCV) release the
GIL inside their kernels, so the sampler keeps running through them; a peak
shorter than the interval can be missed, which is why benchmarks repeat.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psutil


@dataclass
class PeakRss:
    """RSS at the start of the phase and the highest RSS seen during it (bytes)."""

    start: int = 0
    peak: int = 0

    @property
    def growth(self) -> int:
        """How far the phase raised the RSS above where it started (bytes, ≥ 0)."""
        return max(0, self.peak - self.start)


@contextmanager
def peak_rss(interval: float = 0.002) -> Iterator[PeakRss]:
    """``with peak_rss() as m: work()``, then ``m.growth`` is the phase's peak RSS above its start."""
    process = psutil.Process()
    measured = PeakRss(process.memory_info().rss, process.memory_info().rss)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(interval):
            measured.peak = max(measured.peak, process.memory_info().rss)

    sampler = threading.Thread(target=sample, name="mf-peak-rss", daemon=True)
    sampler.start()
    try:
        yield measured
    finally:
        done.set()
        sampler.join()
        measured.peak = max(measured.peak, process.memory_info().rss)
