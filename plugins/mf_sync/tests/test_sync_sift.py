"""SIFT for the full-rate band: streamed windows equal whole-video extraction; the fused band costs."""

import cv2
import numpy as np
import pytest

from mf_sync.fused import SIFT_WEIGHT, fused_costs
from mf_sync.methods import Method, video_features
from mf_sync.sift import FEATURES, SiftStream, describe_frame, sift_costs


def test_stream_windows_equal_the_whole_videos_descriptors_and_never_go_back(tiny_drives):
    video = tiny_drives / "h0_d0.mp4"
    whole, _, _ = video_features(video, Method.sift)
    stream = SiftStream(video)
    for first, last in ((0, 4), (3, 9), (9, 9), (30, 41), (35, 50)):
        window = stream.window(first, last)
        assert len(window) == last - first + 1
        for got, want in zip(window, whole.descriptors[first:last + 1]):
            np.testing.assert_array_equal(got, want)
    assert stream.first == 35 and len(stream.cached) == 16  # frames before the last window are dropped
    with pytest.raises(ValueError, match="moved back"):
        stream.window(34, 40)
    end = len(whole)
    assert len(stream.window(end - 3, end + 5)) == 3  # the video ends inside the window


def test_fused_costs_add_weighted_sift_costs_to_place_distances():
    rng = np.random.default_rng(0)
    places_a, places_b = rng.standard_normal((6, 16)), rng.standard_normal((9, 16))
    sift_a = [rng.integers(0, 256, (int(rng.integers(0, 30)), 128)).astype(np.uint8) for _ in range(6)]
    # Frame j of B holds copies of some keypoints of frame j % 6 of A: those votes are certain (distance 0),
    # so the costs are not all 1 and do not depend on FLANN's random trees.
    sift_b = [np.vstack([sift_a[j % 6][:j], rng.integers(0, 256, (5, 128)).astype(np.uint8)]) for j in range(9)]
    got = fused_costs(places_a, places_b, sift_a, sift_b)
    distances = np.linalg.norm(places_a[:, None, :] - places_b[None, :, :], axis=-1)
    want = distances + SIFT_WEIGHT * sift_costs(sift_a, sift_b)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert got.shape == (6, 9) and got.dtype == np.float32
    assert (want < distances + SIFT_WEIGHT).sum() >= 5  # SIFT votes count in six pairs


def test_descriptors_are_kept_as_bytes_without_loss(tiny_drives):
    from mfcore.video import read_video

    frame = read_video(tiny_drives / "h0_d1.mp4")[7]
    grey = cv2.cvtColor(np.clip(frame * 255 + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    _, reference = cv2.SIFT_create(nfeatures=FEATURES).detectAndCompute(grey, None)
    got = describe_frame(cv2.SIFT_create(nfeatures=FEATURES), frame)
    assert got.dtype == np.uint8 and len(got) > 10
    np.testing.assert_array_equal(got.astype(np.float32), reference)
