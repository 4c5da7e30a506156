"""``mf run deblur --method rdn``: bursts and videos through the real network, and its errors."""

import json

import numpy as np
import pytest
from mf_deblur.synthesis.burst import synthesize_burst
from mf_deblur.synthesis.scene import random_scene

from mfcore.kit import crop, photo, read_image, read_video, write_image, write_video
from mfcore.testing import assert_clean_error, keras_backend_name


@pytest.fixture
def weights(tiny_weights):
    return tiny_weights


@pytest.fixture
def burst_dir(tmp_path):
    burst, _ = synthesize_burst(crop(photo("chelsea"), 64), np.random.default_rng(0), frames=4, sizes=(11,))
    folder = tmp_path / "burst"
    folder.mkdir()
    for i, frame in enumerate(burst):
        write_image(folder / f"frame_{i:02d}.png", frame)
    return folder


def test_rdn_burst_matches_the_network_in_process(mf, weights, burst_dir, tmp_path):
    """By default the sharpest frame is restored from the others, sharp to blurred; --order given keeps the order."""
    from mf_deblur.inference import deblur
    from mf_deblur.order import sharpest_first

    path, model = weights
    frames = np.stack([read_image(p) for p in sorted(burst_dir.iterdir())])
    assert not np.array_equal(sharpest_first(frames), frames)  # the order matters for this burst
    for order, want in ((None, deblur(model, sharpest_first(frames))), ("given", deblur(model, frames))):
        out = tmp_path / f"out_{order}.png"
        extra = ("--order", order) if order else ()
        result = mf("run", "deblur", burst_dir, "-o", out, "--weights", path, "--backend", keras_backend_name(),
                    *extra, "--json")
        assert result.returncode == 0, result.stderr
        info = json.loads(result.stdout)
        assert info["method"] == "rdn" and info["frames"] == 4 and info["keras_backend"] == keras_backend_name()
        assert np.abs(read_image(out) - want).max() <= 1 / 255 + 1e-4


def test_weights_trained_from_fba_restore_bursts_from_fba(mf, weights, burst_dir, tmp_path):
    """A card recording --start fba makes mf run deblur refine FBA of the burst with its sharpest frame."""
    from mf_deblur.baselines.fba import fba
    from mf_deblur.inference import deblur
    from mf_deblur.order import FBA_OBSERVATIONS, fba_start, sharpest_first

    path, model = weights
    fba_weights = tmp_path / "fba.weights.h5"
    fba_weights.write_bytes(path.read_bytes())
    card = json.loads(path.with_name("tiny.json").read_text())
    (tmp_path / "fba.json").write_text(json.dumps({**card, "config": {"start": "fba"}}))
    frames = sharpest_first(np.stack([read_image(p) for p in sorted(burst_dir.iterdir())]))
    want = deblur(model, fba_start(fba(frames), frames[:FBA_OBSERVATIONS]))
    out = tmp_path / "out.png"
    result = mf("run", "deblur", burst_dir, "-o", out, "--weights", fba_weights, "--backend", keras_backend_name())
    assert result.returncode == 0, result.stderr
    assert np.abs(read_image(out) - want).max() <= 1 / 255 + 1e-4
    assert np.abs(want - deblur(model, frames)).max() > 2 / 255  # the start changes the result


def test_rdn_runs_with_the_default_backend_and_tiles(mf, weights, burst_dir, tmp_path):
    path, _ = weights
    whole, tiled = tmp_path / "whole.png", tmp_path / "tiled.png"
    assert mf("run", "deblur", burst_dir, "-o", whole, "--weights", path).returncode == 0
    result = mf("run", "deblur", burst_dir, "-o", tiled, "--weights", path, "--tile", "64", "--overlap", "16",
                "--levels", "2", "--colour", "--json")
    assert result.returncode == 0, result.stderr
    assert read_image(tiled).shape == read_image(whole).shape == (64, 64, 3)


def test_video_in_video_out(mf, weights, tmp_path):
    path, _ = weights
    clip = random_scene(np.random.default_rng(1), 48, 64, max_speed=3.0).clip(7)
    source = write_video(tmp_path / "in.mp4", clip, fps=25)
    for method in ("rdn", "fba"):
        out = tmp_path / f"out_{method}.mp4"
        result = mf("run", "deblur", source, "-o", out, "--method", method, "--weights", path, "--radius", "1",
                    "--json")
        assert result.returncode == 0, result.stderr
        info = json.loads(result.stdout)
        assert info["frames"] == 7 and info["size"] == "64x48" and info["method"] == method
        frames = read_video(out)
        assert frames.shape == (7, 48, 64, 3)
        assert np.abs(frames - read_video(source)).mean() < 0.1  # the same video, deblurred


