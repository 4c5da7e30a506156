"""Running the RDN on real inputs: any size, any number of frames, bursts and videos.

* **Any size.** The network is fully convolutional but down-samples three
  times, so frames are reflect-padded to a multiple of 8 and cropped back.
* **Bounded memory.** Steps run without an autograd graph
  (:func:`mfcore.kit.inference_mode`) and keep only the current estimate and its
  temporal skips, so memory does not grow with the number of frames. Frames
  whose working set would exceed ``max_memory`` are cut into overlapping tiles
  (:mod:`mfcore.kit.tiling`) automatically; each tile runs the whole recurrence
  (temporal skips are spatial maps of the same tile) and tiles are blended
  seamlessly.
* **Any number of frames.** Î(k) = DB(Î(k-1), I(-k)), one observation at a time.
  :func:`deblur_steps` returns every intermediate estimate (the benchmark scores
  2, 3, 5, 8 and 12 frames in one pass); :func:`deblur` keeps only the last.
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

from mfcore import InputError
from mfcore.kit import inference_mode, pad_to_multiple, tiled

from .order import centre_out

#: Spatial sizes the RDN accepts are multiples of this (it down-samples three times by 2).
MULTIPLE = 8
#: Working memory of one RDN step per pixel of the frame and per unit of width (bytes): the peak RSS
#: growth of one step measured on 512² to 1280×720 frames at width 0.5 was 670–1,070 B/px
#: (``mf bench deblur --memory``), rounded up.
BYTES_PER_PIXEL = 2400
#: Default working-memory budget of ``mf run deblur`` (GiB): above it, frames are tiled.
MAX_MEMORY_GB = 2.0
#: The smallest automatic tile: smaller tiles see too little context and repeat the overlap too often.
MIN_TILE = 128


def recurrence(model: Any, frames: np.ndarray) -> Iterator[tuple[Any, list[Any]]]:
    """(estimate, temporal skips) after each observation of ``frames`` (T, H, W, 3), H and W multiples of 8.

    Keras tensors with a batch axis of 1; the skips are what the next step blends in. Each step runs in
    :func:`mfcore.kit.inference_mode`, and only the latest estimate and skips stay referenced here.
    """
    from keras import ops

    estimate, previous = ops.convert_to_tensor(frames[:1]), None
    for k in range(1, len(frames)):
        with inference_mode():
            estimate, previous = model.step(ops.convert_to_tensor(frames[k:k + 1]), estimate, previous)
        yield estimate, previous


def _run(model: Any, frames: np.ndarray, every: bool) -> np.ndarray:
    """Estimates of one sequence (T, H, W, 3) of any size: all (T-1, H, W, 3), or the last (1, H, W, 3)."""
    from keras import ops

    padded, h, w = pad_to_multiple(frames, MULTIPLE)
    if every:
        return np.stack([ops.convert_to_numpy(estimate)[0, :h, :w] for estimate, _ in recurrence(model, padded)])
    estimate = None
    for estimate, _ in recurrence(model, padded):
        pass
    return ops.convert_to_numpy(estimate)[:, :h, :w]


def auto_tile(model: Any, height: int, width: int, max_memory_gb: float | None) -> int | None:
    """The largest tile (a multiple of 8) whose working set fits ``max_memory_gb``; None when the frame fits."""
    if max_memory_gb is None:
        return None
    if max_memory_gb <= 0:
        raise InputError(f"--max-memory must be positive, got {max_memory_gb:g} GB")
    pixels = max_memory_gb * 2**30 / (BYTES_PER_PIXEL * float(getattr(model, "width", 1.0)))
    if height * width <= pixels:
        return None
    return max(MIN_TILE, int(np.sqrt(pixels)) // MULTIPLE * MULTIPLE)


def _checked(frames: np.ndarray) -> np.ndarray:
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) < 2:
        raise ValueError(f"the RDN needs (T >= 2, H, W, 3) frames, got shape {frames.shape}")
    return np.ascontiguousarray(frames, dtype=np.float32)


def deblur_steps(model: Any, frames: np.ndarray, tile: int | None = None, overlap: int = 32,
                 max_memory_gb: float | None = MAX_MEMORY_GB) -> np.ndarray:
    """Estimates after 1, 2, ... observations: (T-1, H, W, 3) from a (T, H, W, 3) sequence, target first.

    Holds T-1 output frames: for scoring; :func:`deblur` keeps only the last.
    """
    frames = _checked(frames)
    tile = tile or auto_tile(model, *frames.shape[1:3], max_memory_gb)
    return tiled(lambda crop: _run(model, crop, every=True), frames, tile, overlap)


def _deblur_last(model: Any, frames: np.ndarray, tile: int | None, overlap: int,
                 max_memory_gb: float | None) -> np.ndarray:
    frames = _checked(frames)
    tile = tile or auto_tile(model, *frames.shape[1:3], max_memory_gb)
    return tiled(lambda crop: _run(model, crop, every=False), frames, tile, overlap)[0]


def correct_colours(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Match each channel's histogram of ``image`` to ``reference`` (appendix A.2)."""
    from skimage.exposure import match_histograms  # imported on use: the CLI starts without SciPy

    return match_histograms(image, reference, channel_axis=-1).astype(np.float32)


def deblur(model: Any, frames: np.ndarray, tile: int | None = None, overlap: int = 32, levels: int = 1,
           colour: bool = False, max_memory_gb: float | None = MAX_MEMORY_GB) -> np.ndarray:
    """The final estimate (H, W, 3) of the target ``frames[0]`` from all frames.

    Without ``tile``, frames are tiled when one step would need more than ``max_memory_gb`` GiB
    (None: never).
    """
    result = None
    for level in range(levels - 1, -1, -1):  # coarsest first
        scale = 0.5**level
        h, w = frames.shape[1:3]
        size = (max(MULTIPLE, round(w * scale)), max(MULTIPLE, round(h * scale)))
        scaled = frames if level == 0 else np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])
        if result is not None:
            up = cv2.resize(result, (scaled.shape[2], scaled.shape[1]), interpolation=cv2.INTER_CUBIC)
            scaled = np.concatenate([scaled, up[None]])
        result = np.clip(_deblur_last(model, scaled, tile, overlap, max_memory_gb), 0.0, 1.0)
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
