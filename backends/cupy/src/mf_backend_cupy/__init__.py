"""CuPy backend: array code on an NVIDIA GPU.

Listed as unavailable, with the reason, when CuPy is not installed or no CUDA
device is usable; it never crashes the command line on a CPU-only machine.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

from mfcore import Availability, Backend


def _cupy_distribution() -> str:
    import importlib.metadata

    for dist in ("cupy-cuda13x", "cupy-cuda12x", "cupy-cuda11x", "cupy"):
        try:
            importlib.metadata.version(dist)
            return dist
        except importlib.metadata.PackageNotFoundError:
            continue
    return "cupy"


class CupyBackend(Backend):
    name = "cupy"
    package = "cupy"
    keras_backend = None  # Keras has no CuPy backend; models use torch or tensorflow

    def __init__(self) -> None:
        self.package = _cupy_distribution()

    def is_available(self) -> Availability:
        if importlib.util.find_spec("cupy") is None:
            return Availability(False, "CuPy is not installed (pip install 'mf-backend-cupy[cuda12]')")
        try:
            import cupy

            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # CUDARuntimeError, missing driver library, ...
            return Availability(False, f"no usable CUDA device ({type(exc).__name__}: {exc})".splitlines()[0])
        if count < 1:
            return Availability(False, "no CUDA device found")
        return Availability(True)

    def namespace(self) -> Any:
        import array_api_compat.cupy

        return array_api_compat.cupy

    def device(self) -> str:
        import cupy

        return f"cuda:{cupy.cuda.Device().id}"

    def asarray(self, array: np.ndarray) -> Any:
        import cupy

        return cupy.asarray(array)

    def to_numpy(self, array: Any) -> np.ndarray:
        import cupy

        return cupy.asnumpy(array)

    def seed(self, seed: int) -> None:
        super().seed(seed)
        import cupy

        cupy.random.seed(seed)
