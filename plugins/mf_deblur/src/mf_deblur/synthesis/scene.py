"""Short videos of moving scenes built from real photographs, with sharp frames at any time.

There is no high-frame-rate video corpus in any wheel, so the dynamic-scene
synthesiser and its tests need videos made here: a background photograph seen
by a camera that pans, rotates and zooms smoothly, and a few objects cut from
other photographs (soft-edged ellipses) that move and turn on their own paths.
Motion is a smooth function of continuous time, so :meth:`Scene.render` gives
the *exact* sharp frame at any time, including between video frames; tests use
that to check the optical-flow interpolation of :mod:`mf_deblur.synthesis.motion_blur`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mfcore.kit import augment, image_pool


@dataclass(frozen=True)
class Sprite:
    """An object: an RGBA cut-out moving as position(t) = p + v t + a t²/2, turning at ``spin`` rad/frame."""

    rgba: np.ndarray
    position: np.ndarray
    velocity: np.ndarray
    acceleration: np.ndarray
    spin: float


@dataclass(frozen=True)
class Scene:
    """A background, a camera path and sprites; ``render(t)`` draws frame time ``t`` (in frames)."""

    background: np.ndarray
    height: int
    width: int
    velocity: np.ndarray  # camera pan, background pixels per frame (x, y)
    acceleration: np.ndarray
    spin: float  # camera roll, rad per frame
    zoom: float  # relative scale change per frame
    sprites: tuple[Sprite, ...]

    def camera(self, t: float) -> np.ndarray:
        """2x3 affine map from background to frame pixels at time ``t``."""
        bh, bw = self.background.shape[:2]
        centre = np.array([bw / 2, bh / 2]) + self.velocity * t + 0.5 * self.acceleration * t * t
        scale = 1.0 + self.zoom * t
        cos, sin = scale * np.cos(self.spin * t), scale * np.sin(self.spin * t)
        rotation = np.array([[cos, -sin], [sin, cos]])
        offset = np.array([self.width / 2, self.height / 2]) - rotation @ centre
        return np.hstack([rotation, offset[:, None]])

    def render(self, t: float) -> np.ndarray:
        """The sharp (height, width, 3) frame at time ``t``."""
        frame = cv2.warpAffine(self.background, self.camera(t), (self.width, self.height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT)
        for sprite in self.sprites:
            frame = _composite(frame, sprite, t)
        return frame

    def clip(self, frames: int, start: float = 0.0) -> np.ndarray:
        """``frames`` consecutive sharp frames from time ``start``: (N, height, width, 3)."""
        return np.stack([self.render(start + i) for i in range(frames)])


def _composite(frame: np.ndarray, sprite: Sprite, t: float) -> np.ndarray:
    sh, sw = sprite.rgba.shape[:2]
    position = sprite.position + sprite.velocity * t + 0.5 * sprite.acceleration * t * t
    matrix = cv2.getRotationMatrix2D((sw / 2, sh / 2), np.degrees(sprite.spin * t), 1.0)
    matrix[:, 2] += position - np.array([sw / 2, sh / 2])
    h, w = frame.shape[:2]
    layer = cv2.warpAffine(sprite.rgba, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    alpha = layer[:, :, 3:]
    return frame * (1.0 - alpha) + layer[:, :, :3] * alpha


def _cutout(image: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A soft-edged elliptical RGBA cut-out of a random part of ``image``."""
    y = int(rng.integers(0, image.shape[0] - size + 1))
    x = int(rng.integers(0, image.shape[1] - size + 1))
    rgb = augment(image[y:y + size, x:x + size], rng)
    mask = np.zeros((size, size), np.float32)
    axes = (int(size / 2 * rng.uniform(0.6, 0.95)), int(size / 2 * rng.uniform(0.6, 0.95)))
    cv2.ellipse(mask, (size // 2, size // 2), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1, cv2.LINE_AA)
    mask = cv2.GaussianBlur(mask, (0, 0), 1.0)
    return np.dstack([rgb, mask]).astype(np.float32)


def random_scene(rng: np.random.Generator, height: int, width: int, max_speed: float = 6.0, objects: int = 2,
                 images: str | None = None) -> Scene:
    """A random scene: camera pan up to ``max_speed`` px/frame, up to ``objects`` sprites moving faster."""
    pool = image_pool(images)
    need = int(np.ceil(np.hypot(height, width))) + 8
    backgrounds = [im for im in pool if min(im.shape[:2]) >= need // 2]
    background = backgrounds[int(rng.integers(len(backgrounds)))] if backgrounds else pool[0]
    scale = max(1.0, need / min(background.shape[:2]))
    if scale > 1.0:
        background = cv2.resize(background, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    background = augment(background, rng)
    speed = rng.uniform(0.0, max_speed)
    direction = rng.uniform(0, 2 * np.pi)
    sprites = []
    for _ in range(int(rng.integers(0, objects + 1))):
        size = int(min(height, width) * rng.uniform(0.25, 0.6))
        source = [im for im in pool if min(im.shape[:2]) >= size]
        cut = _cutout(source[int(rng.integers(len(source)))], size, rng)
        angle = rng.uniform(0, 2 * np.pi)
        sprites.append(Sprite(cut, rng.uniform([0, 0], [width, height]),
                              rng.uniform(0.5, 2.0) * max_speed * np.array([np.cos(angle), np.sin(angle)]),
                              rng.normal(0, 0.1 * max_speed, 2), float(rng.normal(0, 0.02))))
    return Scene(np.ascontiguousarray(background), height, width,
                 speed * np.array([np.cos(direction), np.sin(direction)]), rng.normal(0, 0.05 * max_speed, 2),
                 float(rng.normal(0, 0.004)), float(rng.normal(0, 0.002)), tuple(sprites))
