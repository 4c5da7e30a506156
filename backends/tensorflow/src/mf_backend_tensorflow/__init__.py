"""TensorFlow backend: drives Keras 3 models on TensorFlow.

TensorFlow has no array-API namespace (array-api-compat covers NumPy, CuPy and
PyTorch), so array algorithms such as FBA do not list this backend; the
namespace it offers for pre- and post-processing is NumPy on the host.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import numpy as np

from mfcore import Availability, Backend, quiet_import


def _import_tensorflow() -> Any:
    """Import TensorFlow without its C++ start-up chatter on stderr (unless the user set a level)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return quiet_import("tensorflow")


class TensorflowBackend(Backend):
    name = "tensorflow"
    package = "tensorflow"
    keras_backend = "tensorflow"

    def is_available(self) -> Availability:
        if importlib.util.find_spec("tensorflow") is None:
            return Availability(False, "TensorFlow is not installed (pip install 'mf-backend-tensorflow[cpu]')")
        if importlib.util.find_spec("keras") is None:
            return Availability(False, "Keras 3 is not installed (pip install keras)")
        return Availability(True)

    def version(self) -> str | None:
        return super().version() or self._version_of("tensorflow-cpu")

    @staticmethod
    def _version_of(dist: str) -> str | None:
        import importlib.metadata

        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None

    def namespace(self) -> Any:
        import array_api_compat.numpy

        return array_api_compat.numpy

    def device(self) -> str:
        tf = _import_tensorflow()

        gpus = tf.config.list_physical_devices("GPU")
        return "gpu:0" if gpus else "cpu"

    def asarray(self, array: np.ndarray) -> Any:
        tf = _import_tensorflow()

        return tf.convert_to_tensor(array)

    def to_numpy(self, array: Any) -> np.ndarray:
        return np.asarray(array)

    def seed(self, seed: int) -> None:
        super().seed(seed)
        tf = _import_tensorflow()

        tf.random.set_seed(seed)
