"""Running fully convolutional networks on images of any size: padding and seamless tiling.

Encoder-decoders down-sample a fixed number of times, so inputs are
reflect-padded to a multiple and cropped back (:func:`pad_to_multiple`). Images
larger than memory allows are cut into overlapping tiles (:func:`tiled`); each
tile's output is weighted by a ramp that falls smoothly (raised cosine) across
the overlap and the weighted outputs are normalised, so no seam shows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import InputError


def pad_to_multiple(stack: np.ndarray, multiple: int) -> tuple[np.ndarray, int, int]:
    """Reflect-pad a (N, H, W, C) stack so H and W are multiples of ``multiple``: (padded, H, W)."""
    h, w = stack.shape[1:3]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        stack = np.pad(stack, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="reflect" if min(h, w) > 1 else "edge")
    return stack, h, w


def _ramp(length: int, overlap: int, first: bool, last: bool) -> np.ndarray:
    weight = np.ones(length, np.float32)
    if overlap > 0:
        rise = 0.5 - 0.5 * np.cos(np.pi * (np.arange(overlap) + 0.5) / overlap)
        if not first:
            weight[:overlap] = rise
        if not last:
            weight[-overlap:] = rise[::-1]
    return weight


def _starts(size: int, tile: int, overlap: int) -> list[int]:
    if size <= tile:
        return [0]
    starts = list(range(0, size - tile, tile - overlap)) + [size - tile]
    return sorted(set(starts))


def tiled(fn: Callable[[np.ndarray], np.ndarray], stack: np.ndarray, tile: int | None,
          overlap: int = 32) -> np.ndarray:
    """``fn`` over a (N, H, W, C) stack, in overlapping tiles blended smoothly when ``tile`` is set.

    ``fn`` maps a (N, h, w, C) crop to a (K, h, w, C') output aligned with it pixel for pixel.
    """
    h, w = stack.shape[1:3]
    if tile is None or (h <= tile and w <= tile):
        return fn(stack)
    if overlap * 2 >= tile:
        raise InputError(f"tile overlap {overlap} must be less than half the tile size {tile}")
    total: np.ndarray | None = None
    weight = np.zeros((h, w, 1), np.float32)
    ys, xs = _starts(h, tile, overlap), _starts(w, tile, overlap)
    for y in ys:
        for x in xs:
            out = fn(stack[:, y:y + tile, x:x + tile])
            if total is None:
                total = np.zeros((out.shape[0], h, w, out.shape[-1]), np.float32)
            wy = _ramp(out.shape[1], overlap, y == ys[0], y == ys[-1])
            wx = _ramp(out.shape[2], overlap, x == xs[0], x == xs[-1])
            tile_weight = (wy[:, None] * wx[None, :])[:, :, None]
            total[:, y:y + out.shape[1], x:x + out.shape[2]] += out * tile_weight
            weight[y:y + out.shape[1], x:x + out.shape[2]] += tile_weight
    assert total is not None
    return total / weight
