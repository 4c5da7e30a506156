"""The separation network's shipped weights and its model spec; loading goes through
:func:`mfcore.kit.load_model`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mfcore import InputError, ModelSpec, RunContext
from mfcore.kit import card_width, load_model

from .prior import PRIOR

#: The weights shipped inside the plugin, and their card.
SHIPPED = Path(__file__).parent / "weights" / "reflect.weights.h5"
TRAIN_COMMAND = "mf train reflect"


def card_angles(card: Mapping[str, Any], weights: Path) -> np.ndarray:
    """The polariser angles (radians) the network was trained for."""
    try:
        return np.radians(np.asarray(card["angles_degrees"], dtype=np.float64))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{weights}: the model card has no valid 'angles_degrees'") from exc


def _build(card: Mapping[str, Any], weights: Path) -> Any:
    from .network import build_network  # imports Keras: only once the backend is chosen

    if card.get("channels") != 1 or card.get("prior") != PRIOR:
        raise InputError(f"{weights}: weights of an older network (prior {card.get('prior')!r}, this mf gives "
                         f"{PRIOR!r}); retrain with `{TRAIN_COMMAND}`")

    return build_network(card_angles(card, weights), card_width(dict(card), weights))


SEPARATION = ModelSpec("reflect", "separation", "separation network",
                       "polarisation reflection/transmission separation (thesis 5.2.2)", _build, SHIPPED,
                       f"{TRAIN_COMMAND} --preset cpu --backend torch", "or use --method schechner")


def load_separation_net(ctx: RunContext | None = None, weights: Path = SHIPPED) -> tuple[Any, dict[str, Any]]:
    """Build the network described by the weights' card and load the weights: (model, card)."""
    return load_model(SEPARATION, ctx, weights)
