"""Model specifications: the Keras 3 networks plugins ship with trained weights (the ``mf_models`` hook).

Every network is loaded through one place, :func:`mfcore.kit.load_model`, from
its spec: the JSON card beside the weights describes the architecture, ``build``
makes it, and the weights are loaded with one-line errors. ``mf models list``
shows every shipped network with its card, and ``mf models verify`` loads each
one, so a broken or missing weights file is found before a run needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ModelSpec:
    """A Keras network and the ``.weights.h5`` file packaged with the plugin.

    ``build(card, weights)`` makes the architecture the card (a dict) describes; it
    must only use Keras layers and ``keras.ops`` so that the same weights load under
    every Keras backend, and import Keras inside the function (Keras reads its
    backend once, when first imported). ``train_command`` re-creates ``weights`` from
    scratch; ``fallback`` ends the error when no Keras backend is installed (e.g.
    "or use --method fba"); ``title`` names the network in messages.
    """

    task: str
    name: str
    title: str
    summary: str
    build: Callable[[Mapping[str, Any], Path], Any]
    weights: Path
    train_command: str
    fallback: str = ""

    @property
    def has_weights(self) -> bool:
        return self.weights.is_file()
