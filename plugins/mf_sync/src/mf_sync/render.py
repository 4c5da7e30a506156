"""A pinhole dash-cam driving between the façades of a route: one frame per camera pose.

Every pixel's ray is intersected in closed form with the left and right façade
planes (x = ∓WALL_DISTANCE, 0 ≤ y ≤ WALL_HEIGHT), the ground (y = 0) and
otherwise the sky; the hit point's coordinates along the road index the
route's textures with ``cv2.remap``. Moving the camera forward therefore gives
true perspective: near façade texture streams past quickly at the border,
far texture slowly near the vanishing point. Rendering at ``SUPERSAMPLE``x and
area-downsampling keeps the far, minified texture from shimmering. The depth of
each pixel comes back with the frame, for haze.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numba import njit

from .routes import GROUND_PERIOD, PIXELS_PER_METRE, VIEW_DISTANCE, WALL_DISTANCE, WALL_HEIGHT, Route

SUPERSAMPLE = 2
#: Frames are traced from an anchor on the route at a multiple of this many metres (:func:`facade_window`): a
#: whole number of ground periods (the ground's pattern stays put) and of texture columns.
ANCHOR = 5 * GROUND_PERIOD
#: Texture columns a frame can see from its anchor: up to ANCHOR ahead of it, then VIEW_DISTANCE on (+ margin).
WINDOW = int(np.ceil((ANCHOR + VIEW_DISTANCE) * PIXELS_PER_METRE)) + 2
#: Horizontal field of view of the dash-cam, degrees.
FIELD_OF_VIEW = 80.0
#: Sky colour at the horizon and straight up (linear RGB in [0, 1]).
_HORIZON = np.array([0.75, 0.82, 0.92], np.float32)
_ZENITH = np.array([0.35, 0.55, 0.85], np.float32)


@dataclass(frozen=True)
class Pose:
    """Camera pose: ``position`` along the route (m), lateral offset ``x`` (m), height ``y`` (m), angles (rad)."""

    position: float
    x: float = 1.8
    y: float = 1.3
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0


def _rotation(pose: Pose) -> np.ndarray:
    """World-from-camera rotation (3, 3): roll, then pitch, then yaw."""
    cy, sy = np.cos(pose.yaw), np.sin(pose.yaw)
    cp, sp = np.cos(pose.pitch), np.sin(pose.pitch)
    cr, sr = np.cos(pose.roll), np.sin(pose.roll)
    roll = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    pitch = np.array([[1, 0, 0], [0, cp, sp], [0, -sp, cp]])
    yaw = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    return (yaw @ pitch @ roll).astype(np.float32)


@njit(cache=True, nogil=True)
def _trace(rotation: np.ndarray, width: int, height: int, focal: float, x: float, y: float,
           position: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cast every pixel's ray: texture coordinates (4, H, W) (wall u, v; ground u, v), what it hits
    (0 sky, 1 ground, 2 left façade, 3 right façade), its depth and its elevation (sine, clipped to [0, 1]).

    One pass over the pixels with no temporaries: the same closed form as a chain of NumPy ``where``
    calls, several times faster, and the renderer's inner loop (three views per frame with motion blur).
    """
    maps = np.zeros((4, height, width), np.float32)
    kind = np.zeros((height, width), np.uint8)
    depth = np.empty((height, width), np.float32)
    elevation = np.empty((height, width), np.float32)
    ppm = PIXELS_PER_METRE
    for row in range(height):
        v = (height / 2 - row - 0.5) / focal
        for col in range(width):
            u = (col + 0.5 - width / 2) / focal
            dx = rotation[0, 0] * u + rotation[0, 1] * v + rotation[0, 2]
            dy = rotation[1, 0] * u + rotation[1, 1] * v + rotation[1, 2]
            dz = rotation[2, 0] * u + rotation[2, 1] * v + rotation[2, 2]
            t_wall = np.inf
            if dx != 0:
                t = ((-WALL_DISTANCE if dx < 0 else WALL_DISTANCE) - x) / dx
                if t > 0:
                    t_wall = t
            t_ground = -y / dy if dy < 0 else np.inf
            hit = np.inf
            if t_ground < t_wall:
                kind[row, col] = 1
                hit = t_ground
            elif t_wall < np.inf and y + t_wall * dy <= WALL_HEIGHT:
                kind[row, col] = 2 if dx < 0 else 3
                hit = t_wall
            along = min(max(hit * dz if hit < np.inf else VIEW_DISTANCE, 0.0), VIEW_DISTANCE - 1)
            if t_wall < np.inf:
                wall_y = min(max(y + t_wall * dy, 0.0), WALL_HEIGHT)
                maps[0, row, col] = (position + along) * ppm
                maps[1, row, col] = (WALL_HEIGHT - wall_y) * ppm
            if t_ground < np.inf:
                ground_x = min(max(x + t_ground * dx, -WALL_DISTANCE), WALL_DISTANCE)
                maps[2, row, col] = (ground_x + WALL_DISTANCE) * ppm
                maps[3, row, col] = ((position + along) % GROUND_PERIOD) * ppm
            depth[row, col] = min(hit, 10 * VIEW_DISTANCE)
            elevation[row, col] = min(max(dy / np.sqrt(dx * dx + dy * dy + dz * dz), 0.0), 1.0)
    return maps, kind, depth, elevation


