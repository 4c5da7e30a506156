"""Running FourierNet on a whole burst (thesis 6.2.3): overlapping patches, a Hann window, colours from FBA.

* **Patches.** Each channel of the aligned burst is reflect-padded by 32 px and
  cut into 65×65 patches every ``stride`` pixels (the thesis used 5; the default
  16 costs 10× less, and scored the same as 8 to 0.01 dB on crops of the real
  burst of Delbracio & Sapiro and on independent bursts); the network's first
  two stages deconvolve each frame's patch, given the whole burst's, to a sharp
  33×33 centre.
* **Recombination, then fusion.** Each frame's overlapping centres are averaged
  with the weights of a 2-D Hann window, which trusts a patch's middle more than
  its edge, and the whole deconvolved frames are fused by the network's
  learnable FBA. "All predicted patches are recomposed to form the final
  prediction by averaging the predicted pixel values and fusing the burst using
  an extended version of FBA" (6.2.2): fusing whole frames rather than patches
  is what makes that fusion FBA. Measured on the real burst of Delbracio &
  Sapiro, FBA of 33×33 patches recombined so is 1.3 and 2.6 dB below FBA of the
  whole frames at 5 and 14 frames (0.4 and 1.0 dB with the best smoothing of
  65×65 patches tried): a patch's periodogram is too noisy a measure of which
  frame is sharp at a frequency.
* **Bounded memory.** Patches run in batches that fit ``max_memory`` (the
  working set of one frame-patch was measured: ``BYTES_PER_FRAME_PATCH``), without
  an autograd graph: memory does not grow with the image, only the output
  accumulators do.
* **Colours** (6.2.3): the network restores each channel alone and tends to
  desaturate; ``lab`` keeps its lightness and takes the CIE-Lab a, b channels
  of FBA's result, ``histogram`` matches each channel's histogram to FBA's,
  ``none`` keeps what the network made. One-channel bursts stay one channel.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import cv2
import numpy as np

from mfcore import InputError
from mfcore.kit import inference_mode

from .inference import correct_colours

#: Side of the observed patches FourierNet takes (and of its largest band).
PATCH = 65
#: Side of the patch it restores from them.
OUT = 33
#: Reflect padding: a patch's centre then reaches every pixel of the frame.
PAD = (PATCH - OUT) // 2 + OUT // 2
#: Default distance between neighbouring patches (pixels).
STRIDE = 16
#: Working memory of one 65×65 patch of one frame through the network (bytes): the peak RSS rise of a call on
#: 64 and 256 patches of 8 frames was 459 and 363 KiB per frame-patch at width 0.125 (its spectra dominate), rounded
#: up.
BYTES_PER_FRAME_PATCH = 512 * 1024


class Colour(str, Enum):
    lab = "lab"
    histogram = "histogram"
    none = "none"


def hann(size: int = OUT) -> np.ndarray:
    """The 2-D Hann window of a restored patch, positive everywhere (the zero end points left out)."""
    w = np.hanning(size + 2)[1:-1]
    return np.outer(w, w).astype(np.float32)


def starts(length: int, stride: int) -> list[int]:
    """Patch positions along a padded axis: every ``stride`` pixels, and the last one flush with the end."""
    positions = list(range(0, length - PATCH + 1, stride))
    return positions if positions[-1] == length - PATCH else positions + [length - PATCH]


def patches_per_batch(frames: int, max_memory_gb: float) -> int:
    """How many patch positions (each of ``frames`` frames) one network call may take."""
    return max(1, int(max_memory_gb * 2**30 // (frames * BYTES_PER_FRAME_PATCH)))


def deconvolve_channel(deconvolve: Any, frames: np.ndarray, stride: int = STRIDE,
                       max_memory_gb: float = 1.0) -> np.ndarray:
    """Every frame of one channel (N, H, W) of an aligned burst deconvolved patch by patch, (N, H, W).

    ``deconvolve`` maps (b, N, 65, 65) patches to (b, N, 33, 33) sharp centres (``FourierNet.deconvolve``).
    """
    from keras import ops

    n, h, w = frames.shape
    padded = np.pad(frames, ((0, 0), (PAD, PAD), (PAD, PAD)), mode="reflect").astype(np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (PATCH, PATCH), axis=(1, 2))
    positions = [(y, x) for y in starts(h + 2 * PAD, stride) for x in starts(w + 2 * PAD, stride)]
    total, weight, window = np.zeros(padded.shape, np.float32), np.zeros(padded.shape[1:], np.float32), hann()
    lo = (PATCH - OUT) // 2
    batch = patches_per_batch(n, max_memory_gb)
    for first in range(0, len(positions), batch):
        chunk = positions[first:first + batch]
        ys, xs = np.array([p[0] for p in chunk]), np.array([p[1] for p in chunk])
        x = np.ascontiguousarray(np.moveaxis(windows[:, ys, xs], 1, 0))  # (b, N, 65, 65)
        with inference_mode():
            out = ops.convert_to_numpy(deconvolve(ops.convert_to_tensor(x)))
        for (y, x0), patch in zip(chunk, out):
            total[:, y + lo:y + lo + OUT, x0 + lo:x0 + lo + OUT] += patch * window
            weight[y + lo:y + lo + OUT, x0 + lo:x0 + lo + OUT] += window
    inside = (slice(PAD, PAD + h), slice(PAD, PAD + w))  # every pixel here is under some patch's centre
    return total[(slice(None), *inside)] / weight[inside]


def restore_channel(model: Any, frames: np.ndarray, stride: int = STRIDE, max_memory_gb: float = 1.0) -> np.ndarray:
    """One channel (N, H, W) of an aligned burst restored to (H, W): deconvolved patch by patch, then fused."""
    from keras import ops

    deconvolved = deconvolve_channel(model.deconvolve, frames, stride, max_memory_gb)
    with inference_mode():
        return ops.convert_to_numpy(model.fuse(ops.convert_to_tensor(deconvolved))).astype(np.float32)


def lab_colours(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``image``'s CIE-Lab lightness with ``reference``'s a, b channels (RGB in [0, 1])."""
    lab = cv2.cvtColor(np.clip(image, 0.0, 1.0).astype(np.float32), cv2.COLOR_RGB2Lab)
    lab[..., 1:] = cv2.cvtColor(np.clip(reference, 0.0, 1.0).astype(np.float32), cv2.COLOR_RGB2Lab)[..., 1:]
    return cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)


def restore_burst(model: Any, frames: np.ndarray, fused: np.ndarray, stride: int = STRIDE,
                  max_memory_gb: float = 1.0, colour: Colour = Colour.lab) -> np.ndarray:
    """An aligned burst (N, H, W, C) restored to (H, W, C) in [0, 1]; ``fused`` is FBA's result (colours)."""
    if frames.ndim != 4 or len(frames) < 2:
        raise InputError(f"FourierNet needs an aligned burst of at least 2 frames, got shape {frames.shape}")
    if stride < 1 or stride > OUT:
        raise InputError(f"--stride must be between 1 and {OUT} pixels (patches must overlap), got {stride}")
    out = np.stack([restore_channel(model, frames[..., c], stride, max_memory_gb) for c in range(frames.shape[-1])],
                   axis=-1)
    if frames.shape[-1] == 3 and colour is Colour.lab:
        out = lab_colours(out, fused)
    elif frames.shape[-1] == 3 and colour is Colour.histogram:
        out = correct_colours(out, np.clip(fused, 0.0, 1.0))
    return np.clip(out, 0.0, 1.0).astype(np.float32)
