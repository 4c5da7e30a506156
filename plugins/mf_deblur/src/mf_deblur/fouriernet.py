"""FourierNet: the static-burst network of thesis 6.2, in Keras 3.

The network restores one 33×33 patch from the 65×65 patches around it in every
frame of an aligned burst of one static scene, one colour channel at a time, in
three stages (figure 6.5):

* **Frequency-band analysis** (after Chakrabarti 2016): the DFT of the centred
  17×17, 33×33 and 65×65 crops of each observed patch (bands b1-b3) and the
  low-pass band b4, the coefficients of b3 with max(|u|, |v|) ≤ 4. Per band,
  the values of one coefficient across the burst form one vector and are mixed
  by two 1×1 convolutions (``mlp1`` of the figure), so information is shared
  across the burst before any reduction.
* **Deconvolution**: the bands are merged pairwise by dense layers to one
  feature vector per observation, from which dense layers predict the 65×65
  Fourier coefficients of a deconvolution (Wiener-like) filter; it multiplies
  the observation's transform, and the centre 33×33 of the result is that
  observation's sharp patch.
* **Fusion**: the learnable FBA layer of eq. 6.10. FBA weighs frame i at
  frequency ζ by |α̂_i(ζ)|^p / Σ_j |α̂_j(ζ)|^p (magnitudes smoothed over
  frequency, as FBA does), a softmax over the burst of p·log|α̂_i(ζ)|; two 1×1
  convolutions over the burst's log-magnitudes add a learnt correction to those
  logits. The layer takes images of any size: training fuses 33×33 patches,
  ``mf run deblur`` fuses whole frames (:mod:`.fourier_inference`).

Two departures from the thesis, both so that one network serves any burst:
the 1×1 convolutions over the burst see each frame's own values beside the
burst's mean (or maximum) instead of a fixed-length vector, so they are the
same for every frame and for every burst length (the thesis trained for
exactly 14 frames and duplicated frames of shorter bursts); and the Fourier
coefficients are scaled by 1/size (an orthonormal DFT), which keeps the
features of every band in the range of the pixels (the thesis blames the large
range of Fourier values for Adam's instability).

**Initialisation is FBA.** The filter's last layer starts at zero weights and a
bias of one (the identity filter) and the fusion's correction at zero, so an
untrained network is exactly FBA (``mf_deblur.fba``, p = 11) of the burst's
centre patches, and on whole frames of the whole frames: training starts from the
classical method and improves on it.

Everything is written with Keras layers and ``keras.ops`` (``fft2``/``ifft2``):
the same ``.weights.h5`` runs on the PyTorch and TensorFlow backends.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers, ops

from .baselines.fba import default_sigma, gaussian_transfer
from .fourier_inference import OUT, PATCH

#: Sides of the analysed bands b1-b3 (centred crops of the observed patch).
BANDS = (17, 33, 65)
#: Band b4: the coefficients of b3 with max(|u|, |v|) at most this.
LOW = 4
#: FBA's exponent, where the fusion starts.
FBA_P = 11.0
#: Channels of the hidden 1×1 convolutions (burst mixing and fusion).
MIX = 8
#: Guards the logarithm of a zero magnitude.
TINY = 1e-12
#: Values (frames × frequencies) the fusion's correction takes at once: about 40 bytes each.
CORRECTION_BLOCK = 2**22


def _units(base: int, width: float) -> int:
    return max(16, int(round(base * width)))


def centre(x: Any, size: int) -> Any:
    """The centred ``size``×``size`` crop of the last two axes (odd sides, so the centres coincide)."""
    start = (x.shape[-1] - size) // 2
    return x[..., start:start + size, start:start + size]


def spectrum(x: Any) -> tuple[Any, Any]:
    """(real, imaginary) parts of the 2-D DFT over the last two axes of a real tensor."""
    return ops.fft2((x, ops.zeros_like(x)))


def low_band(real: Any, imag: Any) -> tuple[Any, Any]:
    """The coefficients with max(|u|, |v|) <= LOW of (…, n, n) spectra, in DFT order."""
    n = real.shape[-1]
    index = [*range(LOW + 1), *range(n - LOW, n)]
    pick = lambda z: ops.take(ops.take(z, index, axis=-1), index, axis=-2)  # noqa: E731
    return pick(real), pick(imag)


def bands(patches: Any, whole: tuple[Any, Any] | None = None) -> list[Any]:
    """Bands b1-b4 of (B, N, 65, 65) patches: each (B, N, F, 2), real and imaginary parts, scaled by 1/side.

    ``whole`` is the patches' own spectrum where the caller has it already (the deconvolution filters it too).
    """
    spectra = {size: whole if size == PATCH and whole is not None else spectrum(centre(patches, size))
               for size in BANDS}
    out = [_stack(*spectra[size], 1.0 / size) for size in BANDS]
    return out + [_stack(*low_band(*spectra[PATCH]), 1.0 / PATCH)]


def _stack(real: Any, imag: Any, scale: float) -> Any:
    shape = ops.shape(real)
    flat = (shape[0], shape[1], -1)
    return ops.stack([ops.reshape(real, flat), ops.reshape(imag, flat)], axis=-1) * scale


class BurstMix(layers.Layer):
    """``mlp1``: two 1×1 convolutions over the burst at each coefficient, added to the input.

    Input and output (B, N, F, 2). Each frame's (real, imaginary) pair is seen beside the burst's mean pair;
    the last convolution starts at zero, so an untrained layer passes the coefficients through.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hidden = layers.Dense(MIX, activation="relu", name="hidden")
        self.out = layers.Dense(2, kernel_initializer="zeros", name="out")

    def call(self, z: Any) -> Any:
        mean = ops.broadcast_to(ops.mean(z, axis=1, keepdims=True), ops.shape(z))
        return z + self.out(self.hidden(ops.concatenate([z, mean], axis=-1)))


