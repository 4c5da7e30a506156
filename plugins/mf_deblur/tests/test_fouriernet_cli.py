"""``mf run deblur --method fouriernet`` and ``mf train deblur --model fouriernet``: the command line against the
network run in process, its colour transfer, one-channel bursts, a short real training run, and its errors."""

import json

import numpy as np
from mf_deblur.synthesis.burst import synthesize_burst

from mfcore.kit import crop, photo, read_image, write_image, write_video
from mfcore.testing import assert_clean_error, keras_backend_name


def _burst_dir(folder, grey=False):
    burst, _ = synthesize_burst(crop(photo("chelsea"), 72), np.random.default_rng(0), frames=4, sizes=(9,))
    folder.mkdir()
    for i, frame in enumerate(burst):
        write_image(folder / f"frame_{i:02d}.png", frame.mean(axis=-1, keepdims=True) if grey else frame)
    return folder


def test_fouriernet_burst_matches_the_network_in_process(mf, fourier_weights, tmp_path):
    from mf_deblur.baselines.fba import fba
    from mf_deblur.fourier_inference import Colour, restore_burst

    path, model = fourier_weights
    folder = _burst_dir(tmp_path / "burst")
    frames = np.stack([read_image(p) for p in sorted(folder.iterdir())])
    outputs = {}
    for colour in ("lab", "none"):
        out = tmp_path / f"out_{colour}.png"
        result = mf("run", "deblur", folder, "-o", out, "--method", "fouriernet", "--weights", path, "--stride",
                    "11", "--colour-transfer", colour, "--backend", keras_backend_name(), "--json")
        assert result.returncode == 0, result.stderr
        info = json.loads(result.stdout)
        assert info["method"] == "fouriernet" and info["frames"] == 4 and info["weights"] == str(path)
        want = restore_burst(model, frames, fba(frames), stride=11, colour=Colour(colour))
        outputs[colour] = read_image(out)
        assert np.abs(outputs[colour] - want).max() <= 1 / 255 + 1e-4
    assert np.abs(outputs["lab"] - outputs["none"]).max() > 1 / 255  # the colours did move to FBA's


def test_grey_burst_stays_grey(mf, fourier_weights, tmp_path):
    path, _ = fourier_weights
    folder = _burst_dir(tmp_path / "grey", grey=True)
    out = tmp_path / "out.png"
    result = mf("run", "deblur", folder, "-o", out, "--method", "fouriernet", "--weights", path, "--stride", "16")
    assert result.returncode == 0, result.stderr
    image = read_image(out)
    assert image.ndim == 2 or image.shape[-1] == 1


def test_fouriernet_errors_are_one_line(mf, fourier_weights, tmp_path):
    path, _ = fourier_weights
    folder = _burst_dir(tmp_path / "burst")
    video = write_video(tmp_path / "in.mp4", np.zeros((3, 16, 16, 3)), fps=25)
    assert_clean_error(mf("run", "deblur", video, "-o", tmp_path / "o.mp4", "--method", "fouriernet"),
                       "FourierNet restores aligned bursts")
    assert_clean_error(mf("run", "deblur", folder, "-o", tmp_path / "o.png", "--method", "fouriernet", "--weights",
                          tmp_path / "none.weights.h5"), "FourierNet weights not found")
    assert not (tmp_path / "o.png").exists()


def test_train_fouriernet_writes_weights_a_card_and_a_log(mf, keras, tmp_path):
    run = tmp_path / "run"
    result = mf("train", "deblur", "--model", "fouriernet", "-o", run, "--steps", "2", "--width", "0.05",
                "--frames", "3", "--validation", "2", "--validate-every", "1", "--checkpoint-every", "1",
                "--backend", keras_backend_name(), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["model"] == "fouriernet" and info["steps"] == 2 and info["finished"]
    assert set(info["validation_baselines"]) == {"static_fba"}
    card = json.loads((run / "fouriernet.json").read_text())
    assert card["width"] == 0.05 and "--model fouriernet" in card["reproduce"] and "--frames 3" in card["reproduce"]
    assert (run / "fouriernet.weights.h5").is_file()
    rows = (run / "log.csv").read_text().splitlines()
    assert rows[0].startswith("step,") and len(rows) == 4  # steps 0 (the FBA start), 1 and 2


def test_train_fouriernet_refuses_rdn_options(mf, tmp_path):
    base = ("train", "deblur", "--model", "fouriernet", "-o", tmp_path / "run", "--steps", "1")
    assert_clean_error(mf(*base, "--start", "fba"), "--start is an RDN option")
    assert_clean_error(mf(*base, "--stream", "dynamic"), "static bursts only")
    assert_clean_error(mf(*base, "--optimizer", "rmsprop"), "unknown --optimizer")
    assert_clean_error(mf("train", "deblur", "-o", tmp_path / "r", "--optimizer", "sgd"), "FourierNet option")
    assert not (tmp_path / "run").exists()
