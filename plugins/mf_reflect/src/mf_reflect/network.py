"""The separation network (thesis 5.2.2, figure 5.6, appendix B), defined once in Keras 3.

Input: N ≥ 3 exposure-normalised polarisation images at the ``angles`` the
network was trained for, followed by the two layers of the physical prior
(the classical R̂ and T̂ of :mod:`mf_reflect.prior`): (B, N + 2, H, W, 1). The
network sees **one colour channel at a time**: colour captures are separated
channel by channel with the same weights (:mod:`mf_reflect.inference`), so a
monochrome sensor is handled natively and no channel can bleed into another (a
grey capture cannot come out tinted). A :class:`CanonicalProjection` layer
computes I⊥ and I∥ inside the model (the least-squares fit of
:mod:`mf_reflect.canonical`, as a constant matrix), and the channels (I⊥, I∥,
the observations, the prior), mapped to [−1, 1], enter an encoder-decoder: a
3×3 prologue, three stride-2 stages of two ResNet blocks, a mirrored decoder of
4×4 transposed convolutions with U-Net skips, and an epilogue that sees the
inputs again. Every convolution is followed by instance normalisation and ReLU
except the block shortcuts and the last layer (appendix B's ``INReLU``).

The 4 output channels are residual images T̃, R̃ (through (tanh + 1)/2) and two
gates ξ∥, ξ⊥ (sigmoid), blended by eq. 5.4 with the prior's layers where the
thesis uses the canonical images: R̂ = ξ⊥ R̃ + (1 − ξ⊥) R_prior and
T̂ = ξ∥ T̃ + (1 − ξ∥) T_prior. With the gates shut the output is the classical
separation; the network only opens them where it has learned to do better.

``width`` scales every layer's filters, so a narrow variant trains on a CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from .canonical import fit_matrix


def _filters(count: int, width: float) -> int:
    return max(4, int(round(count * width)))


@keras.saving.register_keras_serializable(package="mf_reflect")
class CanonicalProjection(layers.Layer):
    """(B, N, H, W, C) polarisation images → (I⊥, I∥), each (B, H, W, C); eq. 5.3 with φ⊥ in [−π/4, π/4)."""

    def __init__(self, angles: Sequence[float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.angles = [float(a) for a in angles]
        self.fit = fit_matrix(self.angles).astype(np.float32)  # (3, N)

    def call(self, images: Any) -> tuple[Any, Any]:
        coefficients = ops.einsum("kn,bnhwc->kbhwc", ops.convert_to_tensor(self.fit), images)
        a, b, c = coefficients[0], coefficients[1], coefficients[2]
        half = ops.sqrt(b * b + c * c + 1e-12)
        # φ⊥ = atan2(c, b)/2 lies in [−π/4, π/4) exactly when b > 0 (or b = 0 and c < 0): else I⊥ < I∥
        sign = ops.where(ops.logical_or(b > 0, ops.logical_and(b == 0, c < 0)), 1.0, -1.0)
        return a + sign * half, a - sign * half

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "angles": self.angles}


class ConvNormRelu(layers.Layer):
    """Convolution (or 4×4 transposed convolution) → instance norm → ReLU; ``plain`` skips norm and ReLU."""

    def __init__(self, filters: int, kernel: int = 3, stride: int = 1, transpose: bool = False,
                 plain: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        conv = layers.Conv2DTranspose if transpose else layers.Conv2D
        self.conv = conv(filters, kernel, strides=stride, padding="same", use_bias=plain)
        self.norm = None if plain else layers.GroupNormalization(groups=-1, epsilon=1e-5)  # instance norm

    def call(self, x: Any) -> Any:
        x = self.conv(x)
        return x if self.norm is None else ops.relu(self.norm(x))


class DownBlock(layers.Layer):
    """Appendix B ``block_down``: strided shortcut conv, two 3×3 convs, concatenation, 1×1 fusion."""

    def __init__(self, filters: int, stride: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shortcut = ConvNormRelu(filters, stride=stride, plain=True)
        self.norm = layers.GroupNormalization(groups=-1, epsilon=1e-5)
        self.convs = [ConvNormRelu(filters), ConvNormRelu(filters)]
        self.fuse = ConvNormRelu(filters, kernel=1)

    def call(self, x: Any) -> Any:
        skip = self.shortcut(x)
        x = ops.relu(self.norm(skip))
        for conv in self.convs:
            x = conv(x)
        return self.fuse(ops.concatenate([x, skip], axis=-1))


class UpBlock(layers.Layer):
    """Appendix B ``block_up``: 4×4 transposed shortcut, U-Net skip, two 3×3 convs, 1×1 fusion."""

    def __init__(self, filters: int, stride: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shortcut = ConvNormRelu(filters, kernel=4, stride=stride, transpose=True, plain=True)
        self.norm = layers.GroupNormalization(groups=-1, epsilon=1e-5)
        self.convs = [ConvNormRelu(filters), ConvNormRelu(filters)]
        self.fuse = ConvNormRelu(filters, kernel=1)

    def call(self, x: Any, unet: Any) -> Any:
        skip = self.shortcut(x)
        x = ops.concatenate([ops.relu(self.norm(skip)), unet], axis=-1)
        for conv in self.convs:
            x = conv(x)
        return self.fuse(ops.concatenate([x, skip], axis=-1))


#: Layers of the physical prior appended to the observations.
PRIOR_LAYERS = 2
#: Initial bias of the gates' logits: sigmoid(−4) ≈ 0.02, so an untrained network returns the prior.
GATE_BIAS = -4.0


@keras.saving.register_keras_serializable(package="mf_reflect")
class SeparationNet(keras.Model):
    """(B, N + 2, H, W, 1): N observations then the prior's R, T → (R̂, T̂) (B, 2, H, W, 1); H, W multiples of 8."""

    def __init__(self, angles: Sequence[float], width: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.angles, self.width = [float(a) for a in angles], float(width)
        f = lambda n: _filters(n, width)  # noqa: E731
        self.project = CanonicalProjection(self.angles)
        self.prologue = ConvNormRelu(16)
        self.down = [DownBlock(f(32), 2), DownBlock(f(32), 1), DownBlock(f(64), 2), DownBlock(f(64), 1),
                     DownBlock(f(128), 2), DownBlock(f(128), 1)]
        self.up = [UpBlock(f(64), 2), UpBlock(f(64), 1), UpBlock(f(32), 2), UpBlock(f(32), 1), UpBlock(f(16), 2)]
        self.epilogue = [ConvNormRelu(f(16)), ConvNormRelu(f(16))]
        self.head = ConvNormRelu(4, plain=True)

    def outputs(self, stack: Any) -> dict[str, Any]:
        """Every intermediate a user may want: canonical images, prior, residual layers, gates, estimates."""
        count = len(self.angles)
        stack = ops.convert_to_tensor(stack)
        images = stack[:, :count]
        prior_r, prior_t = stack[:, count], stack[:, count + 1]
        i_perp, i_par = self.project(images)
        observed = [images[:, i] for i in range(count)]
        x = ops.concatenate([i_perp, i_par, *observed, prior_r, prior_t], axis=-1) * 2.0 - 1.0
        inputs = x
        x = self.prologue(x)
        skips = [x]
        for block in self.down:
            x = block(x)
            skips.append(x)
        # decoder skips, deepest first: out2b, out2, out1b, out1, out0 (appendix B)
        for block, unet in zip(self.up, (skips[4], skips[3], skips[2], skips[1], skips[0])):
            x = block(x, unet)
        x = self.epilogue[0](x)
        x = self.epilogue[1](ops.concatenate([x, inputs], axis=-1))
        x = self.head(x)
        residual_t, residual_r = (ops.tanh(x[..., 0:1]) + 1) / 2, (ops.tanh(x[..., 1:2]) + 1) / 2
        gate_r, gate_t = ops.sigmoid(x[..., 2:3]), ops.sigmoid(x[..., 3:4])
        return {"canonical_perp": i_perp, "canonical_par": i_par, "prior_r": prior_r, "prior_t": prior_t,
                "residual_r": residual_r, "residual_t": residual_t, "gate_r": gate_r, "gate_t": gate_t,
                "reflection": gate_r * residual_r + (1 - gate_r) * prior_r,
                "transmission": gate_t * residual_t + (1 - gate_t) * prior_t}

    def call(self, stack: Any) -> Any:
        """(B, 2, H, W, 1): R̂ then T̂ (one tensor, so Keras's fit sees one output)."""
        out = self.outputs(stack)
        return ops.stack([out["reflection"], out["transmission"]], axis=1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "angles": self.angles, "width": self.width}


def build_network(angles: Sequence[float], width: float = 1.0, size: int = 64) -> SeparationNet:
    """A built network for images at ``angles`` (radians): weights exist, ready to load or train."""
    model = SeparationNet(angles, width)
    model(np.zeros((1, len(angles) + PRIOR_LAYERS, size, size, 1), np.float32))
    bias = ops.convert_to_numpy(model.head.conv.bias).copy()
    bias[2:] = GATE_BIAS  # training starts from the physics: gates nearly shut
    model.head.conv.bias.assign(bias)
    return model
