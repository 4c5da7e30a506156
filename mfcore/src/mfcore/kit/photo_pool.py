"""Textured training patches from real photographs, with one train / held-out split for every plugin.

The pool is either the bundled photographs set aside for training or a user's
folder of images. Patches whose mean gradient magnitude is small are rejected:
they are flat (nothing for blur or reflections to destroy) or already blurry
(a bad ground truth; thesis 6.2.1). Rotations by multiples of 90° and
mirroring multiply the data.

The bundled photographs are split once, here: ``TRAIN_PHOTOS`` feed ``mf synth``
and ``mf train`` of every task; ``HELD_OUT_PHOTOS`` are only ever used by
``mf bench`` and ``mf demo``, so benchmarks measure images no shipped network
has seen.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from ..errors import InputError
from .images import IMAGE_SUFFIXES, files_in, read_image
from .sample_images import photo

TRAIN_PHOTOS = ("astronaut", "coffee", "rocket", "immunohistochemistry", "brick", "coins", "grass", "gravel",
                "hubble_deep_field", "page", "retina", "text", "sklearn:china.jpg")
HELD_OUT_PHOTOS = ("chelsea", "sklearn:flower.jpg", "camera", "clock")

#: Named pools of bundled photographs; any other value of ``images`` is a folder.
POOLS = {"train": TRAIN_PHOTOS, "held-out": HELD_OUT_PHOTOS}

#: Mean gradient magnitude (per pixel, intensities in [0, 1]) below which a patch is rejected.
MIN_GRADIENT = 0.02


def mean_gradient(image: np.ndarray) -> float:
    """Mean Sobel gradient magnitude of the grey image, per pixel."""
    grey = image.mean(axis=2) if image.ndim == 3 else image
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    return float(np.sqrt(gx**2 + gy**2).mean())


@functools.cache
def image_pool(folder: str | None) -> tuple[np.ndarray, ...]:
    """A named pool of bundled photographs (None: "train"), or every image of ``folder``, as float32 RGB.

    Cached per process.
    """
    if folder is None or folder in POOLS:
        return tuple(photo(name) for name in POOLS[folder or "train"])
    images = []
    for file in files_in(folder, IMAGE_SUFFIXES, "images"):
        image = read_image(file)
        images.append(np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image)
    return tuple(images)


def augment(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random one of the eight rotations and mirrorings of the square dihedral group."""
    out = np.rot90(image, int(rng.integers(4)))
    return np.ascontiguousarray(out[:, ::-1] if rng.random() < 0.5 else out)


def textured_patch(rng: np.random.Generator, size: int, folder: str | None = None, tries: int = 50,
                   flat_share: float = 0.0) -> np.ndarray:
    """A random, augmented, textured (H, W, 3) patch from the pool.

    With probability ``flat_share`` the first patch drawn is kept whatever its
    gradient, so that training can also show a network flat content (skies,
    walls), which it should leave alone. No random number is drawn for this
    when ``flat_share`` is 0, so such streams stay as they were.
    """
    images = [im for im in image_pool(folder) if min(im.shape[:2]) >= size]
    if not images:
        raise InputError(f"no image of the pool is at least {size}x{size} pixels")
    min_gradient = 0.0 if flat_share > 0 and rng.random() < flat_share else MIN_GRADIENT
    best, best_score = None, -1.0
    for _ in range(tries):
        image = images[int(rng.integers(len(images)))]
        y = int(rng.integers(0, image.shape[0] - size + 1))
        x = int(rng.integers(0, image.shape[1] - size + 1))
        patch = image[y:y + size, x:x + size]
        score = mean_gradient(patch)
        if score >= min_gradient:
            return augment(patch, rng)
        if score > best_score:
            best, best_score = patch, score
    return augment(best, rng)  # a pool of flat images: the most textured patch found
