"""Scoring on independent and real bursts: photometric fit, per-burst losses, drops, folders of bursts."""

import numpy as np
import pytest
from mf_deblur.baselines.fba import fba
from mf_deblur.evaluation import (
    FBA,
    RDN,
    SHARPEST,
    drops,
    losses,
    photometric_fit,
    real_bursts,
)
from mf_deblur.order import FBA_OBSERVATIONS, burst_sequence, fba_start, sharpest_first

from mfcore import InputError
from mfcore.kit import crop, photo, write_image


def test_photometric_fit_undoes_a_gain_and_offset_per_channel():
    reference = crop(photo("coffee"), 48)
    estimate = reference * np.float32([0.8, 1.1, 0.9]) + np.float32([0.05, -0.02, 0.0])
    np.testing.assert_allclose(photometric_fit(estimate, reference), reference, atol=1e-5)


def test_losses_and_drops_count_every_burst():
    scores = {(RDN, 3): [(30.0, 0), (25.0, 0)], (RDN, 5): [(31.0, 0), (24.5, 0)],
              (FBA, 3): [(29.0, 0), (26.0, 0)], (FBA, 5): [(30.0, 0), (24.0, 0)],
              (SHARPEST, 3): [(20.0, 0), (20.0, 0)], (SHARPEST, 5): [(20.0, 0), (20.0, 0)]}
    assert losses(scores, FBA) == (1, 4, 1.0)
    assert losses(scores, SHARPEST) == (0, 4, 0.0)
    assert drops(scores) == pytest.approx(0.5)


def test_bursts_start_from_fba_only_when_the_weights_say_so():
    frames = np.random.default_rng(0).random((3, 16, 16, 3), dtype=np.float32)
    ordered = sharpest_first(frames)
    assert burst_sequence(ordered, "frame") is ordered
    sequence = burst_sequence(ordered, "fba")  # FBA of all frames, refined by the sharpest
    assert sequence.shape == (1 + FBA_OBSERVATIONS, 16, 16, 3)
    np.testing.assert_allclose(sequence[0], np.clip(fba(ordered), 0, 1), atol=1e-6)
    np.testing.assert_array_equal(sequence[1:], ordered[:FBA_OBSERVATIONS])
    np.testing.assert_array_equal(fba_start(np.full((16, 16, 3), 2.0, np.float32), ordered)[0], 1.0)


def test_real_burst_folders(tmp_path):
    good, grey, empty = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder in (good, grey, empty):
        folder.mkdir()
    image = crop(photo("chelsea"), 32)
    for i in range(3):
        write_image(good / f"f{i}.png", image)
        write_image(grey / f"f{i}.png", image.mean(axis=-1))
    write_image(good / "reference.png", image)
    write_image(empty / "f0.png", image)  # one frame: not a burst, skipped
    found = real_bursts(tmp_path)
    assert [(name, frames.shape, ref is not None) for name, frames, ref in found] == [
        ("a", (3, 32, 32, 3), True), ("b", (3, 32, 32, 3), False)]
    write_image(good / "sharp.png", crop(photo("chelsea"), 16))
    (good / "reference.png").unlink()
    with pytest.raises(InputError, match="reference is 16x16"):
        real_bursts(tmp_path)
    with pytest.raises(InputError, match="not a folder of bursts"):
        real_bursts(tmp_path / "missing")
    with pytest.raises(InputError, match="no sub-folder holds a burst"):
        real_bursts(empty)
