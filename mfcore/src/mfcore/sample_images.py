"""Real photographs shipped inside scikit-image's wheel: test and demo data without downloads."""

from __future__ import annotations

import functools

import numpy as np
from skimage import data as skdata

from .errors import InputError

#: Colour photographs bundled with scikit-image (no download needed).
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry")


def photo(name: str) -> np.ndarray:
    """A bundled photo as float32 RGB in [0, 1], shape (H, W, 3). Cached and read-only."""
    if name not in PHOTOS:
        raise InputError(f"unknown sample photo {name!r}; choose from {', '.join(PHOTOS)}")
    return _load(name)


@functools.cache
def _load(name: str) -> np.ndarray:
    image = getattr(skdata, name)().astype(np.float32) / 255.0
    image.flags.writeable = False
    return image


def crop(image: np.ndarray, size: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """A size x size crop: random when ``rng`` is given, centred otherwise."""
    h, w = image.shape[:2]
    if size > min(h, w):
        raise InputError(f"crop of {size} px does not fit a {w}x{h} image")
    if rng is None:
        y, x = (h - size) // 2, (w - size) // 2
    else:
        y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
    return np.ascontiguousarray(image[y : y + size, x : x + size])
