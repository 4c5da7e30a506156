"""Real photographs shipped inside installed wheels: test, demo and training data without downloads.

scikit-image bundles a few dozen images in its wheel and scikit-learn two more
(``sklearn:china.jpg``, ``sklearn:flower.jpg``, read only when scikit-learn is
installed). Grey photographs are replicated to three channels so every task
can treat them as RGB.
"""

from __future__ import annotations

import functools

import numpy as np

from ..errors import InputError

#: Colour photographs bundled with scikit-image.
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry")
#: Further bundled photographs: grey ones from scikit-image, colour ones from both packages.
MORE_PHOTOS = ("brick", "camera", "coins", "grass", "gravel", "hubble_deep_field", "moon", "page", "retina", "text",
               "clock", "sklearn:china.jpg", "sklearn:flower.jpg")


def photo(name: str) -> np.ndarray:
    """A bundled photo as float32 RGB in [0, 1], shape (H, W, 3). Cached and read-only."""
    if name not in PHOTOS + MORE_PHOTOS:
        raise InputError(f"unknown sample photo {name!r}; choose from {', '.join(PHOTOS + MORE_PHOTOS)}")
    return _load(name)


@functools.cache
def _load(name: str) -> np.ndarray:
    if name.startswith("sklearn:"):
        try:
            from sklearn.datasets import load_sample_image
        except ImportError as exc:
            raise InputError(f"sample photo {name!r} needs scikit-learn (pip install scikit-learn)") from exc
        pixels = load_sample_image(name.split(":", 1)[1])
    else:
        from skimage import data as skdata

        pixels = getattr(skdata, name)()
    image = pixels.astype(np.float32) / (255.0 if pixels.dtype == np.uint8 else max(1.0, float(pixels.max())))
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    image = np.ascontiguousarray(image[:, :, :3])
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
