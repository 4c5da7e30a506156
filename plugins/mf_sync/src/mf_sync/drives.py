"""Drives: a camera driven along routes with a speed profile, detours and an appearance, saved with ground truth.

A :class:`DriveSpec` is the plan of one drive: its legs (route, start and end
position), its :class:`~mf_sync.appearance.Appearance`, camera mount and seed.
:func:`render_drive` turns it into an ``.mp4`` and a ``.truth.csv`` holding,
per frame, the route and the position along it in metres; two frames of two
drives show the same place when those agree. Speed profiles stop, wait and
accelerate, so the frame mapping between drives is far from linear.
"""

from __future__ import annotations

import csv
import functools
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from mfcore import atomic_path
from mfcore.kit import write_video

from .appearance import Appearance, Lens
from .render import Pose, render
from .routes import Route, make_route

#: Speeds of the profile, m/s (about 20 to 60 km/h), and its acceleration and braking limits, m/s².
SPEEDS = (5.5, 16.5)
ACCELERATION, BRAKING = 2.0, 3.5


@dataclass(frozen=True)
class RouteSpec:
    """What :func:`mf_sync.routes.make_route` needs: everything a worker process needs to rebuild a route."""

    name: str
    length: float
    seed: int
    pool: str | None = None


@dataclass(frozen=True)
class Leg:
    """A stretch of one route driven forward from ``start`` to ``end`` metres."""

    route: str
    start: float
    end: float


@dataclass(frozen=True)
class DriveSpec:
    """The plan of one drive."""

    name: str
    legs: tuple[Leg, ...]
    appearance: Appearance
    seed: int
    mount: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "legs": [asdict(leg) for leg in self.legs],
                "appearance": self.appearance.as_dict(), "seed": self.seed, "mount": self.mount}


def speed_profile(rng: np.random.Generator, distance: float, fps: float, stops: int) -> np.ndarray:
    """Positions (m) at each frame of a drive over ``distance`` metres with ``stops`` stops of 2-8 s.

    The target speed changes every 4-12 s; the car accelerates and brakes within
    fixed limits and brakes in time for each stop, like traffic lights.
    """
    dt = 1.0 / fps
    stop_at = sorted(rng.uniform(0.1, 0.9, stops) * distance)
    positions, position, speed, target, hold, change = [0.0], 0.0, 0.0, rng.uniform(*SPEEDS), 0.0, 0.0
    while position < distance:
        if hold > 0:
            hold -= dt
            speed = 0.0
        else:
            change -= dt
            if change <= 0:
                target, change = rng.uniform(*SPEEDS), rng.uniform(4, 12)
            limit = target
            if stop_at:
                gap = max(stop_at[0] - position, 0.0)
                limit = min(limit, np.sqrt(2 * BRAKING * gap))
                if gap < 0.05:
                    stop_at.pop(0)
                    hold, speed = rng.uniform(2, 8), 0.0
            speed = min(limit, speed + ACCELERATION * dt) if limit >= speed else max(limit, speed - BRAKING * dt)
            position += speed * dt
        positions.append(min(position, distance))
    return np.asarray(positions)


def plan_drives(routes: list[RouteSpec], drives: int, rng: np.random.Generator, detours: float = 0.4,
                plain_first: bool = False) -> list[DriveSpec]:
    """``drives`` drives per route with random start, end, detours through other routes and appearance."""
    specs = []
    for route in routes:
        others = [r for r in routes if r.name != route.name]
        for d in range(drives):
            length = route.length
            start, end = rng.uniform(0, 0.25) * length, rng.uniform(0.75, 1.0) * length
            legs = [Leg(route.name, start, end)]
            if others and rng.random() < detours:
                other = others[int(rng.integers(len(others)))]
                leave = rng.uniform(start + 0.3 * (end - start), start + 0.6 * (end - start))
                detour = rng.uniform(0.1, 0.2) * other.length
                enter = rng.uniform(0, other.length - detour)
                rejoin = min(end - 0.1 * length, leave + rng.uniform(0, 0.1) * length)
                legs = [Leg(route.name, start, leave), Leg(other.name, enter, enter + detour),
                        Leg(route.name, rejoin, end)]
            appearance = Appearance.plain() if plain_first and d == 0 else Appearance.draw(rng)
            mount = {"height": float(rng.uniform(1.15, 1.5)), "lane": float(rng.uniform(1.2, 2.4)),
                     "yaw": float(rng.uniform(-0.05, 0.05)), "pitch": float(rng.uniform(-0.04, 0.03))}
            specs.append(DriveSpec(f"{route.name}_d{d}", tuple(legs), appearance, int(rng.integers(2**31)), mount))
    return specs


