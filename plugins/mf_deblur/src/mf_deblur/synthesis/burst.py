"""Static bursts (thesis 6.2.1): one sharp image seen through N camera shakes plus read noise, or through a
camera (:mod:`.capture`)."""

from __future__ import annotations

import numpy as np

from mfcore import Sample
from mfcore.kit import textured_patch

from . import capture
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


def captured_burst(sharp: np.ndarray, rng: np.random.Generator, frames: int, sizes: tuple[int, ...],
                   noise: float) -> tuple[np.ndarray, np.ndarray]:
    """``sharp`` seen by a handheld camera ``frames`` times (:mod:`.capture`): each frame slightly
    misregistered, shaken (a share of them only a little), then exposed and written as a camera would.
    Returns (burst, target): the target is ``sharp`` at the burst's exposure, clipped as the sensor clips."""
    lucky = rng.random(frames) < capture.LUCKY_SHARE
    shaken = [shake(capture.misregister(sharp, rng), rng, capture.LUCKY_SIZES if is_lucky else sizes)[0]
              for is_lucky in lucky]
    burst, gain = capture.expose(np.stack(shaken), rng, noise)
    return burst, np.clip(sharp * gain, 0.0, 1.0).astype(np.float32)


def static_sample(rng: np.random.Generator, size: int = 64, frames: int = 5, sizes: tuple[int, ...] = SIZES,
                  noise: float = 0.01, max_noise: float | None = None, images: str | None = None,
                  flat_share: float = 0.0, camera: bool = False) -> Sample:
    """Training sample: a textured patch (``sharp``) and its blurred burst (``blurred``, target first).

    With ``max_noise`` the noise std is drawn uniformly from [noise, max_noise] per burst; a share
    ``flat_share`` of the patches skips the texture test (see :func:`mfcore.kit.photo_pool.textured_patch`).
    ``camera`` adds what a real capture does beyond blur and read noise (:func:`captured_burst`).
    """
    sharp = textured_patch(rng, size, images, flat_share=flat_share)
    sigma = noise if max_noise is None else float(rng.uniform(noise, max_noise))
    if camera:
        blurred, target = captured_burst(sharp, rng, frames, tuple(sizes), sigma)
        return {"sharp": target, "blurred": blurred}
    blurred, _ = synthesize_burst(sharp, rng, frames, tuple(sizes), sigma)
    return {"sharp": sharp, "blurred": blurred}
