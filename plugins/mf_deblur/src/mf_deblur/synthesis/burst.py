"""Static bursts (thesis 6.2.1): one sharp image seen through N camera shakes plus read noise."""

from __future__ import annotations

import numpy as np

from mfcore import Sample
from mfcore.kit import textured_patch

from .kernels import SIZES, blur, gp_kernel


def shake(image: np.ndarray, rng: np.random.Generator, sizes: tuple[int, ...] = SIZES) -> tuple[np.ndarray, np.ndarray]:
    """Blur ``image`` with one GP kernel of a random size from ``sizes``; return (blurred, kernel)."""
    kernel = gp_kernel(rng, int(rng.choice(sizes)))
    return blur(image, kernel), kernel


def synthesize_burst(sharp: np.ndarray, rng: np.random.Generator, frames: int = 8,
                     sizes: tuple[int, ...] = SIZES, noise: float = 0.01) -> tuple[np.ndarray, list[np.ndarray]]:
    """Blur ``sharp`` (H, W, C) in [0, 1] with ``frames`` kernels; return (burst (N,H,W,C), kernels).

    Each frame gets its own kernel (of a size drawn from ``sizes``) and white Gaussian
    noise of std ``noise``; values are clipped to [0, 1] as a sensor would.
    """
    shaken = [shake(sharp, rng, sizes) for _ in range(frames)]
    burst = np.stack([b for b, _ in shaken])
    burst += rng.normal(0.0, noise, burst.shape).astype(np.float32)
    return np.clip(burst, 0.0, 1.0).astype(np.float32), [k for _, k in shaken]


def static_sample(rng: np.random.Generator, size: int = 64, frames: int = 5, sizes: tuple[int, ...] = SIZES,
                  noise: float = 0.01, max_noise: float | None = None, images: str | None = None,
                  flat_share: float = 0.0) -> Sample:
    """Training sample: a textured patch (``sharp``) and its blurred burst (``blurred``, target first).

    With ``max_noise`` the noise std is drawn uniformly from [noise, max_noise] per burst; a share
    ``flat_share`` of the patches skips the texture test (see :func:`mfcore.kit.photo_pool.textured_patch`).
    """
    sharp = textured_patch(rng, size, images, flat_share=flat_share)
    sigma = noise if max_noise is None else float(rng.uniform(noise, max_noise))
    blurred, _ = synthesize_burst(sharp, rng, frames, tuple(sizes), sigma)
    return {"sharp": sharp, "blurred": blurred}
