"""Model specifications: Keras 3 models a plugin ships with trained weights."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ModelSpec:
    """A Keras model builder and the ``.weights.h5`` file packaged with the plugin.

    ``build()`` must only use Keras layers and ``keras.ops`` so that the same weights
    load under every Keras backend; ``train_command`` is the ``mf`` command line that
    re-creates ``weights`` from scratch.
    """

    task: str
    name: str
    summary: str
    build: Callable[[], Any]
    weights: Path
    train_command: str

    @property
    def has_weights(self) -> bool:
        return self.weights.is_file()
