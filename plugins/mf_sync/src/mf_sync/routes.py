"""Routes: long roadside scenes made from real photographs, for drives with ground truth.

A route is a straight road between two walls ("façades") whose textures are
strips of random crops from a photo pool, one after the other, plus an asphalt
ground texture. A drive moves a camera along it (:mod:`mf_sync.render`), so two
drives of the same route see the same façades at the same route positions: that
is the ground truth synchronisation is measured against. Routes drawn from
``mfcore.kit.photo_pool``'s held-out photographs are never seen in training.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mfcore.kit import augment, image_pool

#: Façade height in metres and texture resolution in pixels per metre.
WALL_HEIGHT = 10.0
PIXELS_PER_METRE = 12.8
#: Distance from the road centre to each façade, metres.
WALL_DISTANCE = 7.0
#: The renderer looks this far ahead; strips extend past the route's end by as much.
VIEW_DISTANCE = 160.0
#: Period of the ground texture along the road, metres (lane dashes repeat every 9 m).
GROUND_PERIOD = 36.0


@dataclass(frozen=True)
class Route:
    """Textures of one route: ``left``/``right`` façades (H, L, 3) and ``ground`` (G, W, 3), float32."""

    name: str
    length: float
    left: np.ndarray
    right: np.ndarray
    ground: np.ndarray


def _facade(rng: np.random.Generator, pool: tuple[np.ndarray, ...], width: int, height: int) -> np.ndarray:
    """A strip of ``width`` px: random crops of the pool, rescaled to ``height``, side by side."""
    pieces, filled = [], 0
    while filled < width:
        image = augment(pool[int(rng.integers(len(pool)))], rng)
        h, w = image.shape[:2]
        crop_h = int(rng.integers(min(h, 96), h + 1))
        aspect = rng.uniform(0.6, 1.6)
        crop_w = min(w, max(16, int(crop_h * aspect)))
        y, x = int(rng.integers(0, h - crop_h + 1)), int(rng.integers(0, w - crop_w + 1))
        piece_w = max(8, round(crop_w * height / crop_h))
        piece = cv2.resize(np.ascontiguousarray(image[y:y + crop_h, x:x + crop_w]), (piece_w, height),
                           interpolation=cv2.INTER_AREA)
        pieces.append(piece)
        filled += piece_w
    return np.concatenate(pieces, axis=1)[:, :width]


def _ground(rng: np.random.Generator) -> np.ndarray:
    """Asphalt with a dashed centre line and solid edge lines; one period of GROUND_PERIOD metres."""
    ppm = PIXELS_PER_METRE
    rows, cols = round(GROUND_PERIOD * ppm), round(2 * WALL_DISTANCE * ppm)
    tone = rng.uniform(0.25, 0.4)
    grain = cv2.GaussianBlur(rng.normal(0.0, 1.0, (rows, cols)).astype(np.float32), (0, 0), 1.5)
    asphalt = np.clip(tone + 0.05 * grain, 0, 1)
    ground = np.repeat(asphalt[:, :, None], 3, axis=2)
    x = (np.arange(cols) + 0.5) / ppm - WALL_DISTANCE  # metres from the road centre
    z = (np.arange(rows) + 0.5) / ppm
    paint = np.zeros((rows, cols), bool)
    paint |= (np.abs(x) < 0.08)[None, :] & ((z % 9.0) < 3.0)[:, None]
    paint |= (np.abs(np.abs(x) - 4.5) < 0.1)[None, :]
    ground[paint] = 0.85
    pavement = np.abs(x) > 5.0
    ground[:, pavement] = np.clip(ground[:, pavement] * 1.6, 0, 1)
    return ground.astype(np.float32)


def make_route(name: str, length: float, seed: int, pool: str | None = None) -> Route:
    """A route of ``length`` metres from the photo pool ``pool`` ("train", "held-out" or a folder)."""
    rng = np.random.default_rng(seed)
    images = image_pool(pool)
    height = round(WALL_HEIGHT * PIXELS_PER_METRE)
    width = round((length + VIEW_DISTANCE) * PIXELS_PER_METRE)
    return Route(name, float(length), _facade(rng, images, width, height), _facade(rng, images, width, height),
                 _ground(rng))
