"""The compute-backend contract.

A backend tells numerical code which array namespace to use (via
``array-api-compat``, so one definition of an algorithm runs on NumPy, PyTorch
and CuPy), on which device, how to move arrays to and from NumPy, how to seed
its random generators, and which Keras backend drives models on it. Backends
are separate distributions registered under the ``mf.backends`` entry point.
"""

from __future__ import annotations

import importlib.metadata
import os
import random
from abc import ABC, abstractmethod
from typing import Any, NamedTuple

import numpy as np


class Availability(NamedTuple):
    """Whether a backend can run here and, when it cannot, the human reason why."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


class Backend(ABC):
    """One compute backend. Subclasses must be cheap to construct: imports happen lazily."""

    #: Short name used on the command line (``--backend NAME``).
    name: str
    #: The distribution whose version ``mf backends list`` shows (e.g. ``torch``).
    package: str
    #: Value for ``KERAS_BACKEND`` when models run on this backend, or None.
    keras_backend: str | None = None

    @abstractmethod
    def is_available(self) -> Availability:
        """Check, without raising, whether the backend can run on this machine."""

    @abstractmethod
    def namespace(self) -> Any:
        """The array-API namespace for numerical code."""

    @abstractmethod
    def device(self) -> str:
        """The device arrays live on, e.g. ``cpu`` or ``cuda:0``."""

    @abstractmethod
    def asarray(self, array: np.ndarray) -> Any:
        """Move a NumPy array to this backend's device."""

    @abstractmethod
    def to_numpy(self, array: Any) -> np.ndarray:
        """Copy an array of this backend back to host memory as NumPy."""

    def version(self) -> str | None:
        try:
            return importlib.metadata.version(self.package)
        except importlib.metadata.PackageNotFoundError:
            return None

    def seed(self, seed: int) -> None:
        """Seed every random generator this backend's code may draw from."""
        random.seed(seed)
        np.random.seed(seed % 2**32)

    def activate(self, seed: int = 0) -> None:
        """Prepare the process for work on this backend: Keras backend first, then seeds.

        ``KERAS_BACKEND`` must be set before the first ``import keras`` anywhere in the
        process, otherwise Keras falls back to ``~/.keras/keras.json``.
        """
        if self.keras_backend is not None:
            os.environ["KERAS_BACKEND"] = self.keras_backend
        self.seed(seed)
