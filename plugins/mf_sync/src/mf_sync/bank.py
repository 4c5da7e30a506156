"""The training videos' frames, decoded once and kept small: what triplets are cut from.

Every frame is shrunk to the network input and stored as uint8 (18 kB per
frame), so a few dozen drives of a minute or two fit in memory; batches convert
to float on the way out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mfcore import InputError
from mfcore.kit import VIDEO_SUFFIXES, iter_video, tracked, video_info

from .inputs import prepare


def videos_in(folder: Path) -> list[Path]:
    """The videos of a folder, sorted by name; one clear line when there are fewer than two."""
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder of videos")
    videos = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    if len(videos) < 2:
        raise InputError(f"{folder}: needs at least two videos, found {len(videos)}")
    return videos


def load_prepared(path: Path) -> np.ndarray:
    """All frames of a video as uint8 network inputs (N, 64, 96, 3)."""
    frames = [np.round((prepare(frame[None])[0] + 1) * 127.5).astype(np.uint8) for frame in iter_video(path)]
    if len(frames) < 2:
        raise InputError(f"{path}: a video of {len(frames)} frame(s) cannot be synchronised")
    return np.stack(frames)


class FrameBank:
    """Prepared frames of several videos, addressed by (video index, frame index)."""

    def __init__(self, videos: list[Path], quiet: bool = False) -> None:
        self.paths = videos
        self.frames = [load_prepared(p) for p in tracked(videos, "decoding videos", len(videos), quiet=quiet)]
        self.fps = [video_info(p)["fps"] or 30.0 for p in videos]

    def __len__(self) -> int:
        return len(self.frames)

    def lengths(self) -> list[int]:
        return [len(f) for f in self.frames]

    def every(self, step: int) -> list[np.ndarray]:
        """Float network inputs of every ``step``-th frame of each video."""
        return [to_inputs(frames[::step]) for frames in self.frames]

    def get(self, video: np.ndarray, frame: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Float network inputs (B, 64, 96, 3) in [-1, 1] for index arrays ``video`` and ``frame``.

        With ``rng``, each image gets its own photometric jitter (:func:`jitter`).
        """
        out = np.stack([self.frames[int(v)][int(f)] for v, f in zip(video, frame)])
        return to_inputs(out, rng)


def to_inputs(frames: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Stored uint8 frames → float32 network inputs in [-1, 1], jittered per image when ``rng`` is given."""
    out = frames.astype(np.float32) / 255.0
    if rng is not None:
        out = jitter(out, rng)
    return out * 2.0 - 1.0


def jitter(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random exposure, white balance, gamma and desaturation per image ((B, H, W, 3) in [0, 1]).

    Not in the thesis, which starts from an ImageNet network: here the network
    starts from scratch, and iteration 0's labels come from within one drive, where
    the light never changes. Jittering anchor, positive and negative independently
    tells it from the first iteration that exposure, colour cast and saturation
    (dusk, seasons) are not the place. Changes of weather (haze, blur, noise,
    streaks) and of the camera's mount (shift, roll, zoom) on top were tried in
    short first-iteration trials and made the descriptors worse.
    """
    count = len(images)
    gain = rng.uniform(0.6, 1.4, (count, 1, 1, 1)) * rng.uniform(0.85, 1.15, (count, 1, 1, 3))
    gamma = rng.uniform(0.7, 1.4, (count, 1, 1, 1))
    grey_share = rng.uniform(0.0, 0.6, (count, 1, 1, 1)) * (rng.random((count, 1, 1, 1)) < 0.5)
    out = np.clip(images * gain, 0, 1) ** gamma
    return ((1 - grey_share) * out + grey_share * out.mean(axis=3, keepdims=True)).astype(np.float32)
