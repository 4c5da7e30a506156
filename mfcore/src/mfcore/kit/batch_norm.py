"""Batch-norm population statistics: recomputing them exactly, and freezing them.

A Keras ``BatchNormalization`` layer keeps an exponential moving average of the
batch statistics it saw in training. With small batches and a momentum that
forgets in a few dozen calls, that average is noisy: it reflects the last few
batches only, so checkpoints a few hundred steps apart score differently. A
recurrent network that reuses one layer at every step (the RDN) makes it worse:
the average mixes the statistics of all steps, and at inference the
activations of later steps drift away from it.

:func:`recalibrate` replaces every moving average by the exact mean over many
batches ("precise BN"); :func:`freeze` then makes the layers normalise with
those statistics in training too, so that fine-tuning optimises exactly the
network that inference runs (Keras runs a non-trainable batch-norm layer in
inference mode, and its scale and offset stay fixed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def batch_norm_layers(model: Any) -> list[Any]:
    """Every ``BatchNormalization`` layer inside ``model``, nested ones included."""
    from keras import layers

    return [layer for layer in model._flatten_layers() if isinstance(layer, layers.BatchNormalization)]


def recalibrate(model: Any, inputs: Iterator[Any], batches: int) -> int:
    """Set every batch-norm layer's moving mean and variance to the mean of its batch statistics.

    ``batches`` inputs are drawn from ``inputs`` and run through ``model(x, training=True)``.
    A layer called several times per batch
    (a recurrent block) averages over every call. Each layer's momentum is set per
    call to 1 - 1/n, so after n calls its moving statistics are the plain mean of
    the n batch statistics; the momentum is restored afterwards. Returns the
    number of calls of the most-called layer.
    """
    if batches < 1:
        raise ValueError(f"recalibrate needs at least one batch, got {batches}")
    norms = [layer for layer in batch_norm_layers(model) if layer.trainable]
    saved = [(layer, layer.momentum, layer.call) for layer in norms]
    calls = {id(layer): 0 for layer in norms}

    def counting(layer: Any, call: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(x: Any, training: Any = None, mask: Any = None) -> Any:
            if training:
                calls[id(layer)] += 1
                layer.momentum = 1.0 - 1.0 / calls[id(layer)]
            return call(x, training=training, mask=mask)
        return wrapped

    try:
        for layer, _, call in saved:
            layer.call = counting(layer, call)
        for _ in range(batches):
            model(next(inputs), training=True)
    finally:
        for layer, momentum, _ in saved:
            layer.momentum = momentum
            del layer.call  # back to the class's method
    return max(calls.values(), default=0)


def freeze(model: Any) -> int:
    """Make every batch-norm layer non-trainable: it normalises with its moving statistics, always.

    Returns how many layers were frozen.
    """
    norms = batch_norm_layers(model)
    for layer in norms:
        layer.trainable = False
    return len(norms)
