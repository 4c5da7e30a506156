"""Dynamic-scene training samples (thesis 6.3.1): motion blur from video plus camera shake.

A clip of ``frames + 2`` consecutive sharp frames comes from a user's video
(``videos=DIR``) or from a random :mod:`mf_deblur.synthesis.scene` built from the
training photographs. Every interior frame is motion-blurred by eq. 6.12 with an
exposure L drawn from {20, 40}, then shaken by its own GP kernel and given read
noise. The sample's target is the middle frame; the blurred frames are ordered
centre-out (the target's own blurred frame first, then its neighbours by
distance), the order in which the recurrent network consumes a video.
"""

from __future__ import annotations

import functools

import numpy as np

from mfcore import InputError, Sample
from mfcore.kit import MIN_GRADIENT, VIDEO_SUFFIXES, files_in, mean_gradient, read_video, video_info

from ..order import centre_out
from .burst import shake
from .kernels import SIZES
from .motion_blur import EXPOSURES, blur_from_video
from .scene import random_scene


@functools.cache
def _video_pool(folder: str) -> tuple[tuple[str, int], ...]:
    return tuple((str(f), video_info(f)["frames"]) for f in files_in(folder, VIDEO_SUFFIXES, "videos"))


def video_clip(rng: np.random.Generator, folder: str, length: int, size: int, tries: int = 20) -> np.ndarray:
    """``length`` consecutive frames of a random video of ``folder``, cropped to size x size, textured."""
    usable = [(f, n) for f, n in _video_pool(folder) if n >= length]
    if not usable:
        raise InputError(f"{folder}: no video has the {length} frames a sample needs")
    best, best_score = None, -1.0
    for _ in range(tries):
        file, count = usable[int(rng.integers(len(usable)))]
        clip = read_video(file, int(rng.integers(0, count - length + 1)), length, min_frames=length)
        h, w = clip.shape[1:3]
        if min(h, w) < size:
            raise InputError(f"{file}: frames of {w}x{h} are smaller than the {size} px patches")
        y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
        clip = clip[:, y:y + size, x:x + size]
        score = mean_gradient(clip[length // 2])
        if score >= MIN_GRADIENT:
            return clip
        if score > best_score:
            best, best_score = clip, score
    return best


def dynamic_sample(rng: np.random.Generator, size: int = 64, frames: int = 5, exposures: tuple[int, ...] = EXPOSURES,
                   sizes: tuple[int, ...] = SIZES, noise: float = 0.01, max_noise: float | None = None,
                   max_speed: float = 4.0, images: str | None = None, videos: str | None = None) -> Sample:
    """Training sample: the middle sharp frame (``sharp``) and ``frames`` blurred frames, centre-out."""
    if videos is not None:
        clip = np.rot90(video_clip(rng, videos, frames + 2, size), int(rng.integers(4)), axes=(1, 2))
        clip = clip[:, :, ::-1] if rng.random() < 0.5 else clip
    else:
        clip = random_scene(rng, size, size, max_speed=max_speed, images=images).clip(frames + 2)
    blurred = blur_from_video(clip, int(rng.choice(exposures)))
    blurred = np.stack([shake(b, rng, tuple(sizes))[0] for b in blurred])
    sigma = noise if max_noise is None else float(rng.uniform(noise, max_noise))
    blurred = np.clip(blurred + rng.normal(0.0, sigma, blurred.shape), 0.0, 1.0).astype(np.float32)
    centre = frames // 2
    return {"sharp": np.ascontiguousarray(clip[1 + centre], dtype=np.float32),
            "blurred": np.ascontiguousarray(blurred[centre_out(frames, centre)])}
