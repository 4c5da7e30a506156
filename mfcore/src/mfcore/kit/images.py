"""Reading and writing images for the command line, with one-line errors.

Images are handled as float32 arrays in [0, 1] with shape (H, W, C), RGB order.
OpenCV does the decoding (8 and 16 bit PNG, TIFF, JPEG, ...); outputs are
written through :func:`mfcore.atomic.atomic_path` so a failed write leaves no
partial file behind.

Files are untrusted: a 1 MB PNG can declare 20000x20000 pixels. The size a
file declares is read from its header (Pillow, without decoding) and checked
against a pixel budget before anything is decoded: ``MF_MAX_PIXELS`` (default
2**28, 268 megapixels, about a 16384x16384 frame). Decoder errors and
non-finite pixels (NaN in a float TIFF) are refused with one line too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ..atomic import atomic_path, check_writable_dir
from ..errors import InputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".ppm", ".pgm", ".exr"}
#: Formats that keep 16 bits per channel (linear RAW-derived data needs them).
SIXTEEN_BIT_SUFFIXES = {".png", ".tif", ".tiff"}
DEFAULT_MAX_PIXELS = 1 << 28


def max_pixels() -> int:
    """The pixel budget of one image: ``MF_MAX_PIXELS``, else :data:`DEFAULT_MAX_PIXELS`."""
    raw = os.environ.get("MF_MAX_PIXELS")
    if raw is None:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"MF_MAX_PIXELS={raw!r}: expected a whole number of pixels") from None
    if value < 1:
        raise InputError(f"MF_MAX_PIXELS={raw!r}: must be positive")
    return value


def check_pixel_budget(path: Path, width: int, height: int) -> None:
    """Refuse an image (or video frame) larger than :func:`max_pixels` before it is decoded."""
    budget = max_pixels()
    if width * height > budget:
        raise InputError(f"{path}: declares {width}x{height} pixels, more than the budget of {budget} "
                         "(set MF_MAX_PIXELS to allow larger images)")


def _declared_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the file's header without decoding it; None when Pillow does not know the format."""
    pillow_limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # mf's budget applies, not Pillow's
    try:
        with Image.open(path) as header:  # lazy: reads the header only
            return header.size
    except UnidentifiedImageError:
        return None
    except (OSError, ValueError, SyntaxError) as exc:
        raise InputError(f"{path}: not a readable image ({exc})") from exc
    finally:
        Image.MAX_IMAGE_PIXELS = pillow_limit


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as float32 RGB (or single-channel) in [0, 1], shape (H, W, C)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    size = _declared_size(path)
    if size is not None:
        check_pixel_budget(path, *size)
    data = np.fromfile(path, dtype=np.uint8)
    try:
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    except cv2.error as exc:  # OpenCV's own limits (2**30 pixels) and decoder failures
        raise InputError(f"{path}: not a readable image ({str(exc).strip().splitlines()[-1]})") from exc
    if image is None:
        raise InputError(f"{path}: not a readable image")
    check_pixel_budget(path, image.shape[1], image.shape[0])  # formats Pillow does not know (EXR)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] == 4:
        image = image[:, :, :3]
    if image.shape[2] == 3:
        image = image[:, :, ::-1]
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    if image.dtype == np.uint16:
        return image.astype(np.float32) / 65535.0
    image = image.astype(np.float32)
    if not np.isfinite(image).all():
        raise InputError(f"{path}: has NaN or infinite pixels")
    return np.clip(image, 0.0, 1.0)


def to_uint8(image: np.ndarray) -> np.ndarray:
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def write_image(path: str | Path, image: np.ndarray, bits: int = 8) -> Path:
    """Write a float image in [0, 1] (H, W) or (H, W, C) atomically, as 8-bit or (PNG, TIFF) 16-bit."""
    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise InputError(f"{path}: unknown image format {path.suffix!r}; use one of {', '.join(sorted(IMAGE_SUFFIXES))}")
    if bits == 16 and path.suffix.lower() not in SIXTEEN_BIT_SUFFIXES:
        raise InputError(f"{path}: 16-bit output needs one of {', '.join(sorted(SIXTEEN_BIT_SUFFIXES))}")
    check_writable_dir(path)
    if bits == 16:
        pixels = (np.clip(image, 0.0, 1.0) * 65535.0 + 0.5).astype(np.uint16)
    else:
        pixels = to_uint8(image)
    if pixels.ndim == 3 and pixels.shape[2] == 3:
        pixels = pixels[:, :, ::-1]
    ok, encoded = cv2.imencode(path.suffix, np.ascontiguousarray(pixels))
    if not ok:
        raise InputError(f"{path}: OpenCV could not encode the image")
    with atomic_path(path) as tmp:
        encoded.tofile(tmp)
    return path


def files_in(folder: str | Path, suffixes: Iterable[str], what: str) -> list[Path]:
    """The files of ``folder`` with one of ``suffixes``, sorted by name; one-line errors when there are none."""
    path = Path(folder)
    if not path.is_dir():
        raise InputError(f"{path}: not a folder of {what}")
    suffixes = set(suffixes)
    found = sorted(p for p in path.iterdir() if p.suffix.lower() in suffixes and p.is_file())
    if not found:
        raise InputError(f"{path}: folder contains no {what} ({', '.join(sorted(suffixes))})")
    return found


def collect_frames(inputs: Iterable[str | Path]) -> list[Path]:
    """Expand folders into their image files (sorted by name); keep files as given."""
    frames: list[Path] = []
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            frames.extend(files_in(item, IMAGE_SUFFIXES, "images"))
        elif not item.exists():
            raise InputError(f"{item}: no such file or folder")
        else:
            frames.append(item)
    return frames


def read_burst(paths: Sequence[str | Path], min_frames: int = 2) -> np.ndarray:
    """Read frames of one size into an array of shape (N, H, W, C)."""
    if len(paths) < min_frames:
        raise InputError(f"need at least {min_frames} frames, got {len(paths)}")
    frames = [read_image(p) for p in paths]
    first = frames[0].shape
    for path, frame in zip(paths, frames):
        if frame.shape != first:
            raise InputError(f"{path}: frame is {frame.shape[1]}x{frame.shape[0]}x{frame.shape[2]}, "
                             f"but {paths[0]} is {first[1]}x{first[0]}x{first[2]}; all frames must match")
    return np.stack(frames)
