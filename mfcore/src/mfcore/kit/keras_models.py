"""Keras 3 models of plugins: choosing the Keras backend, and loading weights with one-line errors.

Networks run on Keras 3, which needs PyTorch or TensorFlow underneath. A
``--backend torch|tensorflow`` run uses that one; NumPy and CuPy runs (which
drive the array code) borrow the first installed of the two, so a plugin's
network also runs under the default backend. Every weights file travels with a
JSON card (``name.weights.h5`` → ``name.json``) holding what is needed to
rebuild the architecture (its width multiplier, ...), its training
configuration and its validation scores.

Nothing here imports Keras at module import: ``KERAS_BACKEND`` must be set first.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..backends import all_backends
from ..errors import InputError
from ..model import ModelSpec
from ..quiet_import import quiet_import
from ..task import RunContext


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


def keras_backend_for(ctx: RunContext | None, needed_by: str = "this network", fallback: str = "") -> str:
    """The Keras backend name for this context (None: the one Keras runs on, else any installed); sets
    ``KERAS_BACKEND``.

    ``fallback`` ends the error message when neither PyTorch nor TensorFlow is installed
    (e.g. "or use --method fba").
    """
    if ctx is not None and ctx.keras_backend is not None:
        return ctx.keras_backend  # resolved earlier in this run
    wanted = ctx.backend.keras_backend if ctx is not None else None
    if wanted is None and "keras" in sys.modules:  # no preference: keep the backend Keras already runs on
        wanted = sys.modules["keras"].backend.backend()
    if wanted is None:
        for name in ("torch", "tensorflow"):
            backend = all_backends().get(name)
            if backend is not None and backend.is_available():
                wanted = backend.keras_backend
                break
    if wanted is None:
        raise InputError(f"{needed_by} needs PyTorch or TensorFlow: pip install mf-backend-torch"
                         + (f" ({fallback})" if fallback else ""))
    if "keras" in sys.modules and sys.modules["keras"].backend.backend() != wanted:
        raise InputError(f"Keras is already running on {sys.modules['keras'].backend.backend()} in this process, "
                         f"cannot switch to {wanted}")
    os.environ["KERAS_BACKEND"] = wanted
    if wanted == "tensorflow":
        import_tensorflow_quietly()
    if ctx is not None:
        ctx.keras_backend = wanted
    return wanted


def network_available(ctx: RunContext, weights: Path) -> bool:
    """Whether a shipped network can run here: its weights present and a Keras backend installed."""
    if not weights.is_file():
        return False
    try:
        keras_backend_for(ctx)
    except InputError:
        return False
    return True


def read_card(weights: Path, what: str = "network", train_command: str = "") -> dict[str, Any]:
    """The JSON card beside ``weights``; one-line errors when either is missing or unreadable."""
    card = card_path(weights)
    if not weights.is_file():
        hint = f" (train them with `{train_command}`)" if train_command else ""
        raise InputError(f"{weights}: {what} weights not found{hint}")
    if not card.is_file():
        raise InputError(f"{card}: the model card beside the weights is missing (it describes the architecture)")
    try:
        return json.loads(card.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{card}: not a readable model card ({exc})") from exc


def card_width(card: dict[str, Any], weights: Path) -> float:
    """The width multiplier a card records."""
    try:
        return float(card["width"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{card_path(weights)}: the model card has no valid 'width'") from exc


def load_weights(model: Any, weights: Path, description: str) -> Any:
    """``model.load_weights(weights)``, refusing partial loads; ``description`` names the model in errors."""
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
        raise InputError(f"{weights}: cannot load these weights into {description} "
                         f"(another architecture, or a damaged file): {problem or skipped[0]}")
    return model


@contextlib.contextmanager
def inference_mode() -> Iterator[None]:
    """Run a network forward without recording for gradients (``with inference_mode(): model(x)``).

    Keras layers called eagerly on PyTorch record an autograd graph through every
    trainable weight, holding each activation until the outputs are freed; a
    recurrent network fed frame after frame then keeps every step's activations
    and its memory grows with the number of frames (and it runs several times
    slower). TensorFlow and JAX record nothing outside a gradient tape or
    transformation, so there is nothing to switch off.
    """
    keras = sys.modules.get("keras")
    if keras is not None and keras.backend.backend() == "torch":
        import torch

        with torch.no_grad():
            yield
    else:
        yield


def load_network(ctx: RunContext | None, weights: Path, build: Callable[[dict[str, Any]], Any], what: str,
                 train_command: str = "", fallback: str = "") -> tuple[Any, dict[str, Any]]:
    """Read the card, choose the Keras backend, ``build(card)`` and load the weights: (model, card)."""
    card = read_card(weights, what, train_command)
    keras_backend_for(ctx, f"the {what}", fallback)
    model = build(card)
    return load_weights(model, weights, f"the {what} of width {card_width(card, weights)}"), card


def load_model(spec: ModelSpec, ctx: RunContext | None = None,
               weights: Path | None = None) -> tuple[Any, dict[str, Any]]:
    """The one way networks are loaded: ``spec``'s architecture, built from the card beside ``weights``
    (default: the shipped ones), with the weights loaded; returns (model, card)."""
    path = weights or spec.weights
    return load_network(ctx, path, lambda card: spec.build(card, path), spec.title, spec.train_command,
                        spec.fallback)
