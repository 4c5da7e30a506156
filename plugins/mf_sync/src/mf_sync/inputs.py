"""What the descriptor network sees: frames shrunk to 64×96 and mapped to [-1, 1] (no Keras import here).

Global scene layout identifies a place, not fine texture, and small inputs keep
describing every frame of long videos cheap.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Network input (height, width).
INPUT_SIZE = (64, 96)


def prepare(frames: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) float frames in [0, 1] → (N, 64, 96, 3) float32 network inputs in [-1, 1]."""
    height, width = INPUT_SIZE
    out = np.empty((len(frames), height, width, 3), np.float32)
    for i, frame in enumerate(frames):
        small = frame if frame.shape[:2] == INPUT_SIZE else cv2.resize(
            np.asarray(frame, np.float32), (width, height), interpolation=cv2.INTER_AREA)
        out[i] = small * 2.0 - 1.0
    return out
