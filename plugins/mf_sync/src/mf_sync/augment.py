"""Random changes of look and camera mount applied to every training image on its own.

Not in the thesis, which starts from an ImageNet-trained ResNet: this network
starts from scratch, and iteration 0's labels come from within one drive, where
light, weather and the camera's mount never change. Changing anchor, positive
and negative independently tells the network from the first iteration that
these are not the place, and gives the first matching tours a chance to be
found across appearances:

- **light**: exposure, white balance, gamma and desaturation (dusk, seasons);
- **weather and sensor**: haze (a blend towards a bright grey), blur, noise and
  a dark streak (a wiper blade), each only sometimes;
- **mount**: a small shift and roll, as another car's camera sits at another
  height, lane position and angle (at most ``MAX_SHIFT`` of the width). No
  zoom: zooming looks like driving on, and telling places a few metres apart
  is the network's job (with a 10 % zoom the first iteration's descriptors
  found the right place a third less often on validation drives).

Images are (B, H, W, 3) float32 in [0, 1], the network input size.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Largest shift (share of the image width / height) and roll of the mount.
MAX_SHIFT = 0.03
MAX_ROLL_DEGREES = 2.0


def light(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random exposure, white balance, gamma and desaturation per image."""
    count = len(images)
    gain = rng.uniform(0.6, 1.4, (count, 1, 1, 1)) * rng.uniform(0.85, 1.15, (count, 1, 1, 3))
    gamma = rng.uniform(0.7, 1.4, (count, 1, 1, 1))
    grey_share = rng.uniform(0.0, 0.6, (count, 1, 1, 1)) * (rng.random((count, 1, 1, 1)) < 0.5)
    out = np.clip(images * gain, 0, 1) ** gamma
    return ((1 - grey_share) * out + grey_share * out.mean(axis=3, keepdims=True)).astype(np.float32)


def weather(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Haze, blur, noise and a wiper-like streak, each with probability one half or less."""
    out = image
    if rng.random() < 0.35:
        out = out + rng.uniform(0.1, 0.45) * (rng.uniform(0.65, 0.85) - out)
    if rng.random() < 0.5:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.2))
    if rng.random() < 0.2:
        height, width = out.shape[:2]
        start = (int(rng.integers(width)), height)
        end = (int(rng.integers(width)), int(rng.integers(height // 2)))
        out = cv2.line(out.copy(), start, end, (0.05, 0.05, 0.05), int(rng.integers(2, 5)), cv2.LINE_AA)
    if rng.random() < 0.5:
        out = out + rng.normal(0, rng.uniform(0.005, 0.03), out.shape)
    return np.clip(out, 0, 1).astype(np.float32)


def mount(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A small random shift and roll about the image centre (borders replicated)."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), rng.uniform(-MAX_ROLL_DEGREES, MAX_ROLL_DEGREES), 1.0)
    matrix[:, 2] += rng.uniform(-MAX_SHIFT, MAX_SHIFT, 2) * (width, height)
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def augment(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Light, weather and mount changes, drawn for every image on its own."""
    out = light(images, rng)
    return np.stack([weather(mount(image, rng), rng) for image in out])
