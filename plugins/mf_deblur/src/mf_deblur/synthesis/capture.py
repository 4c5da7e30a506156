"""What a real handheld burst adds to blur: the camera's sensor, its exposure and its file format.

Networks trained on blur plus white read noise alone meet real bursts with
effects they never saw and lose to FBA there (issue 30). Each burst drawn here
gets, frame by frame:

* **exposure** differences between frames (auto-exposure and flicker): a gain of
  up to ±10 %;
* **saturation**: with probability ``CLIP_CHANCE`` the scene is brightened so
  its highlights clip at 1, as sky and lamps do in a real capture;
* **Poisson-Gaussian noise**: shot noise of a sensor with a random full-well
  capacity (photon-limited frames of dim scenes are noisier where bright), plus
  the read noise ``sigma``;
* **residual misregistration**: a sub-pixel to ``MAX_SHIFT`` px translation
  and a slight rotation left over by burst registration;
* **8-bit quantisation**, and with probability ``JPEG_CHANCE`` JPEG compression
  at quality 70–95 (its 8×8 blocks and ringing);
* **nearly sharp frames**: a share of frames gets a short kernel (3–5 px), the
  lucky frames a real burst contains.

The order follows the camera: light (clipping, shot and read noise) then the
file (quantisation, JPEG). Misregistration is applied to the sharp scene before
blur, as a moving camera would.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Chance that a burst's highlights clip, and how far above full scale its brightest pixels then go.
CLIP_CHANCE, CLIP_GAIN = 0.3, (1.1, 1.6)
#: Chance that a burst is JPEG-compressed, and the quality range.
JPEG_CHANCE, JPEG_QUALITY = 0.5, (70, 95)
#: Largest residual translation (px) and rotation (degrees) between registered frames.
MAX_SHIFT, MAX_ROTATION = 1.5, 0.3
#: Full-well capacities (electrons at full scale) drawn log-uniformly: from a dim phone shot to a bright one.
ELECTRONS = (300.0, 20_000.0)
#: Share of frames that are nearly sharp, and their kernel sizes.
LUCKY_SHARE, LUCKY_SIZES = 0.15, (3, 5)


def misregister(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``image`` moved by a small random rigid motion about its centre (reflected borders)."""
    h, w = image.shape[:2]
    angle = rng.uniform(-MAX_ROTATION, MAX_ROTATION)
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, 1.0)
    matrix[:, 2] += rng.uniform(-MAX_SHIFT, MAX_SHIFT, 2)
    moved = cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return moved.reshape(image.shape)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """An (H, W, 3) image in [0, 1] through JPEG at ``quality`` and back."""
    encoded = cv2.imencode(".jpg", np.round(image[..., ::-1] * 255).astype(np.uint8),
                           [cv2.IMWRITE_JPEG_QUALITY, int(quality)])[1]
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255.0


def expose(frames: np.ndarray, rng: np.random.Generator, sigma: float) -> tuple[np.ndarray, float]:
    """Blurred frames (N, H, W, 3) → what the camera writes (gains, clipping, noise, 8 bits, JPEG), and the
    burst's exposure gain (the sharp target is the scene at that gain, clipped likewise)."""
    gain = float(rng.uniform(*CLIP_GAIN)) if rng.random() < CLIP_CHANCE else 1.0
    scene = frames * gain * rng.uniform(0.9, 1.1, (len(frames), 1, 1, 1))
    electrons = np.exp(rng.uniform(*np.log(ELECTRONS)))
    light = rng.poisson(np.clip(scene, 0.0, None) * electrons) / electrons
    noisy = np.clip(light + rng.normal(0.0, sigma, scene.shape), 0.0, 1.0)
    written = np.round(noisy * 255) / 255
    if rng.random() < JPEG_CHANCE:
        quality = int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1))
        written = np.stack([jpeg(frame, quality) for frame in written])
    return written.astype(np.float32), gain
