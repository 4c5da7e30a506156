"""NumPy backend: the reference for every array algorithm. Always available, CPU only.

Keras 3's own "numpy" backend imports JAX, so models are not run here: use torch or tensorflow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mfcore import Availability, Backend


class NumpyBackend(Backend):
    name = "numpy"
    package = "numpy"
    keras_backend = None

    def is_available(self) -> Availability:
        return Availability(True)

    def namespace(self) -> Any:
        import array_api_compat.numpy

        return array_api_compat.numpy

    def device(self) -> str:
        return "cpu"

    def asarray(self, array: np.ndarray) -> Any:
        return np.asarray(array)

    def to_numpy(self, array: Any) -> np.ndarray:
        return np.asarray(array)
