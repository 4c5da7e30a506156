"""The Recurrent Deblur Network (thesis section 6.3.3, table 6.1, appendix C), in Keras 3.

One *deblur block* DB improves the current estimate Î(k-1) of the target frame
with one more blurry observation I(-k): Î(k) = DB(Î(k-1), I(-k)). Applying the
same block again and again fuses any number of observations, in any order, and
needs no alignment: the block sees both images and learns what to take.

Inside a block (appendix C, ``deblur_block``):

* every convolution is "ReLU, convolution, batch norm" (the activation sits on the
  convolution's input, as in pre-activation ResNets);
* an encoder of four residual blocks (H/2, H/2, H/4, H/8), the first three of
  which feed U-Net skips into the decoder;
* a decoder of 4x4 transposed convolutions with stride 2: a kernel size that the
  stride divides, so the up-sampling has no checkerboard pattern (appendix A.1);
* the output is a residual added to the current estimate, and the last layer has
  no activation and no normalisation (appendix A.2: squashing or normalising the
  output slows down learning the right mean colour). It starts at zero, so an
  untrained block returns the estimate unchanged instead of noise;
* **temporal skips**: three marked activations of the previous step's block are
  concatenated to this step's and blended back to the same width by a 1x1
  convolution. The first step has no previous block, so its blend layers are
  skipped, exactly as in the thesis.

``width`` multiplies every channel count: 1.0 is the thesis's network; 0.25
trains on a laptop CPU.

Everything is written with Keras layers and ``keras.ops``: the same
``.weights.h5`` runs on the PyTorch and TensorFlow backends.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers, ops

from .inference import MULTIPLE


def _channels(base: int, width: float) -> int:
    return max(4, int(round(base * width)))


class ReluConv(layers.Layer):
    """ReLU on the input, then a convolution, then (optionally) batch norm."""

    def __init__(self, filters: int, size: int = 3, stride: int = 1, transpose: bool = False, norm: bool = True,
                 initializer: str = "glorot_uniform", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        conv = layers.Conv2DTranspose if transpose else layers.Conv2D
        self.conv = conv(filters, size, strides=stride, padding="same", use_bias=not norm,
                         kernel_initializer=initializer)
        self.norm = layers.BatchNormalization(momentum=0.95) if norm else None

    def call(self, x: Any, training: bool = False) -> Any:
        y = self.conv(ops.relu(x))
        return self.norm(y, training=training) if self.norm is not None else y


class DeblurBlock(layers.Layer):
    """One deblur step: (observation, estimate, previous skips) -> (new estimate, skips)."""

    def __init__(self, width: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.width = width
        c32, c64, c128, c256 = (_channels(c, width) for c in (32, 64, 128, 256))
        self.d0 = ReluConv(c32, name="d0")
        self.encoder = [
            [ReluConv(c64, stride=2, name="d1_0"), ReluConv(c64, name="d1_1"), ReluConv(c64, name="d1_2"),
             ReluConv(c64, size=1, name="d1_3")],
            [ReluConv(c64, name="d2_0"), ReluConv(c64, name="d2_1"), ReluConv(c64, name="d2_2"),
             ReluConv(c64, size=1, name="d2_3")],
            [ReluConv(c128, stride=2, name="d3_0"), ReluConv(c128, name="d3_1"), ReluConv(c128, name="d3_2"),
             ReluConv(c128, size=1, name="d3_3")],
        ]
        self.d4 = [ReluConv(c256, stride=2, name="d4_0"), ReluConv(c256, name="d4_1"), ReluConv(c256, name="d4_2"),
                   ReluConv(c256, size=1, name="d4_3")]
        self.u1 = [ReluConv(c128, size=4, stride=2, transpose=True, name="u1_0"), ReluConv(c128, name="u1_1"),
                   ReluConv(c128, name="u1_2"), ReluConv(c128, name="u1_3")]
        self.u2 = [ReluConv(c64, size=4, stride=2, transpose=True, name="u2_0"), ReluConv(c64, name="u2_1"),
                   ReluConv(c64, name="u2_2"), ReluConv(c64, name="u2_3")]
        # Blend layers of the temporal skips (used from the second step on).
        self.blend = [ReluConv(c256, size=1, name="d41_s"), ReluConv(c128, size=1, name="u1_s"),
                      ReluConv(c64, size=1, name="u2_s")]
        self.u3 = [ReluConv(c64, size=4, stride=2, transpose=True, name="u3_0"), ReluConv(c64, name="u3_1"),
                   ReluConv(c64, name="u3_2"), ReluConv(6, name="u3_3"), ReluConv(3, norm=False, initializer="zeros", name="u3_4")]

    def build(self, *shapes: Any) -> None:
        """Nothing to create here: every sub-layer builds itself on the first call."""

    def _merge(self, index: int, x: Any, previous: list[Any] | None, training: bool) -> Any:
        if previous is None:
            return x
        return self.blend[index](ops.concatenate([x, previous[index]], axis=-1), training=training)

    @staticmethod
    def _chain(chain: list[ReluConv], x: Any, training: bool) -> Any:
        for layer in chain:
            x = layer(x, training=training)
        return x

    def call(self, observation: Any, estimate: Any, previous: list[Any] | None = None,
             training: bool = False) -> tuple[Any, list[Any]]:
        x = self.d0(ops.concatenate([observation, estimate], axis=-1), training=training)
        unet = []
        for i, (first, *rest) in enumerate(self.encoder):
            start = first(x, training=training)
            x = start + self._chain(rest, start, training)
            if i > 0:
                unet.append(x)
        temporal = []
        start = self.d4[0](x, training=training)
        x = start + self._chain(self.d4[1:], self._merge(0, start, previous, training), training)
        temporal.append(x)
        for i, (chain, skip) in enumerate(((self.u1, unet[1]), (self.u2, unet[0])), start=1):
            start = chain[0](x, training=training) + skip
            x = start + self._chain(chain[1:], self._merge(i, start, previous, training), training)
            temporal.append(x)
        residual = self._chain(self.u3, x, training)
        return estimate + residual, temporal


class RecurrentDeblurNet(keras.Model):
    """Î(k) = DB(Î(k-1), I(-k)) over a sequence; ``call`` returns every intermediate estimate.

    Input: (B, T, H, W, 3) with the target frame first and H, W multiples of 8.
    Output: (B, T-1, H, W, 3), the estimate after each observation (one loss term each).
    """

    def __init__(self, width: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.width = width
        self.block = DeblurBlock(width, name="deblur_block")

    def call(self, frames: Any, training: bool = False) -> Any:
        estimate, previous, outputs = frames[:, 0], None, []
        for k in range(1, frames.shape[1]):
            estimate, previous = self.block(frames[:, k], estimate, previous, training=training)
            outputs.append(estimate)
        return ops.stack(outputs, axis=1)

    def step(self, observation: Any, estimate: Any, previous: list[Any] | None) -> tuple[Any, list[Any]]:
        """One inference step, for sequences of any length fed one observation at a time."""
        return self.block(observation, estimate, previous, training=False)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "width": self.width}


def build_rdn(width: float = 1.0) -> RecurrentDeblurNet:
    """A built network (every layer, blend layers included, has its weights)."""
    model = RecurrentDeblurNet(width)
    model(ops.zeros((1, 3, 2 * MULTIPLE, 2 * MULTIPLE, 3)))
    return model
