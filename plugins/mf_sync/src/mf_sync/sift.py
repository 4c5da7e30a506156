"""SIFT match-histogram costs (Wang et al. 2014, the VideoSnapping line of work): the local-feature baseline.

Every frame gets up to ``FEATURES`` SIFT keypoints (OpenCV). To compare one
frame of A with many frames of B at once, all of B's descriptors go into one
FLANN k-d forest; each keypoint of the A frame votes for the B frame that owns
its nearest neighbour when it passes Lowe's ratio test. The cost of a pair is
one minus the votes over the A frame's keypoint count: 0 when every keypoint
found its match in that frame, 1 when none did. The same tour matcher then
reads these costs.
"""

from __future__ import annotations

import cv2
import numpy as np

FEATURES = 200
RATIO = 0.8


class SiftFrames:
    """SIFT descriptors of a sequence of frames, extracted one frame at a time."""

    def __init__(self) -> None:
        self.sift = cv2.SIFT_create(nfeatures=FEATURES)
        self.descriptors: list[np.ndarray] = []

    def add(self, frame: np.ndarray) -> None:
        grey = cv2.cvtColor(np.clip(frame * 255 + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
        _, desc = self.sift.detectAndCompute(grey, None)
        self.descriptors.append(np.zeros((0, 128), np.float32) if desc is None else desc.astype(np.float32))

    def __len__(self) -> int:
        return len(self.descriptors)


def sift_costs(a: list[np.ndarray], b: list[np.ndarray]) -> np.ndarray:
    """(len(a), len(b)) costs in [0, 1] from SIFT descriptor lists of two frame sequences."""
    costs = np.ones((len(a), len(b)), np.float32)
    owners = np.concatenate([np.full(len(d), j) for j, d in enumerate(b)]) if b else np.zeros(0, int)
    if len(owners) < 2:
        return costs
    matcher = cv2.FlannBasedMatcher({"algorithm": 1, "trees": 4}, {"checks": 32})
    matcher.add([np.concatenate(b)])
    matcher.train()
    for i, desc in enumerate(a):
        if len(desc) == 0:
            continue
        votes = np.zeros(len(b))
        for pair in matcher.knnMatch(desc, k=2):
            if len(pair) == 2 and pair[0].distance < RATIO * pair[1].distance:
                votes[owners[pair[0].trainIdx]] += 1
        costs[i] = 1.0 - votes / len(desc)
    return costs
