"""The frame-descriptor network (thesis 4.3.1), defined once in Keras 3.

A ResNet-style encoder (a strided 5×5 stem, four stages of two basic residual
blocks with batch norm, stride 2 between stages), its 4×6 feature map (with
``grid=2`` averaged to 2×3), and a dense projection of the grid to a
``dim``-dimensional descriptor on the unit sphere, so
that the Euclidean distance of eq. 4.1 lies in [0, 2] and the triplet margin of
0.5 means the same thing at every training stage. The thesis starts from an
ImageNet-trained ResNet-50 and 1000-d descriptors; with no downloads allowed,
this network starts from scratch, and ``width`` scales its filters so that a
narrow variant trains on a CPU.

The grid keeps the layout of the view (which façade is on the left, what is
ahead), which tells places of one street apart; global average pooling keeps
only which textures are present. In a short first-iteration trial on
validation drives rendered from the training photographs, the grid's nearest
coarse frames were right far more often than global pooling's.

Frames enter as :func:`mf_sync.inputs.prepare` makes them (64×96, [-1, 1]).

Videos are matched on the network's *place features* (:func:`describe_places`),
not on its descriptors: the feature grid the projection reads, square-rooted,
unit-length and projected to 256-d. The projection is the head the triplet
loss trains through; like the projection heads of contrastive learning (Chen
et al. 2020, SimCLR) it specialises in its training task, which here makes a
descriptor the same for frames up to 15 apart and fits the training routes'
looks. The grid before it still tells neighbouring frames apart and recognised
held-out places more often (docs/benchmarks/sync.md keeps a row matched on the
descriptors, as in the thesis). Training's hard negatives still use the
descriptors: they are what the loss sees.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from mfcore.kit import inference_mode

from .inputs import INPUT_SIZE

#: Descriptor dimension.
DIM = 128
#: Rows of the pooled feature grid (columns are 1.5 times as many); the card records it, 2 when it does not.
GRID_ROWS = 2
GRIDS = (2, 4)
#: Triplet margin of eq. 4.2 (the thesis's 0.5).
MARGIN = 0.5
#: Dimension of the place features: a 35-minute video's fill 64 MB in float32 instead of 770 MB for the grid.
PLACE_DIM = 256


def _filters(count: int, width: float) -> int:
    return max(8, int(round(count * width)))


def _block(x: Any, filters: int, stride: int, name: str) -> Any:
    """A basic residual block (two 3×3 convolutions), projected shortcut when the shape changes."""
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_proj")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
    return layers.ReLU()(layers.Add()([y, shortcut]))


@keras.saving.register_keras_serializable(package="mf_sync")
class UnitNorm(layers.Layer):
    """Project descriptors onto the unit sphere."""

    def call(self, x: Any) -> Any:
        return x / ops.sqrt(ops.sum(x * x, axis=-1, keepdims=True) + 1e-12)


def build_network(width: float = 1.0, dim: int = DIM, grid: int = GRID_ROWS) -> keras.Model:
    """Frames (B, 64, 96, 3) in [-1, 1] → unit descriptors (B, dim); the 4×6 map pooled to ``grid`` rows."""
    if grid not in GRIDS:
        raise ValueError(f"grid must be 2 or 4 rows, got {grid}")
    inputs = keras.Input((*INPUT_SIZE, 3), name="frames")
    x = layers.Conv2D(_filters(32, width), 5, strides=2, padding="same", use_bias=False, name="stem")(inputs)
    x = layers.ReLU()(layers.BatchNormalization(name="stem_bn")(x))
    for stage, filters in enumerate((32, 64, 128, 256)):
        for block in range(2):
            stride = 2 if block == 0 and stage > 0 else 1
            x = _block(x, _filters(filters, width), stride, f"s{stage}b{block}")
    if grid == 2:
        x = layers.AveragePooling2D(2, name="grid")(x)  # a 2x3 grid of the 4x6 feature map
    x = layers.Flatten()(x)
    x = layers.Dense(dim, name="projection")(x)
    return keras.Model(inputs, UnitNorm(name="unit")(x), name="sync_descriptor")


def triplet_loss(_: Any, descriptors: Any) -> Any:
    """Eq. 4.2 on a batch stacked as [anchors; positives; negatives]: mean of max(0, m + |a-p|² - |a-n|²)."""
    anchors, positives, negatives = ops.split(descriptors, 3, axis=0)
    close = ops.sum(ops.square(anchors - positives), axis=-1)
    far = ops.sum(ops.square(anchors - negatives), axis=-1)
    return ops.mean(ops.relu(MARGIN + close - far))


def describe(model: keras.Model, frames: np.ndarray, batch: int = 256) -> np.ndarray:
    """Descriptors (N, dim) float32 of prepared frames (N, 64, 96, 3), in inference mode."""
    with inference_mode():
        out = [ops.convert_to_numpy(model(frames[i:i + batch], training=False))
               for i in range(0, len(frames), batch)]
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, model.output_shape[-1]), np.float32)


def grid_network(model: keras.Model) -> keras.Model:
    """The descriptor network cut before its projection: frames → flattened feature grids."""
    return keras.Model(model.input, model.get_layer("projection").input)


@lru_cache(maxsize=4)
def _place_projection(size: int) -> np.ndarray:
    """A fixed Gaussian projection (size, PLACE_DIM): distances survive it (Johnson-Lindenstrauss), memory shrinks."""
    return (np.random.default_rng(0).standard_normal((size, PLACE_DIM)) / np.sqrt(PLACE_DIM)).astype(np.float32)


def place_features(grid: np.ndarray) -> np.ndarray:
    """Unit place features (N, PLACE_DIM) from flattened feature grids (N, size) of ReLU outputs.

    The square root first (power normalisation, as for bag-of-features image retrieval) keeps a few strong
    activations from deciding every distance; chosen over the plain grid on validation drives rendered from
    training photographs.
    """
    root = np.sqrt(np.maximum(grid, 0.0))
    root /= np.linalg.norm(root, axis=1, keepdims=True) + 1e-12
    out = root @ _place_projection(grid.shape[1])
    return (out / (np.linalg.norm(out, axis=1, keepdims=True) + 1e-12)).astype(np.float32)


def describe_places(grids: keras.Model, frames: np.ndarray, batch: int = 256) -> np.ndarray:
    """Place features (N, PLACE_DIM) of prepared frames; ``grids`` is :func:`grid_network` of the network."""
    with inference_mode():
        out = [place_features(ops.convert_to_numpy(grids(frames[i:i + batch], training=False)).astype(np.float32))
               for i in range(0, len(frames), batch)]
    return np.concatenate(out) if out else np.zeros((0, PLACE_DIM), np.float32)
