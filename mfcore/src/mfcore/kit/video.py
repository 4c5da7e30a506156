"""Reading and writing videos with OpenCV, with one-line errors.

Frames are float32 RGB in [0, 1], shape (H, W, 3), like :mod:`mfcore.kit.images`.
Reading streams frame by frame (videos are long); writing goes to a temporary
name and is renamed when complete, so an interrupted run leaves no broken file.
``.mp4`` is written with the MPEG-4 Part 2 codec, which every OpenCV wheel can
encode (the H.264 encoders are not bundled with ``opencv-python-headless``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from ..atomic import atomic_path
from ..errors import InputError
from .images import check_pixel_budget, to_uint8

# FFmpeg inside OpenCV prints its own lines ("moov atom not found") for files it cannot parse; mf reports those
# as one clear error instead. Read when the first capture opens; set OPENCV_FFMPEG_LOGLEVEL to see FFmpeg's log.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}
_FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}


def _open(path: Path) -> cv2.VideoCapture:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise InputError(f"{path}: not a readable video")
    try:
        check_pixel_budget(path, int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
                           int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    except InputError:
        capture.release()
        raise
    return capture


def video_info(path: str | Path) -> dict[str, float]:
    """Frame count (as the container reports it), frame rate and size of a video."""
    capture = _open(Path(path))
    try:
        return {"frames": int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), "fps": float(capture.get(cv2.CAP_PROP_FPS)),
                "width": int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
                "height": int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))}
    finally:
        capture.release()


#: A stream may decode this share of its declared frames (less one) before it counts as ending early:
#: containers estimate the count from duration × rate, and variable-rate files miss it a little.
COMPLETE_SHARE = 0.98


def iter_video(path: str | Path, start: int = 0, count: int | None = None,
               complete: bool = False) -> Iterator[np.ndarray]:
    """Yield frames ``start, start+1, ...`` (at most ``count``) as float32 RGB.

    With ``complete``, a whole-file read that decodes clearly fewer frames than the file declares (a truncated
    or damaged video) ends with a one-line ``InputError`` instead of quietly returning what it got.
    """
    path = Path(path)
    capture = _open(path)
    try:
        if start:
            capture.set(cv2.CAP_PROP_POS_FRAMES, start)
        declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        read = 0
        while count is None or read < count:
            ok, frame = capture.read()
            if not ok:
                break
            read += 1
            yield frame[:, :, ::-1].astype(np.float32) / 255.0
        if complete and count is None and start == 0 and read < COMPLETE_SHARE * declared - 1:
            raise InputError(f"{path}: the video ends after {read} of its {declared} frames (truncated or damaged)")
    finally:
        capture.release()


def read_video(path: str | Path, start: int = 0, count: int | None = None, min_frames: int = 1) -> np.ndarray:
    """Frames of a video as one (N, H, W, 3) float32 array."""
    frames = list(iter_video(path, start, count))
    if len(frames) < min_frames:
        raise InputError(f"{path}: has {len(frames)} readable frame(s) from frame {start}, need {min_frames}")
    return np.stack(frames)


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: float = 30.0) -> Path:
    """Write float RGB frames in [0, 1] to ``path`` atomically; the suffix picks the codec."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _FOURCC:
        raise InputError(f"{path}: unknown video format {path.suffix!r}; use one of {', '.join(sorted(_FOURCC))}")
    with atomic_path(path) as tmp:
        writer = None
        try:
            for frame in frames:
                pixels = to_uint8(frame)
                if pixels.ndim == 2 or pixels.shape[2] == 1:
                    pixels = np.repeat(pixels.reshape(pixels.shape[0], pixels.shape[1], 1), 3, axis=2)
                if writer is None:
                    size = (pixels.shape[1], pixels.shape[0])
                    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*_FOURCC[suffix]), fps, size)
                    if not writer.isOpened():
                        raise InputError(f"{path}: OpenCV cannot encode {suffix} video here")
                elif (pixels.shape[1], pixels.shape[0]) != size:
                    raise InputError(f"{path}: frames change size from {size[0]}x{size[1]} "
                                     f"to {pixels.shape[1]}x{pixels.shape[0]}")
                writer.write(np.ascontiguousarray(pixels[:, :, ::-1]))
            if writer is None:
                raise InputError(f"{path}: no frames to write")
        finally:
            if writer is not None:
                writer.release()
    return path
