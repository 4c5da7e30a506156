"""SIFT for the full-rate band: streamed windows equal whole-video extraction; the fused band costs."""

import cv2
import numpy as np
import pytest
from mf_sync.align import scale_for
from mf_sync.baselines.sift import (
    CHECK_RATIO,
    FEATURES,
    MATCH_DISTANCE,
    SiftStream,
    describe_frame,
    match_costs,
    ratio_shares,
)
from mf_sync.fused import MIN_RATIO_SHARE, SIFT_WEIGHT, align_fused, fused_costs
from mf_sync.methods import Method, video_features
from mf_sync.simulated import drive_positions


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


def test_fused_costs_add_weighted_match_costs_to_place_distances():
    rng = np.random.default_rng(0)
    places_a, places_b = rng.standard_normal((6, 16)), rng.standard_normal((9, 16))
    sift_a = [rng.integers(0, 256, (int(rng.integers(0, 30)), 128)).astype(np.uint8) for _ in range(6)]
    # Frame j of B holds copies of some keypoints of frame j % 6 of A: those matches are certain (distance 0),
    # so the costs are not all 1 and do not depend on FLANN's random trees.
    sift_b = [np.vstack([sift_a[j % 6][:j], rng.integers(0, 256, (5, 128)).astype(np.uint8)]) for j in range(9)]
    got = fused_costs(places_a, places_b, sift_a, sift_b)
    distances = np.linalg.norm(places_a[:, None, :] - places_b[None, :, :], axis=-1)
    want = distances + SIFT_WEIGHT * match_costs(sift_a, sift_b)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert got.shape == (6, 9) and got.dtype == np.float32
    assert (want < distances + SIFT_WEIGHT).sum() >= 5  # SIFT matches count in six pairs


@pytest.mark.parametrize("seed", range(3))
def test_a_keypoint_counts_for_every_b_frame_that_shows_its_point(seed):
    """Near copies of A's keypoints planted in several B frames each, among random descriptors: every frame
    with a copy counts it (one vote would pick one of them), random descriptors never match."""
    rng = np.random.default_rng(seed)
    sift_a = [rng.integers(0, 256, (int(rng.integers(3, 12)), 128)).astype(np.uint8) for _ in range(5)]
    shows = rng.random((5, 12, 7)) < 0.3  # shows[i, k, j]: B frame j holds a copy of keypoint k of A frame i
    sift_b = []
    for j in range(7):
        copies = [d[k] for i, d in enumerate(sift_a) for k in range(len(d)) if shows[i, k, j]]
        noise = rng.integers(-2, 3, (len(copies), 128))
        near = np.clip(np.asarray(copies, np.int64).reshape(-1, 128) + noise, 0, 255)
        sift_b.append(np.vstack([near, rng.integers(0, 256, (20, 128))]).astype(np.uint8))
    want = np.array([[1 - shows[i, :len(d), j].mean() for j in range(7)] for i, d in enumerate(sift_a)])
    np.testing.assert_allclose(match_costs(sift_a, sift_b), want, atol=1e-6)
    # Random descriptors lie far apart: about 800 against the matches' limit.
    assert np.linalg.norm(sift_a[0][0].astype(float) - sift_b[0][-1].astype(float)) > MATCH_DISTANCE


def test_match_costs_of_frames_with_few_or_no_keypoints():
    rng = np.random.default_rng(4)
    a = [rng.integers(0, 256, (3, 128)).astype(np.uint8), np.zeros((0, 128), np.uint8)]
    b = [a[0][:1].copy(), np.zeros((0, 128), np.uint8), a[0][1:3].copy()]  # 3 descriptors in all: under 12
    np.testing.assert_allclose(match_costs(a, b), [[2 / 3, 1, 1 / 3], [1, 1, 1]], atol=1e-6)
    assert (match_costs(a, [np.zeros((0, 128), np.uint8)]) == 1).all()


def test_descriptors_are_kept_as_bytes_without_loss(tiny_drives):
    from mfcore.kit import read_video

    frame = read_video(tiny_drives / "h0_d1.mp4")[7]
    grey = cv2.cvtColor(np.clip(frame * 255 + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    _, reference = cv2.SIFT_create(nfeatures=FEATURES).detectAndCompute(grey, None)
    got = describe_frame(cv2.SIFT_create(nfeatures=FEATURES), frame)
    assert got.dtype == np.uint8 and len(got) > 10
    np.testing.assert_array_equal(got.astype(np.float32), reference)


def _road_windows(positions: np.ndarray, points: np.ndarray):
    """SIFT windows of frames at ``positions`` (metres): a frame shows the next 5 m of road, a point every 25 cm,
    each point with its own descriptor (a row of ``points``)."""
    shown = [np.arange(int(p * 4), int(p * 4) + 20) % len(points) for p in positions]
    return lambda first, last: [points[i] for i in shown[first:last + 1]]


def test_a_tour_whose_mapped_frames_share_no_sift_matches_is_dropped(places):
    """Two 7-s clips whose place features share 4 s of road: with SIFT keypoints of that road the tour stands
    and its mapped frames share most keypoints; with keypoints of another road the same tour is dropped."""
    rng = np.random.default_rng(9)
    pos = drive_positions(rng, 0, 120)
    a, b = places(pos[:210], rng, noise=0.3), places(pos[90:300], rng, noise=0.3)
    road, elsewhere = (rng.integers(0, 256, (4000, 128)).astype(np.uint8) for _ in range(2))
    scale = scale_for((210, 210), 30.0)
    kept = align_fused(a, b, _road_windows(pos[:210], road), _road_windows(pos[90:300], road), 30.0, scale)
    assert kept.found and kept.sift_share > 0.5
    shared = kept.frames_a >= 90
    metres = np.abs(pos[kept.frames_a[shared]] - np.interp(kept.frames_b[shared], np.arange(210), pos[90:300]))
    assert shared.sum() > 90 and np.median(metres) < 1.0
    dropped = align_fused(a, b, _road_windows(pos[:210], road), _road_windows(pos[90:300], elsewhere), 30.0, scale)
    assert not dropped.found and len(dropped.frames_a) == 0
    assert dropped.sift_share is not None and dropped.sift_share < MIN_RATIO_SHARE


def test_ratio_shares_equal_lowes_test_by_brute_force():
    """Planted near copies of some of A's keypoints among random descriptors, frames of 0 to 40 keypoints."""
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (30, 128)).astype(np.uint8)
    frames = []
    for size in (0, 1, 5, 40, 25):
        frame = rng.integers(0, 256, (size, 128))
        copies = rng.random(30) < 0.4
        frame[:copies[:size].sum()] = np.clip(a[:size][copies[:size]] + rng.integers(-3, 4, (copies[:size].sum(), 128)),
                                              0, 255)
        frames.append(frame.astype(np.uint8))
    want = []
    for frame in frames:
        if len(frame) < 2:
            want.append(0.0)
            continue
        d = np.sort(np.linalg.norm(a[:, None, :].astype(float) - frame[None].astype(float), axis=-1), axis=1)
        want.append(float(np.mean(d[:, 0] < CHECK_RATIO * d[:, 1])))
    np.testing.assert_allclose(ratio_shares([a], frames)[0], want, atol=1e-9)
    assert want[3] > 0.2 and want[2] >= 0.0
    assert ratio_shares([np.zeros((0, 128), np.uint8)], frames).tolist() == [[0.0] * 5]
