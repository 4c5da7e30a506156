"""The RDN's shipped weights and its model spec; loading goes through :func:`mfcore.kit.load_model`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mfcore import ModelSpec, RunContext
from mfcore.kit import card_width, load_model

#: The weights shipped inside the plugin, and their cards: the RDN for videos (each frame restored from its
#: neighbours), and the same network fine-tuned for bursts of one static scene, where it refines FBA's fusion
#: (``--camera --start fba``; see the model card). One set did not serve both: the burst fine-tune lowered
#: 5-frame dynamic clips by 0.4 dB and made 12 frames score below 5.
SHIPPED = Path(__file__).parent / "weights" / "rdn.weights.h5"
SHIPPED_BURST = Path(__file__).parent / "weights" / "rdn_burst.weights.h5"
SHIPPED_FOURIER = Path(__file__).parent / "weights" / "fouriernet.weights.h5"
TRAIN_COMMAND = "mf train deblur"


def _build(card: Mapping[str, Any], weights: Path) -> Any:
    from .network import build_rdn  # imports Keras: only once the backend is chosen

    return build_rdn(card_width(dict(card), weights))


RDN = ModelSpec("deblur", "rdn", "RDN", "Recurrent Deblur Network (thesis 6.3.3)", _build, SHIPPED,
                f"{TRAIN_COMMAND} --preset cpu --backend torch", "or use --method fba")


def _build_fouriernet(card: Mapping[str, Any], weights: Path) -> Any:
    from .fouriernet import build_fouriernet  # imports Keras: only once the backend is chosen

    return build_fouriernet(card_width(dict(card), weights))


FOURIERNET = ModelSpec("deblur", "fouriernet", "FourierNet", "static-burst network with a learnable FBA (thesis 6.2)",
                       _build_fouriernet, SHIPPED_FOURIER,
                       f"{TRAIN_COMMAND} --model fouriernet --preset cpu --backend torch", "or use --method fba")


def load_rdn(ctx: RunContext | None = None, weights: Path = SHIPPED) -> tuple[Any, dict[str, Any]]:
    """Build the RDN described by the weights' card and load the weights; return (model, card).

    ``ctx=None`` (library use) runs Keras on PyTorch when installed, else TensorFlow.
    """
    return load_model(RDN, ctx, weights)


def burst_start(card: Mapping[str, Any]) -> str:
    """What these weights restore a burst from: "fba" (FBA's fusion, then the frames) or "frame" (the
    sharpest frame, then the others); weights trained before the choice existed start from a frame."""
    return str(dict(card.get("config") or {}).get("start", "frame"))
