"""Registering burst frames to the first one with OpenCV before fusion.

FBA assumes the frames are aligned. Hand-held bursts are not: ``ecc``
estimates a homography by maximising the enhanced correlation coefficient
(robust to the brightness and blur differences between frames, good for small
motion); ``features`` matches SIFT keypoints with a ratio test and fits a
homography with RANSAC (handles larger motion, needs texture).
"""

from __future__ import annotations

import cv2
import numpy as np

from mfcore import InputError

METHODS = ("none", "ecc", "features")


def _gray(image: np.ndarray) -> np.ndarray:
    gray = image.mean(axis=2) if image.ndim == 3 else image
    return np.ascontiguousarray(gray, dtype=np.float32)


def ecc_homography(reference: np.ndarray, image: np.ndarray, iterations: int = 200) -> np.ndarray:
    """Homography H mapping reference pixel coordinates to ``image`` coordinates."""
    warp = np.eye(3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, 1e-6)
    _, warp = cv2.findTransformECC(_gray(reference), _gray(image), warp, cv2.MOTION_HOMOGRAPHY, criteria,
                                   None, 5)
    return warp


def feature_homography(reference: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Homography H mapping reference pixel coordinates to ``image`` coordinates (SIFT + RANSAC)."""
    sift = cv2.SIFT_create()
    to8 = lambda a: (np.clip(_gray(a), 0, 1) * 255).astype(np.uint8)  # noqa: E731
    kp_ref, des_ref = sift.detectAndCompute(to8(reference), None)
    kp_img, des_img = sift.detectAndCompute(to8(image), None)
    if des_ref is None or des_img is None or len(kp_ref) < 4 or len(kp_img) < 4:
        raise cv2.error("too few keypoints")
    matches = cv2.BFMatcher(cv2.NORM_L2).knnMatch(des_ref, des_img, k=2)
    good = [m for m, n in (pair for pair in matches if len(pair) == 2) if m.distance < 0.75 * n.distance]
    if len(good) < 8:
        raise cv2.error(f"only {len(good)} reliable matches")
    src = np.float32([kp_ref[m.queryIdx].pt for m in good])
    dst = np.float32([kp_img[m.trainIdx].pt for m in good])
    homography, _ = cv2.findHomography(src, dst, cv2.RANSAC, 3.0)
    if homography is None:
        raise cv2.error("RANSAC found no homography")
    return homography.astype(np.float32)


def align_to_first(frames: np.ndarray, method: str = "ecc", strict: bool = True) -> np.ndarray:
    """Warp every frame of an (N, H, W, C) burst onto frame 0's pixel grid.

    A frame that cannot be registered is an error, or, with ``strict`` off, stays as
    it is: one hard frame (a cut, a flat sky) must not stop a whole video.
    """
    if method == "none":
        return frames
    if method not in METHODS:
        raise InputError(f"unknown alignment {method!r}; use one of {', '.join(METHODS)}")
    estimate = ecc_homography if method == "ecc" else feature_homography
    reference = frames[0]
    h, w = reference.shape[:2]
    aligned = [reference]
    for i, frame in enumerate(frames[1:], start=1):
        try:
            homography = estimate(reference, frame)
        except cv2.error as exc:
            if not strict:
                aligned.append(frame)
                continue
            message = str(exc).strip().splitlines()[-1] if str(exc).strip() else "no convergence"
            raise InputError(f"could not align frame {i} to frame 0 with {method}: {message}") from exc
        warped = cv2.warpPerspective(frame, homography, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                     borderMode=cv2.BORDER_REFLECT)
        aligned.append(warped.reshape(frame.shape))
    return np.stack(aligned)