def smoothed_magnitude(real: Any, imag: Any) -> Any:
    """|α̂| smoothed over the periodic frequency grid by FBA's Gaussian (std min(H, W)/50 samples)."""
    h, w = real.shape[-2:]
    sigma = default_sigma(h, w)
    transfer = (gaussian_transfer(h, sigma, np, "cpu")[:, None] * gaussian_transfer(w, sigma, np, "cpu")[None, :])
    transfer = ops.convert_to_tensor(transfer.astype("float32"))
    magnitude = ops.sqrt(real * real + imag * imag + TINY)
    m_real, m_imag = spectrum(magnitude)
    return ops.maximum(ops.ifft2((m_real * transfer, m_imag * transfer))[0], 0.0)


class LearnableFBA(layers.Layer):
    """Eq. 6.10: per frequency, a softmax over the burst of p·log|α̂_i| plus a learnt correction.

    Input (B, N, H, W) images, output (B, H, W). The correction (two 1×1 convolutions over each frame's
    smoothed log-magnitude relative to the burst's mean and maximum, so it cannot depend on exposure) starts
    at zero and ``p`` at ``FBA_P``: an untrained layer is FBA, ``mf_deblur.fba(..., p=11)``. The correction
    runs over blocks of frequency rows, so whole frames fuse in bounded memory.
    """

    def __init__(self, p: float = FBA_P, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.p_init = p
        self.hidden = layers.Dense(MIX, activation="relu", name="hidden")
        self.out = layers.Dense(1, kernel_initializer="zeros", name="out")

    def build(self, shape: Any) -> None:
        self.p = self.add_weight(shape=(), initializer=keras.initializers.Constant(self.p_init), name="p")

    def correction(self, log_magnitude: Any) -> Any:
        """The learnt change to the logits, (B, N, H, W), computed a block of frequency rows at a time."""
        b, n, h, w = ops.shape(log_magnitude)
        rows = max(1, CORRECTION_BLOCK // max(1, b * n * w))
        blocks = []
        for top in range(0, h, rows):
            block = log_magnitude[:, :, top:top + rows]
            relative = ops.stack([block - ops.mean(block, axis=1, keepdims=True),
                                  block - ops.max(block, axis=1, keepdims=True)], axis=-1)
            blocks.append(ops.squeeze(self.out(self.hidden(relative)), axis=-1))
        return blocks[0] if len(blocks) == 1 else ops.concatenate(blocks, axis=2)

    def call(self, images: Any) -> Any:
        real, imag = spectrum(images)
        log_magnitude = ops.log(smoothed_magnitude(real, imag) + TINY)
        weights = ops.softmax(self.p * log_magnitude + self.correction(log_magnitude), axis=1)
        fused = (ops.sum(weights * real, axis=1), ops.sum(weights * imag, axis=1))
        return ops.ifft2(fused)[0]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "p": self.p_init}


class FourierNet(keras.Model):
    """(B, N, 65, 65) patches of one channel of an aligned burst -> (B, 33, 33), the restored centre.

    ``width`` scales the dense layers: 1.0 is the thesis's (4,096 features, a 4,225-coefficient filter
    predicted from them); the CPU preset trains a narrower one.
    """

    def __init__(self, width: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.width = width
        self.mix = [BurstMix(name=f"mix_b{i + 1}") for i in range(len(BANDS) + 1)]
        pair, features = _units(1024, width), _units(4096, width)
        self.merge12 = layers.Dense(pair, activation="relu", name="merge_b12")
        self.merge34 = layers.Dense(pair, activation="relu", name="merge_b34")
        self.features = [layers.Dense(features, activation="relu", name="features_0"),
                         layers.Dense(features, activation="relu", name="features_1")]
        identity = [1.0] * PATCH * PATCH + [0.0] * PATCH * PATCH  # real parts one, imaginary parts zero
        self.filter = layers.Dense(2 * PATCH * PATCH, kernel_initializer="zeros",
                                   bias_initializer=keras.initializers.Constant(identity), name="filter")
        self.fusion = LearnableFBA(name="fusion")

    def deconvolve(self, patches: Any) -> Any:
        """Each observation's sharp 33×33 patch (B, N, 33, 33), before fusion."""
        real, imag = spectrum(patches)
        flat = [ops.reshape(mix(band), (*ops.shape(band)[:2], -1))
                for mix, band in zip(self.mix, bands(patches, (real, imag)))]
        h = ops.concatenate([self.merge12(ops.concatenate(flat[:2], axis=-1)),
                             self.merge34(ops.concatenate(flat[2:], axis=-1))], axis=-1)
        for layer in self.features:
            h = layer(h)
        g = ops.reshape(self.filter(h), (*ops.shape(h)[:2], 2, PATCH, PATCH))
        g_real, g_imag = g[:, :, 0], g[:, :, 1]
        filtered = (g_real * real - g_imag * imag, g_real * imag + g_imag * real)
        # The real part of the inverse transform: the filter's response is made real (Hermitian) implicitly.
        return centre(ops.ifft2(filtered)[0], OUT)

    def call(self, patches: Any) -> Any:
        return self.fusion(self.deconvolve(patches))

    def fuse(self, frames: Any) -> Any:
        """Whole deconvolved frames (N, H, W) of one channel fused into one (H, W) by the learnable FBA."""
        return self.fusion(frames[None])[0]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "width": self.width}


def build_fouriernet(width: float = 1.0) -> FourierNet:
    """A built network (every layer has its weights)."""
    model = FourierNet(width)
    model(ops.zeros((1, 2, PATCH, PATCH)))
    return model
