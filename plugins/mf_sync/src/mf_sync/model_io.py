"""The descriptor network's shipped weights, and loading them (or yours) with one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mfcore import RunContext
from mfcore.kit import card_width, load_network

#: The weights shipped inside the plugin, and their card.
SHIPPED = Path(__file__).parent / "weights" / "sync.weights.h5"
TRAIN_COMMAND = "mf train sync"


def load_descriptor_net(ctx: RunContext | None = None, weights: Path = SHIPPED) -> tuple[Any, dict[str, Any]]:
    """Build the network described by the weights' card and load the weights: (model, card)."""

    def build(card: dict[str, Any]) -> Any:
        from .network import GRID_ROWS, build_network

        return build_network(card_width(card, weights), int(card.get("dim", 128)), int(card.get("grid", GRID_ROWS)))

    return load_network(ctx, weights, build, "descriptor network", TRAIN_COMMAND, "or use --method seqslam")
