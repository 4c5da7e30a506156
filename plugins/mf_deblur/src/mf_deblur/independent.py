"""A second burst synthesiser, written separately from :mod:`mf_deblur.synthesis`, for validation only.

No training run uses it. Its job is to tell generalisation from a fit to the
training generator, so it shares no code with that generator beyond the
bundled photo files, and differs wherever a real capture could:

* **Shake**: camera trajectories of a particle with inertia (Boracchi & Foi,
  2012): each step's velocity keeps most of the last one and gets a random
  acceleration, now and then an abrupt jerk; the path is normalised to a random
  extent of 1–17 px (so some frames are nearly sharp) and sampled densely into
  the kernel by splatting, not drawn from a Gaussian process.
* **Light**: blur happens on linear radiance (the exact sRGB curve inverted),
  with shot noise of a sensor of 1,000–8,000 electrons at full scale and read
  noise; each frame has its own exposure (±8 %); the brightest part of a third
  of the scenes saturates.
* **Registration**: each frame is left misaligned by a sub-pixel translation
  (Fourier shift), as after a real burst's registration.
* **File**: sRGB-encoded, 8 bits, JPEG at quality 75–95.
* **Scenes**: held-out photographs plus the moon, resized rather than cropped
  at a patch size.

The truth is the scene as the camera would record it without shake or noise:
linear radiance at the burst's exposure, clipped, sRGB-encoded.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from mfcore.kit import HELD_OUT_PHOTOS, photo

#: Photographs of this generator: the held-out pool plus one that no pool uses.
SCENES = (*HELD_OUT_PHOTOS, "moon")


def srgb_to_linear(encoded: np.ndarray) -> np.ndarray:
    """The sRGB transfer curve inverted (IEC 61966-2-1)."""
    return np.where(encoded <= 0.04045, encoded / 12.92, ((encoded + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """The sRGB transfer curve (IEC 61966-2-1) on [0, 1]."""
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


def trajectory_kernel(rng: np.random.Generator, extent: float, size: int = 19, steps: int = 2000) -> np.ndarray:
    """A (size, size) kernel: the path of a particle with inertia and random jerks, ``extent`` px across."""
    velocity = rng.normal(0.0, 1.0, 2)
    points = np.zeros((steps, 2))
    for i in range(1, steps):
        jerk = rng.normal(0.0, 1.0, 2) * (5.0 if rng.random() < 0.005 else 0.0)
        velocity = 0.99 * velocity + 0.1 * rng.normal(0.0, 1.0, 2) + jerk
        points[i] = points[i - 1] + velocity / steps
    points -= points.mean(axis=0)
    span = float(np.abs(points).max())
    if span > 0:
        points *= (extent / 2) / span
    centre = size // 2
    kernel = np.zeros((size, size))
    corner = np.floor(points).astype(int)
    frac = points - corner
    for dy in (0, 1):
        for dx in (0, 1):
            weight = (frac[:, 0] if dy else 1 - frac[:, 0]) * (frac[:, 1] if dx else 1 - frac[:, 1])
            np.add.at(kernel, (np.clip(corner[:, 0] + dy + centre, 0, size - 1),
                               np.clip(corner[:, 1] + dx + centre, 0, size - 1)), weight)
    return kernel / kernel.sum()


def _scene(rng: np.random.Generator, size: int) -> np.ndarray:
    """A linear (size, size, 3) scene: a random region of a photograph, 1–2.5 times the size, resized to it."""
    image = photo(str(rng.choice(SCENES)))
    side = min(image.shape[0], image.shape[1], int(size * rng.uniform(1.0, 2.5)))
    y, x = int(rng.integers(0, image.shape[0] - side + 1)), int(rng.integers(0, image.shape[1] - side + 1))
    region = cv2.resize(np.ascontiguousarray(image[y:y + side, x:x + side]), (size, size),
                        interpolation=cv2.INTER_AREA)
    return srgb_to_linear(region.astype(np.float64))


def _fourier_shift(image: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """(H, W, C) ``image`` translated by ``shift`` = (dy, dx) px, sub-pixel, by a phase ramp (periodic)."""
    h, w = image.shape[:2]
    ramp = np.exp(-2j * np.pi * (np.fft.fftfreq(h)[:, None] * shift[0] + np.fft.fftfreq(w)[None, :] * shift[1]))
    return np.real(np.fft.ifft2(np.fft.fft2(image, axes=(0, 1)) * ramp[..., None], axes=(0, 1)))


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)[..., ::-1],
                            [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255.0


def independent_burst(rng: np.random.Generator, size: int = 192, frames: int = 8) -> dict[str, Any]:
    """One burst: {"sharp": (size, size, 3) truth, "blurred": (frames, size, size, 3)}, sRGB in [0, 1]."""
    scene = _scene(rng, size)
    exposure = rng.uniform(1.2, 2.0) / max(float(np.quantile(scene, 0.999)), 1e-6) if rng.random() < 1 / 3 else 1.0
    electrons = rng.uniform(1_000.0, 8_000.0)
    quality = int(rng.integers(75, 96))
    out = []
    for _ in range(frames):
        kernel = trajectory_kernel(rng, rng.uniform(1.0, 17.0))
        radiance = cv2.filter2D(scene * exposure * rng.uniform(0.92, 1.08), -1, kernel[::-1, ::-1].copy(),
                                borderType=cv2.BORDER_REFLECT)
        radiance = _fourier_shift(radiance, rng.uniform(-0.75, 0.75, 2))
        light = rng.poisson(np.clip(radiance, 0, 1) * electrons) / electrons + rng.normal(0, 0.002, radiance.shape)
        out.append(_jpeg(linear_to_srgb(light), quality))
    truth = linear_to_srgb(np.clip(scene * exposure, 0, 1)).astype(np.float32)
    return {"sharp": truth, "blurred": np.stack(out)}
