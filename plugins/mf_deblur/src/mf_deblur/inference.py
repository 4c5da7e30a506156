"""Running the RDN on real inputs: any size, any number of frames, bursts and videos.

* **Any size.** The network is fully convolutional but down-samples three
  times, so frames are reflect-padded to a multiple of 8 and cropped back.
* **Larger than memory.** With ``tile`` set, the frame is cut into overlapping
  tiles (:mod:`mfcore.kit.tiling`); each tile runs the whole recurrence (temporal
  skips are spatial maps of the same tile) and tiles are blended seamlessly.
* **Any number of frames.** Î(k) = DB(Î(k-1), I(-k)), one observation at a time.
  :func:`deblur_steps` returns every intermediate estimate, which is how the
  benchmark scores 2, 3, 5, 8 and 12 frames in one pass.
* **Multi-scale input** (6.4.2): the sequence is first deblurred at 1/2 and 1/4
  resolution, and each coarser result, up-sampled, joins the next finer sequence
  as one more observation: it helps with motion larger than the training blur.
* **Colour correction** (appendix A.2): the output's per-channel histograms are
  matched to the target frame's, undoing the desaturation networks tend to have.
* **Videos**: frame t is deblurred from itself and its neighbours, centre-out,
  the order the network was trained with.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import cv2
import numpy as np

from mfcore.kit import pad_to_multiple, tiled

from .order import centre_out

#: Spatial sizes the RDN accepts are multiples of this (it down-samples three times by 2).
MULTIPLE = 8


def recurrence(model: Any, frames: np.ndarray) -> Iterator[tuple[Any, list[Any]]]:
    """(estimate, temporal skips) after each observation of ``frames`` (T, H, W, 3), H and W multiples of 8.

    Keras tensors with a batch axis of 1; the skips are what the next step blends in.
    """
    from keras import ops

    estimate, previous = ops.convert_to_tensor(frames[:1]), None
    for k in range(1, len(frames)):
        estimate, previous = model.step(ops.convert_to_tensor(frames[k:k + 1]), estimate, previous)
        yield estimate, previous


def _run(model: Any, frames: np.ndarray) -> np.ndarray:
    """Every estimate (T-1, H, W, 3) of one sequence (T, H, W, 3) of any size, one step at a time."""
    from keras import ops

    padded, h, w = pad_to_multiple(frames, MULTIPLE)
    return np.stack([ops.convert_to_numpy(estimate)[0, :h, :w] for estimate, _ in recurrence(model, padded)])


def deblur_steps(model: Any, frames: np.ndarray, tile: int | None = None, overlap: int = 32) -> np.ndarray:
    """Estimates after 1, 2, ... observations: (T-1, H, W, 3) from a (T, H, W, 3) sequence, target first."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) < 2:
        raise ValueError(f"the RDN needs (T >= 2, H, W, 3) frames, got shape {frames.shape}")
    frames = np.ascontiguousarray(frames, dtype=np.float32)
    return tiled(lambda crop: _run(model, crop), frames, tile, overlap)


def correct_colours(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Match each channel's histogram of ``image`` to ``reference`` (appendix A.2)."""
    from skimage.exposure import match_histograms  # imported on use: the CLI starts without SciPy

    return match_histograms(image, reference, channel_axis=-1).astype(np.float32)


def deblur(model: Any, frames: np.ndarray, tile: int | None = None, overlap: int = 32, levels: int = 1,
           colour: bool = False) -> np.ndarray:
    """The final estimate (H, W, 3) of the target ``frames[0]`` from all frames."""
    result = None
    for level in range(levels - 1, -1, -1):  # coarsest first
        scale = 0.5**level
        h, w = frames.shape[1:3]
        size = (max(MULTIPLE, round(w * scale)), max(MULTIPLE, round(h * scale)))
        scaled = frames if level == 0 else np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])
        if result is not None:
            up = cv2.resize(result, (scaled.shape[2], scaled.shape[1]), interpolation=cv2.INTER_CUBIC)
            scaled = np.concatenate([scaled, up[None]])
        result = np.clip(deblur_steps(model, scaled, tile, overlap)[-1], 0.0, 1.0)
    assert result is not None
    return correct_colours(result, frames[0]) if colour else result


def video_windows(frames: Iterable[np.ndarray], radius: int) -> Iterator[np.ndarray]:
    """For each frame of a stream, the (T, H, W, C) sequence of it and its neighbours within ``radius``, centre-out.

    Only 2·radius+1 frames are held in memory, so videos of any length stream through.
    """
    buffer: list[np.ndarray] = []  # frames first, first+1, ... of the stream
    source = iter(frames)
    first = index = 0
    exhausted = False
    while True:
        while not exhausted and first + len(buffer) <= index + radius:
            frame = next(source, None)
            if frame is None:
                exhausted = True
            else:
                buffer.append(frame)
        if index >= first + len(buffer):
            return
        drop = max(0, index - radius - first)
        del buffer[:drop]
        first += drop
        yield np.stack([buffer[i] for i in centre_out(len(buffer), index - first)])
        index += 1
