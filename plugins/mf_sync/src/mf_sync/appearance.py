"""How one drive looks: season, light, haze, noise, raindrops and wipers (the thesis's cross-appearance drives).

An :class:`Appearance` is drawn once per drive. Season-like colour changes act
on the route's textures (foliage and façades change colour, snow whitens the
ground); light, haze and sensor effects act on each rendered frame. None of
them moves anything: two drives of one route stay in correspondence through
every appearance change, which is what a synchroniser must see through.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import cv2
import numpy as np

from .routes import Route

#: Per-channel gains and desaturation of the seasons; "winter" also whitens the ground (snow).
SEASONS = {
    "summer": ((1.0, 1.0, 1.0), 0.0),
    "autumn": ((1.12, 0.95, 0.72), 0.1),
    "winter": ((0.95, 1.0, 1.08), 0.6),
    "spring": ((0.92, 1.08, 0.9), 0.0),
}


@dataclass(frozen=True)
class Appearance:
    """The look of one drive; ``plain()`` is the untouched route."""

    season: str = "summer"
    gain: float = 1.0
    gamma: float = 1.0
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
    visibility: float = 1e9
    noise: float = 0.0
    motion_blur: bool = False
    raindrops: int = 0
    wiper_period: float = 0.0

    @classmethod
    def plain(cls) -> Appearance:
        return cls()

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Appearance:
        """A random appearance: any season, day to dusk, clear to hazy, dry or rainy."""
        rainy = rng.random() < 0.35
        dusk = rng.random() < 0.25
        return cls(
            season=str(rng.choice(list(SEASONS))),
            gain=float(rng.uniform(0.35, 0.6) if dusk else rng.uniform(0.75, 1.25)),
            gamma=float(rng.uniform(0.8, 1.25)),
            tint=(1.1, 0.95, 0.8) if dusk else tuple(float(t) for t in rng.uniform(0.93, 1.07, 3)),
            visibility=float(rng.uniform(40, 150) if rng.random() < 0.35 else 1e9),
            noise=float(rng.uniform(0.0, 0.03)),
            motion_blur=bool(rng.random() < 0.5),
            raindrops=int(rng.integers(15, 45)) if rainy else 0,
            wiper_period=float(rng.uniform(1.2, 2.5)) if rainy and rng.random() < 0.6 else 0.0,
        )

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def restyle(self, route: Route) -> Route:
        """The route's textures in this appearance's season."""
        gains, desaturation = SEASONS[self.season]

        def season(texture: np.ndarray) -> np.ndarray:
            grey = texture.mean(axis=2, keepdims=True)
            out = (1 - desaturation) * texture + desaturation * grey
            return np.clip(out * np.asarray(gains, np.float32), 0, 1).astype(np.float32)

        ground = season(route.ground)
        if self.season == "winter":
            ground = np.clip(0.45 * ground + 0.55 * 0.9, 0, 1).astype(np.float32)
        return replace(route, left=season(route.left), right=season(route.right), ground=ground)


class Lens:
    """Per-frame effects of an appearance: light, haze, raindrops on the windscreen, wipers, noise."""

    def __init__(self, appearance: Appearance, width: int, height: int, fps: float, rng: np.random.Generator):
        self.appearance, self.fps, self.rng = appearance, fps, rng
        self.size = (width, height)
        count = appearance.raindrops
        self.drops = np.column_stack([rng.uniform(0, width, count), rng.uniform(0, height, count),
                                      rng.uniform(1.5, 0.045 * width, count)]) if count else np.zeros((0, 3))

    def _respawn(self, which: np.ndarray) -> None:
        width, height = self.size
        count = int(which.sum())
        self.drops[which, 0] = self.rng.uniform(0, width, count)
        self.drops[which, 1] = self.rng.uniform(0, height, count)

    def _rain(self, frame: np.ndarray, index: int) -> np.ndarray:
        """Blurred, brightened discs (a drop refracts a blurred view) that slide down; the wiper clears them."""
        width, height = self.size
        self.drops[:, 1] += 0.05 * self.drops[:, 2] * 30 / self.fps
        gone = self.drops[:, 1] > height
        if self.appearance.wiper_period and index:
            before, now = sorted((self._wiper_angle(index - 1), self._wiper_angle(index)))
            angle = np.arctan2(height + 4 - self.drops[:, 1], self.drops[:, 0] - width / 2)
            gone |= (angle >= before) & (angle <= now)
        self._respawn(gone)
        mask = np.zeros((height, width), np.float32)
        for x, y, r in self.drops:
            cv2.circle(mask, (int(x), int(y)), int(r), 1.0, -1, lineType=cv2.LINE_AA)
        blurred = cv2.GaussianBlur(frame, (0, 0), 3.0) * 1.08
        return frame * (1 - mask[..., None]) + np.clip(blurred, 0, 1) * mask[..., None]

    def _wiper_angle(self, index: int) -> float:
        """The wiper blade's angle from its pivot below the frame: sweeps 0 → π → 0 once per period."""
        phase = (index / self.fps / self.appearance.wiper_period) % 1.0
        return float(np.pi * (1 - abs(2 * phase - 1)))

    def _wiper(self, frame: np.ndarray, index: int) -> np.ndarray:
        width, height = self.size
        angle = self._wiper_angle(index)
        pivot = (int(width / 2), height + 4)
        length = 1.1 * height
        tip = (int(pivot[0] + length * np.cos(angle)), int(pivot[1] - length * np.sin(angle)))
        out = frame.copy()
        cv2.line(out, pivot, tip, (0.05, 0.05, 0.05), max(2, width // 40), lineType=cv2.LINE_AA)
        return out

    def __call__(self, frame: np.ndarray, depth: np.ndarray, index: int) -> np.ndarray:
        a = self.appearance
        if a.visibility < 1e8:
            fog = 1 - np.exp(-depth / a.visibility)
            frame = frame * (1 - fog[..., None]) + 0.78 * fog[..., None]
        frame = np.clip(frame * a.gain * np.asarray(a.tint, np.float32), 0, 1) ** a.gamma
        if a.raindrops:
            frame = self._rain(frame, index)
        if a.wiper_period:
            frame = self._wiper(frame, index)
        if a.noise:
            frame = frame + self.rng.normal(0, a.noise, frame.shape)
        return np.clip(frame, 0, 1).astype(np.float32)
