"""How far a video's camera has travelled, counted in frames of motion, from its pixels alone.

Label generation needs frames of one drive that show *different* places.
Frame distance is a poor proxy: a car waiting at a light shows one place for
many seconds, so a plain frame gap has to be long (``labels.FAR``) to be safe,
and places a few seconds apart are then never told apart. Counting only the
frames in which the view changed makes a short gap safe during stops too.

A frame is "moving" when its thumbnail differs from the one ``LAG`` frames
earlier by more than ``STILL_SHARE`` of the video's typical moving difference
(its 90th percentile). The difference of two thumbnails is the 75th percentile
of their pixels' differences, not the mean: a wiper blade or raindrops change a
few pixels of a still view a lot, driving changes most of them. No ground truth
is read.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Frames between the thumbnails compared.
LAG = 15
#: A frame moves when its change exceeds this share of the video's 90th-percentile change.
STILL_SHARE = 0.3
#: Thumbnail size (width, height) the changes are measured on; small enough to average noise away.
THUMBNAIL = (24, 16)


def _thumbnails(frames: np.ndarray) -> np.ndarray:
    """Grey (N, 16, 24) float32 thumbnails of uint8 or float (N, H, W, 3) frames."""
    grey = np.asarray(frames, np.float32).mean(axis=3)
    return np.stack([cv2.resize(g, THUMBNAIL, interpolation=cv2.INTER_AREA) for g in grey])


def moving(frames: np.ndarray) -> np.ndarray:
    """Per frame, whether the view changed over the last ``LAG`` frames (bool (N,))."""
    thumbs = _thumbnails(frames)
    if len(thumbs) <= LAG:
        return np.ones(len(thumbs), bool)
    change = np.percentile(np.abs(thumbs[LAG:] - thumbs[:-LAG]).reshape(len(thumbs) - LAG, -1), 75, axis=1)
    change = np.r_[np.full(LAG, change[0]), change]
    return change > STILL_SHARE * np.percentile(change, 90)


def travel(frames: np.ndarray) -> np.ndarray:
    """Cumulative count of moving frames (int (N,)): a frame's distance along the drive, stops removed."""
    return np.cumsum(moving(frames)).astype(np.int64)
