"""The RDN's shipped weights, and loading them (or yours) with one-line errors (via mfcore.kit.keras_models)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mfcore import RunContext
from mfcore.kit import card_width, load_network

#: The weights shipped inside the plugin, and their card.
SHIPPED = Path(__file__).parent / "weights" / "rdn.weights.h5"
TRAIN_COMMAND = "mf train deblur"


def load_rdn(ctx: RunContext | None = None, weights: Path = SHIPPED) -> tuple[Any, dict[str, Any]]:
    """Build the RDN described by the weights' card and load the weights; return (model, card).

    ``ctx=None`` (library use) runs Keras on PyTorch when installed, else TensorFlow.
    """

    def build(card: dict[str, Any]) -> Any:
        from .rdn import build_rdn

        return build_rdn(card_width(card, weights))

    return load_network(ctx, weights, build, "RDN", TRAIN_COMMAND, "or use --method fba")
