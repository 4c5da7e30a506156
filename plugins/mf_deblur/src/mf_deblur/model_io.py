"""Choosing the Keras backend for the RDN, and loading weights with one-line errors.

The network runs on Keras 3, which needs PyTorch or TensorFlow underneath. A
``--backend torch|tensorflow`` run uses that one; NumPy and CuPy runs (which
drive FBA and the array code) borrow the first installed of the two, so
``mf run deblur`` works with the default backend too. The weights file travels
with a JSON card holding the width multiplier, without which the architecture
cannot be rebuilt.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from mfcore.backends import all_backends
from mfcore.errors import InputError
from mfcore.quiet_import import quiet_import
from mfcore.task import RunContext

#: The weights shipped inside the plugin, and their card.
SHIPPED = Path(__file__).parent / "weights" / "rdn.weights.h5"


def card_path(weights: Path) -> Path:
    """``rdn.weights.h5`` → ``rdn.json``."""
    return weights.with_name(weights.name.removesuffix(".weights.h5") + ".json")


def import_tensorflow_quietly() -> None:
    """Import TensorFlow, when installed, without its start-up notices on stderr.

    Keras imports TensorFlow when it runs on it, and also on PyTorch while training
    (its data adapters), so this is called before either.
    """
    if importlib.util.find_spec("tensorflow") is not None:
        with contextlib.suppress(ImportError):
            quiet_import("tensorflow")


def keras_backend_for(ctx: RunContext | None) -> str:
    """The Keras backend name the RDN will run on for this context (None: any); sets KERAS_BACKEND."""
    wanted = ctx.backend.keras_backend if ctx is not None else None
    if wanted is None:
        for name in ("torch", "tensorflow"):
            backend = all_backends().get(name)
            if backend is not None and backend.is_available():
                wanted = backend.keras_backend
                break
    if wanted is None:
        raise InputError("the RDN needs PyTorch or TensorFlow: pip install mf-backend-torch "
                         "(or use --method fba)")
    if "keras" in sys.modules and sys.modules["keras"].backend.backend() != wanted:
        raise InputError(f"Keras is already running on {sys.modules['keras'].backend.backend()} in this process, "
                         f"cannot switch to {wanted}")
    os.environ["KERAS_BACKEND"] = wanted
    if wanted == "tensorflow":
        import_tensorflow_quietly()
    return wanted


def rdn_available(ctx: RunContext, weights: Path = SHIPPED) -> bool:
    """Whether ``--method rdn`` can run here: weights present and a Keras backend installed."""
    if not weights.is_file():
        return False
    try:
        keras_backend_for(ctx)
    except InputError:
        return False
    return True


def read_card(weights: Path) -> dict[str, Any]:
    card = card_path(weights)
    if not weights.is_file():
        raise InputError(f"{weights}: RDN weights not found (train them with `mf train deblur`)")
    if not card.is_file():
        raise InputError(f"{card}: the model card beside the weights is missing (it holds the network width)")
    try:
        return json.loads(card.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{card}: not a readable model card ({exc})") from exc


def load_rdn(ctx: RunContext | None = None, weights: Path = SHIPPED) -> tuple[Any, dict[str, Any]]:
    """Build the RDN described by the weights' card and load the weights; return (model, card).

    ``ctx=None`` (library use) runs Keras on PyTorch when installed, else TensorFlow.
    """
    card = read_card(weights)
    keras_backend_for(ctx)
    from .rdn import build_rdn

    try:
        width = float(card["width"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{card_path(weights)}: the model card has no valid 'width'") from exc
    model = build_rdn(width)
    problem = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(str(weights))
        except Exception as exc:  # h5py and Keras raise many types for a wrong or damaged file
            problem = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # Keras only warns when it skips parts of a file: a half-loaded network must not run silently.
    skipped = [str(w.message) for w in caught if "skipping" in str(w.message).lower()]
    if problem or skipped:
        raise InputError(f"{weights}: cannot load these weights into the RDN of width {width} "
                         f"(another architecture, or a damaged file): {problem or skipped[0]}")
    return model, card
