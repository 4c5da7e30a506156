"""Reading a user's polarisation captures: files or a raw mosaic, any bit depth, checked before separation.

Everything a capture brings is reduced to linear intensities (N, H, W, C) with
their polariser angles: 8-, 12-, 14- or 16-bit data in 8- or 16-bit PNG or TIFF
containers (the scale does not matter: separation normalises exposure,
:mod:`mf_reflect.exposure`), gamma-encoded files linearised with ``gamma``,
monochrome kept as one channel. Frames that cannot be separated are refused
with one line (black, saturated); frames that can but look suspicious get a
warning (clipped highlights, a "linear" input that looks gamma-encoded or the
reverse).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mfcore import InputError, warn
from mfcore.kit import read_burst, read_image

from .canonical import check_angles
from .mosaic import SONY_PATTERN, demosaic

DEFAULT_ANGLES = {3: (0.0, 45.0, 90.0), 4: (0.0, 45.0, 90.0, 135.0)}
#: Share of pixels at the stack's maximum above which the frames are saturated (an error) or clipped (a warning).
SATURATED, CLIPPED = 0.5, 0.005
#: Median over 99.5th percentile: linear captures of natural scenes sit low, gamma-encoded ones high.
LOOKS_ENCODED, LOOKS_LINEAR = 0.45, 0.06


def floats(text: str | None, what: str) -> tuple[float, ...] | None:
    """Comma-separated degrees, or None."""
    if text is None:
        return None
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError as exc:
        raise InputError(f"{what} must be comma-separated degrees, got {text!r}") from exc


def check_exposure(images: np.ndarray, gamma: float | None) -> None:
    """Errors for black or saturated stacks; warnings for clipping and a doubtful encoding."""
    top = float(images.max())
    if not top > 0:
        raise InputError("the polarisation images are black: nothing to separate")
    at_top = float(np.mean(images >= top * (1 - 1e-6)))
    if at_top > SATURATED:
        raise InputError(f"the polarisation images are saturated ({at_top:.0%} of pixels at the maximum): "
                         "expose shorter")
    if at_top > CLIPPED:
        warn(f"{at_top:.1%} of pixels are clipped at the maximum: the layers are wrong there")
    step = max(1, images.size // (1 << 20))
    sample = images.reshape(-1)[::step]
    ratio = float(np.median(sample)) / max(float(np.quantile(sample, 0.995)), 1e-12)
    if gamma is None and ratio > LOOKS_ENCODED:
        warn(f"the inputs look gamma-encoded (median {ratio:.2f} of the highlights); if they are 8-bit JPEG or "
             "PNG from a camera app, pass --gamma 2.2")
    elif gamma is not None and ratio < LOOKS_LINEAR:
        warn(f"the inputs look linear (median {ratio:.2f} of the highlights) although --gamma was given")


def read_captures(inputs: Sequence[Path], angles: str | None = None, mosaic: bool = False,
                  pattern: str | None = None, gamma: float | None = None,
                  half: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Linear polarisation images (N, H, W, C) and their angles (radians) from files or one raw mosaic."""
    if mosaic:
        if len(inputs) != 1:
            raise InputError(f"--mosaic takes one raw polarisation-camera frame, got {len(inputs)} files")
        if angles is not None:
            raise InputError("--angles does not apply to --mosaic; the --pattern gives the angles")
        images, degrees = demosaic(read_image(inputs[0]), floats(pattern, "--pattern") or SONY_PATTERN, half)
    else:
        if pattern is not None or half:
            raise InputError("--pattern and --half only apply to --mosaic")
        if len(inputs) < 3:
            raise InputError(f"need polarisation images at three or more angles, got {len(inputs)}")
        degrees = floats(angles, "--angles") or DEFAULT_ANGLES.get(len(inputs))
        if degrees is None:
            raise InputError(f"give the polariser angles of the {len(inputs)} images with --angles")
        if len(degrees) != len(inputs):
            raise InputError(f"--angles lists {len(degrees)} angles for {len(inputs)} images")
        images = read_burst(inputs, min_frames=3)
    radians = check_angles(np.radians(degrees))
    images = images.astype(np.float32)
    check_exposure(images, gamma)
    return (images ** gamma if gamma else images), radians