@functools.cache
def _route(spec: RouteSpec) -> Route:
    return make_route(spec.name, spec.length, spec.seed, spec.pool)


def _smooth_walk(rng: np.random.Generator, count: int, sigma: float, frames: float) -> np.ndarray:
    """A zero-mean random signal of standard deviation ~sigma that changes over ~``frames`` frames."""
    kernel = np.exp(-0.5 * (np.arange(-3 * frames, 3 * frames + 1) / frames) ** 2)
    noise = np.convolve(rng.normal(0, 1, count + len(kernel)), kernel / np.sqrt((kernel**2).sum()), "same")
    return sigma * noise[len(kernel) // 2: len(kernel) // 2 + count]


def drive_truth(spec: DriveSpec, fps: float, rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    """Per frame, the route name and the position along it (m)."""
    routes: list[str] = []
    positions: list[np.ndarray] = []
    for leg in spec.legs:
        walk = leg.start + speed_profile(rng, leg.end - leg.start, fps, stops=int(rng.integers(0, 3)))
        routes += [leg.route] * len(walk)
        positions.append(walk)
    return routes, np.concatenate(positions)


def _frames(spec: DriveSpec, routes: dict[str, RouteSpec], truth: tuple[list[str], np.ndarray], width: int,
            height: int, fps: float, rng: np.random.Generator) -> Iterator[np.ndarray]:
    names, positions = truth
    count = len(positions)
    lens = Lens(spec.appearance, width, height, fps, rng)
    yaw = spec.mount.get("yaw", 0.0) + _smooth_walk(rng, count, 0.012, fps / 2)
    pitch = spec.mount.get("pitch", 0.0) + _smooth_walk(rng, count, 0.008, fps / 4)
    roll = _smooth_walk(rng, count, 0.01, fps / 2)
    lane = spec.mount.get("lane", 1.8) + _smooth_walk(rng, count, 0.25, 3 * fps)
    styled = {name: spec.appearance.restyle(_route(routes[name])) for name in set(names)}
    for i in range(count):
        route = styled[names[i]]
        step = positions[i] - positions[i - 1] if i and names[i] == names[i - 1] else 0.0
        offsets = (0.0, -step / 3, -2 * step / 3) if spec.appearance.motion_blur and step > 0 else (0.0,)
        views = [render(route, Pose(positions[i] + o, float(lane[i]), spec.mount.get("height", 1.3), float(yaw[i]),
                                    float(pitch[i]), float(roll[i])), width, height) for o in offsets]
        frame = np.mean([v[0] for v in views], axis=0)
        yield lens(frame, views[0][1], i)


def render_drive(spec: DriveSpec, routes: dict[str, RouteSpec], folder: Path, width: int, height: int,
                 fps: float) -> dict[str, object]:
    """Write ``NAME.mp4`` and ``NAME.truth.csv`` into ``folder``; return the drive's manifest entry."""
    rng = np.random.default_rng(spec.seed)
    truth = drive_truth(spec, fps, rng)
    write_video(folder / f"{spec.name}.mp4", _frames(spec, routes, truth, width, height, fps, rng), fps)
    with atomic_path(folder / f"{spec.name}.truth.csv") as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["frame", "route", "position_m"])
        writer.writerows((i, name, f"{pos:.4f}") for i, (name, pos) in enumerate(zip(*truth)))
    return {**spec.as_dict(), "frames": len(truth[1]), "seconds": round(len(truth[1]) / fps, 2)}


def write_manifest(folder: Path, manifest: dict[str, object]) -> Path:
    """``drives.json``: routes, drives and rendering settings (what ``mf bench sync`` and training read)."""
    path = folder / "drives.json"
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(manifest, indent=1))
    return path
