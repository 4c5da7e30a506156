"""The separation network's shipped weights, and loading them (or yours) with one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mfcore import InputError, RunContext
from mfcore.kit import card_width, load_network

#: The weights shipped inside the plugin, and their card.
SHIPPED = Path(__file__).parent / "weights" / "reflect.weights.h5"
TRAIN_COMMAND = "mf train reflect"


def card_angles(card: dict[str, Any], weights: Path) -> np.ndarray:
    """The polariser angles (radians) the network was trained for."""
    try:
        return np.radians(np.asarray(card["angles_degrees"], dtype=np.float64))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{weights}: the model card has no valid 'angles_degrees'") from exc


def load_separation_net(ctx: RunContext | None = None, weights: Path = SHIPPED) -> tuple[Any, dict[str, Any]]:
    """Build the network described by the weights' card and load the weights: (model, card)."""

    def build(card: dict[str, Any]) -> Any:
        from .network import build_network

        return build_network(card_angles(card, weights), card_width(card, weights))

    return load_network(ctx, weights, build, "separation network", TRAIN_COMMAND,
                        "or use --method schechner")
