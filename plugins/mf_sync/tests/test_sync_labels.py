"""Tabula-rasa labels: intra-video pairs, tours between videos, transitive composition, negatives far away."""

import numpy as np
from mf_sync.bank import jitter
from mf_sync.labels import FAR, NEAR, Tours, TripletSampler, find_tours, intra_pairs, transitive_pairs
from mf_sync.simulated import PlaceDescriptors, drive_positions


def test_intra_pairs_are_near_in_one_video():
    pairs = intra_pairs([500, 80, 1000], 2000, np.random.default_rng(0))
    assert (pairs.va == pairs.vb).all()
    gap = np.abs(pairs.fa - pairs.fb)
    assert (gap >= 1).mean() > 0.99 and gap.max() <= NEAR
    assert (pairs.fb < np.array([500, 80, 1000])[pairs.vb]).all() and (pairs.fb >= 0).all()


def test_tours_and_classes_from_simulated_videos():
    rng = np.random.default_rng(3)
    places = PlaceDescriptors(seed=3)
    positions = [drive_positions(rng, 0, 500), drive_positions(rng, 100, 600), drive_positions(rng, 2000, 2500)]
    coarse = [places(p[::10], rng) for p in positions]
    tours = find_tours(coarse, [30.0] * 3)
    assert set(tours.found) == {(0, 1)}  # the third drive is elsewhere
    pairs = tours.pairs()
    error = np.abs(positions[0][pairs.fa] - positions[1][pairs.fb])
    assert np.mean(error < 3.0) > 0.9
    assert tours.classes(3) == [[0, 1]]


def test_transitive_pairs_compose_two_tours():
    tours = Tours()
    frames = np.arange(0, 300, 10)
    tours.found[(0, 1)] = (frames, frames + 50)  # frame f of video 0 is frame f + 50 of video 1
    tours.found[(1, 2)] = (frames + 50, frames + 80)  # frame g of video 1 is frame g + 30 of video 2
    pairs = transitive_pairs(tours, 3)
    chained = pairs.va == 0
    assert chained.any() and (pairs.vb[chained] == 2).all()
    np.testing.assert_array_equal(pairs.fb[chained], pairs.fa[chained] + 80)
    assert tours.classes(3) == [[0, 1, 2]]


def test_negatives_are_far_from_the_positive_in_frames_of_motion():
    rng = np.random.default_rng(0)
    lengths = [2000, 2000]
    # video 0 stands still for frames 500-1499: those frames are all one place
    travel = [np.cumsum((np.arange(2000) < 500) | (np.arange(2000) >= 1500)), np.arange(1, 2001)]
    coarse = [rng.normal(size=(200, 8)), rng.normal(size=(200, 8))]
    sampler = TripletSampler([intra_pairs(lengths, 500, rng)], travel, coarse, rng)
    videos, frames = sampler(256)
    videos, frames = videos.reshape(3, 256), frames.reshape(3, 256)
    assert (videos[2] == videos[1]).all()  # intra labels: negatives from the same video
    for v in (0, 1):
        pick = videos[1] == v
        assert (np.abs(travel[v][frames[2, pick]] - travel[v][frames[1, pick]]) >= FAR).all()
    in_stop = (videos[1] == 0) & (frames[1] >= 500) & (frames[1] < 1500)
    assert in_stop.any() and not ((frames[2, in_stop] > 410) & (frames[2, in_stop] < 1589)).any()


def test_jitter_changes_light_but_keeps_the_picture_and_range():
    rng = np.random.default_rng(0)
    images = rng.random((8, 16, 24, 3)).astype(np.float32)
    out = jitter(images, rng)
    assert out.shape == images.shape and out.dtype == np.float32 and out.min() >= 0 and out.max() <= 1
    assert np.abs(out - images).mean() > 0.02
    for image, changed in zip(images, out):  # the same picture: brightness order is mostly kept
        assert np.corrcoef(image.mean(axis=2).ravel(), changed.mean(axis=2).ravel())[0, 1] > 0.7


def test_label_precision_counts_pairs_on_the_same_route_within_the_distance():
    from mf_sync.labels import Pairs
    from mf_sync.train import label_precision
    from mf_sync.truth import Truth

    truths = [Truth(np.array(["r0"] * 4), np.array([0.0, 10.0, 20.0, 30.0])),
              Truth(np.array(["r0", "r0", "r1", "r1"]), np.array([1.0, 14.0, 20.0, 30.0]))]
    index = np.arange(4)
    pairs = Pairs("inter", np.zeros(4, int), index, np.ones(4, int), index)
    # 1 m off, 4 m off, then the right positions but on another route
    assert label_precision(pairs, truths) == 0.25
    assert label_precision(pairs, truths, 5.0) == 0.5
    assert label_precision(pairs, None) is None