@njit(cache=True, nogil=True)
def _compose(kind: np.ndarray, elevation: np.ndarray, ground: np.ndarray, left: np.ndarray,
             right: np.ndarray) -> np.ndarray:
    """Each pixel from the surface its ray hit; the sky a gradient from haze at the horizon to blue."""
    frame = np.empty(ground.shape, np.float32)
    for row in range(kind.shape[0]):
        for col in range(kind.shape[1]):
            k = kind[row, col]
            for c in range(3):
                if k == 1:
                    frame[row, col, c] = ground[row, col, c]
                elif k == 2:
                    frame[row, col, c] = left[row, col, c]
                elif k == 3:
                    frame[row, col, c] = right[row, col, c]
                else:
                    e = elevation[row, col]
                    frame[row, col, c] = _HORIZON[c] * (1 - e) + _ZENITH[c] * e
    return frame


def facade_window(position: float) -> tuple[float, slice]:
    """Where the façade texture seen from ``position`` (m) starts: (that point in metres, its texture columns).

    ``cv2.remap`` takes coordinates below 32,767 pixels, and float32 coordinates
    lose sub-pixel precision far along a long route (0.03 px at 20 km): frames
    are traced from an anchor a multiple of :data:`ANCHOR` behind the camera, so
    that they index a window of the façade texture, whatever the route's length.
    """
    start = np.floor(position / ANCHOR) * ANCHOR
    first = round(start * PIXELS_PER_METRE)
    return float(start), slice(first, first + WINDOW)


def render(route: Route, pose: Pose, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """The frame (H, W, 3) float32 seen from ``pose`` and each pixel's depth in metres (H, W)."""
    sw, sh = width * SUPERSAMPLE, height * SUPERSAMPLE
    focal = 0.5 * sw / np.tan(np.radians(FIELD_OF_VIEW) / 2)
    start, columns = facade_window(pose.position)
    maps, kind, depth, elevation = _trace(_rotation(pose), sw, sh, focal, pose.x, pose.y, pose.position - start)
    left = cv2.remap(route.left[:, columns], maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # The right façade is seen from its other side: its strip runs the same way along the road.
    right = cv2.remap(route.right[:, columns], maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    ground = cv2.remap(route.ground, maps[2], maps[3], cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    frame = _compose(kind, elevation, ground, left, right)  # the textures are float32 (routes.py)
    frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    depth = cv2.resize(depth, (width, height), interpolation=cv2.INTER_AREA)
    return frame, depth
