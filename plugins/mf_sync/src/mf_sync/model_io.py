"""The descriptor network's shipped weights and its model spec; loading goes through
:func:`mfcore.kit.load_model`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mfcore import ModelSpec, RunContext
from mfcore.kit import card_width, load_model

#: The weights shipped inside the plugin, and their card.
SHIPPED = Path(__file__).parent / "weights" / "sync.weights.h5"
TRAIN_COMMAND = "mf train sync"


def _build(card: Mapping[str, Any], weights: Path) -> Any:
    from .network import GRID_ROWS, build_network  # imports Keras: only once the backend is chosen

    return build_network(card_width(dict(card), weights), int(card.get("dim", 128)), int(card.get("grid", GRID_ROWS)))


DESCRIPTOR = ModelSpec("sync", "descriptor", "descriptor network",
                       "place descriptors learned without annotations (thesis 4.3)", _build, SHIPPED,
                       f"{TRAIN_COMMAND} --preset cpu --backend torch", "or use --method seqslam")


def load_descriptor_net(ctx: RunContext | None = None, weights: Path = SHIPPED) -> tuple[Any, dict[str, Any]]:
    """Build the network described by the weights' card and load the weights: (model, card)."""
    return load_model(DESCRIPTOR, ctx, weights)
