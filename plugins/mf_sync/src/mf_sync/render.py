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

from .routes import GROUND_PERIOD, PIXELS_PER_METRE, VIEW_DISTANCE, WALL_DISTANCE, WALL_HEIGHT, Route

SUPERSAMPLE = 2
#: Horizontal field of view of the dash-cam, degrees.
FIELD_OF_VIEW = 80.0


@dataclass(frozen=True)
class Pose:
    """Camera pose: ``position`` along the route (m), lateral offset ``x`` (m), height ``y`` (m), angles (rad)."""

    position: float
    x: float = 1.8
    y: float = 1.3
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0


def _rays(width: int, height: int, pose: Pose) -> np.ndarray:
    """Unit-free ray directions (3, H, W) in world axes (x right, y up, z along the road)."""
    focal = 0.5 * width / np.tan(np.radians(FIELD_OF_VIEW) / 2)
    u = (np.arange(width, dtype=np.float32) + 0.5 - width / 2) / focal
    v = (height / 2 - np.arange(height, dtype=np.float32) - 0.5) / focal
    rays = np.stack([np.broadcast_to(u[None, :], (height, width)), np.broadcast_to(v[:, None], (height, width)),
                     np.ones((height, width), np.float32)])
    cy, sy = np.cos(pose.yaw), np.sin(pose.yaw)
    cp, sp = np.cos(pose.pitch), np.sin(pose.pitch)
    cr, sr = np.cos(pose.roll), np.sin(pose.roll)
    roll = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    pitch = np.array([[1, 0, 0], [0, cp, sp], [0, -sp, cp]])
    yaw = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rotation = (yaw @ pitch @ roll).astype(np.float32)
    return np.einsum("ij,jhw->ihw", rotation, rays)


def render(route: Route, pose: Pose, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """The frame (H, W, 3) float32 seen from ``pose`` and each pixel's depth in metres (H, W)."""
    sw, sh = width * SUPERSAMPLE, height * SUPERSAMPLE
    dx, dy, dz = _rays(sw, sh, pose)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_wall = np.where(dx < 0, (-WALL_DISTANCE - pose.x) / dx, (WALL_DISTANCE - pose.x) / dx)
        t_ground = np.where(dy < 0, -pose.y / dy, np.inf)
    t_wall = np.where(np.isfinite(t_wall) & (t_wall > 0), t_wall, np.inf)
    wall_y = pose.y + t_wall * dy
    on_ground = t_ground < t_wall
    on_wall = ~on_ground & (wall_y <= WALL_HEIGHT) & np.isfinite(t_wall)
    depth = np.where(on_ground, t_ground, np.where(on_wall, t_wall, np.inf))
    along = np.clip(np.where(np.isfinite(depth), depth * dz, VIEW_DISTANCE), 0, VIEW_DISTANCE - 1)
    ppm = PIXELS_PER_METRE

    wall_u = ((pose.position + along) * ppm).astype(np.float32)
    wall_v = ((WALL_HEIGHT - np.clip(wall_y, 0, WALL_HEIGHT)) * ppm).astype(np.float32)
    left = cv2.remap(route.left, wall_u, wall_v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # The right façade is seen from its other side: its strip runs the same way along the road.
    right = cv2.remap(route.right, wall_u, wall_v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    ground_x = np.clip(pose.x + t_ground * dx, -WALL_DISTANCE, WALL_DISTANCE)
    ground_u = ((ground_x + WALL_DISTANCE) * ppm).astype(np.float32)
    ground_v = (((pose.position + along) % GROUND_PERIOD) * ppm).astype(np.float32)
    ground = cv2.remap(route.ground, ground_u, ground_v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    sky_row = np.clip(dy / np.sqrt(dx**2 + dy**2 + dz**2), 0, 1)[..., None]
    sky = (np.array([0.75, 0.82, 0.92], np.float32) * (1 - sky_row) + np.array([0.35, 0.55, 0.85], np.float32)
           * sky_row)

    frame = np.where(on_ground[..., None], ground, np.where(on_wall[..., None],
                                                            np.where((dx < 0)[..., None], left, right), sky))
    frame = cv2.resize(frame.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)
    depth = cv2.resize(np.minimum(depth, 10 * VIEW_DISTANCE).astype(np.float32), (width, height),
                       interpolation=cv2.INTER_AREA)
    return frame, depth