def test_video_frames_are_registered_to_the_frame_being_restored(mf, tmp_path):
    """By default each window is ECC-registered to its centre frame before fusion; --align none skips it.

    FBA shows it best: fused unregistered, a moving camera leaves ghosts.
    """
    from mf_deblur.align import align_to_first
    from mf_deblur.baselines.fba import fba
    from mf_deblur.inference import video_windows

    clip = random_scene(np.random.default_rng(4), 64, 64, max_speed=3.0).clip(5)
    source = write_video(tmp_path / "in.mp4", clip, fps=25)
    windows = list(video_windows(iter(read_video(source)), 1))
    want = {"ecc": np.stack([np.clip(fba(align_to_first(w, "ecc", strict=False)), 0, 1) for w in windows]),
            "none": np.stack([np.clip(fba(w), 0, 1) for w in windows])}
    got = {}
    for align in ("default", "none"):
        out = tmp_path / f"out_{align}.mp4"
        extra = () if align == "default" else ("--align", align)
        result = mf("run", "deblur", source, "-o", out, "--method", "fba", "--radius", "1", *extra)
        assert result.returncode == 0, result.stderr
        got[align] = read_video(out)
    error = {(a, b): np.abs(got[a] - want[b]).mean() for a in got for b in want}
    assert error["default", "ecc"] < 0.5 * error["default", "none"], error
    assert error["none", "none"] < 0.5 * error["none", "ecc"], error


def test_rdn_errors_are_one_line(mf, weights, burst_dir, tmp_path):
    path, _ = weights
    out = tmp_path / "o.png"
    wrong = tmp_path / "wrong.weights.h5"
    wrong.write_bytes(path.read_bytes())
    (tmp_path / "wrong.json").write_text(json.dumps({"width": 0.25}))
    cardless = tmp_path / "cardless.weights.h5"
    cardless.write_bytes(path.read_bytes())
    broken = tmp_path / "broken.weights.h5"
    broken.write_bytes(b"not hdf5")
    (tmp_path / "broken.json").write_text(json.dumps({"width": 0.1}))
    one_frame = tmp_path / "one.mp4"
    write_video(one_frame, [np.zeros((16, 16, 3))])
    cases = [
        (("--weights", tmp_path / "none.weights.h5", "--method", "rdn"), "RDN weights not found"),
        (("--weights", cardless, "--method", "rdn"), "model card beside the weights is missing"),
        (("--weights", wrong), "cannot load these weights into the RDN of width 0.25"),
        (("--weights", broken), "cannot load these weights"),
    ]
    for extra, fragment in cases:
        assert_clean_error(mf("run", "deblur", burst_dir, "-o", out, *extra), fragment)
    assert_clean_error(mf("run", "deblur", one_frame, "-o", tmp_path / "o.mp4", "--weights", path),
                       "needs at least 2 frames")
    assert_clean_error(mf("run", "deblur", one_frame, "-o", out), "unknown video format '.png'")
    assert not out.exists()


def test_shipped_weights_are_the_default_and_deblur_held_out_photos(mf, keras, tmp_path):
    """The weights in the wheel load, are used without --method, and sharpen a burst they never saw; bursts
    get the weights that refine FBA, videos the others."""
    from mf_deblur.model_io import SHIPPED, SHIPPED_BURST, burst_start

    from mfcore.kit import psnr, read_card

    for weights, start in ((SHIPPED, "frame"), (SHIPPED_BURST, "fba")):
        card = read_card(weights)
        assert card["preset"] == "cpu" and card["width"] > 0 and card["trained_steps"] > 0
        assert burst_start(card) == start
    sharp = crop(photo("sklearn:flower.jpg"), 128)  # a held-out photo
    burst, _ = synthesize_burst(sharp, np.random.default_rng(7), frames=5, noise=0.01)
    folder = tmp_path / "burst"
    folder.mkdir()
    for i, frame in enumerate(burst):
        write_image(folder / f"{i}.png", frame)
    out = tmp_path / "out.png"
    result = mf("run", "deblur", folder, "-o", out, "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["method"] == "rdn" and info["weights"] == str(SHIPPED_BURST)
    assert psnr(sharp, read_image(out)) > psnr(sharp, burst[0]) + 1.0
