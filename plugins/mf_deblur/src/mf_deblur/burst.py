"""Synthetic bursts: one sharp image seen through N random camera shakes plus sensor noise."""

from __future__ import annotations

import numpy as np

from mfcore.sample_images import PHOTOS, crop, photo
from mfcore.synthesizer import Sample

from .kernels import blur, random_walk_kernel


def synthesize_burst(sharp: np.ndarray, rng: np.random.Generator, frames: int = 8, kernel_size: int = 17,
                     noise: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Blur ``sharp`` (H, W, C) in [0, 1] ``frames`` times; return (burst (N,H,W,C), kernels (N,k,k))."""
    kernels = np.stack([random_walk_kernel(rng, kernel_size) for _ in range(frames)])
    burst = np.stack([blur(sharp, k) for k in kernels])
    burst += rng.normal(0.0, noise, burst.shape).astype(np.float32)
    return np.clip(burst, 0.0, 1.0).astype(np.float32), kernels


def burst_sample(rng: np.random.Generator, size: int = 128, frames: int = 8, kernel_size: int = 17,
                 noise: float = 0.01) -> Sample:
    """Training sample: a random crop of a bundled photo, its blurred burst and the kernels."""
    sharp = crop(photo(PHOTOS[int(rng.integers(len(PHOTOS)))]), size, rng)
    blurred, kernels = synthesize_burst(sharp, rng, frames, kernel_size, noise)
    return {"sharp": sharp, "blurred": blurred, "kernels": kernels}
