"""``mf train deblur``: a short real run, its files, resuming, and its errors."""

import csv
import json

import pytest

from mfcore.testing import assert_clean_error, keras_backend_name, run_mf

ARGS = ("--width", "0.1", "--validation", "3", "--validate-every", "2", "--checkpoint-every", "2", "--stream", "static", "--json")


@pytest.fixture(scope="module")
def keras_name():
    name = keras_backend_name()
    if name is None:
        pytest.skip("training needs PyTorch or TensorFlow")
    return name


def _log(run):
    """The rows of a run's validation log."""
    with open(run / "log.csv") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def init(tmp_path_factory, keras_name):
    """Weights of a 2-step run, the starting point of the fine-tuning tests."""
    first = tmp_path_factory.mktemp("first")
    result = run_mf("train", "deblur", "-o", first, "--steps", "2", "--backend", keras_name, *ARGS)
    assert result.returncode == 0, result.stderr
    return first / "rdn.weights.h5"


def test_train_checkpoints_logs_and_resumes(mf, tmp_path, keras_name):
    run = tmp_path / "run"
    first = mf("train", "deblur", "-o", run, "--steps", "6", "--stop-after", "3", "--backend", keras_name, *ARGS)
    assert first.returncode == 0, first.stderr
    info = json.loads(first.stdout)
    assert info["steps"] == 3 and not info["finished"]
    state = json.loads((run / "checkpoint" / "state.json").read_text())
    import h5py

    with h5py.File(run / "rdn.weights.h5") as fh:  # the shipped kind of file: the network, no optimizer state
        assert "optimizer" not in fh
    assert state["step"] == 3 and (run / "checkpoint" / "last.weights.h5").is_file()

    again = mf("train", "deblur", "-o", run, "--steps", "6", "--backend", keras_name, *ARGS)
    assert_clean_error(again, "already holds a run", "--resume")

    other = mf("train", "deblur", "-o", run, "--steps", "8", "--resume", "--backend", keras_name, *ARGS)
    assert_clean_error(other, "was started with")

    second = mf("train", "deblur", "-o", run, "--steps", "6", "--resume", "--backend", keras_name, *ARGS)
    assert second.returncode == 0, second.stderr
    info = json.loads(second.stdout)
    assert info["steps"] == 6 and info["finished"]
    rows = _log(run)
    assert [int(r["step"]) for r in rows] == [2, 4, 6]
    # scored after all 8 frames of the preset and after the thesis's 5, on the streamed kind only
    assert all(float(r[f"{kind}_psnr"]) > 10 for r in rows for kind in ("static", "static_5"))
    assert not any(key.startswith("dynamic") for key in rows[0])
    card = json.loads((run / "rdn.json").read_text())
    assert card["width"] == 0.1 and card["config"]["steps"] == 6 and card["keras_backend"] == keras_name
    assert card["trained_steps"] in (2, 4, 6) and (run / "rdn.weights.h5").is_file()


def test_train_warm_starts_from_weights(mf, tmp_path, keras_name, keras, init):
    """--init loads the weights (with lr 0 the trained layers stay theirs) and the card says how to repeat it."""
    import numpy as np
    from mf_deblur.network import build_rdn

    from mfcore.kit import load_weights

    tuned = tmp_path / "tuned"
    result = mf("train", "deblur", "-o", tuned, "--steps", "2", "--lr", "0", "--frames", "3", "--flat-share", "0.5",
                "--init", init, "--backend", keras_name, *ARGS)
    assert result.returncode == 0, result.stderr
    before, after = (load_weights(build_rdn(0.1), path, "RDN") for path in (init, tuned / "rdn.weights.h5"))
    for a, b in zip(before.trainable_weights, after.trainable_weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    card = json.loads((tuned / "rdn.json").read_text())
    assert card["config"]["init"] == str(init) and card["config"]["frames"] == 3
    assert card["config"]["flat_share"] == 0.5
    assert (f"--preset cpu --width 0.1 --frames 3 --steps 2 --lr 0.0 --flat-share 0.5 --init {init} --backend"
            in card["reproduce"])

    wider = mf("train", "deblur", "-o", tmp_path / "w", "--steps", "2", "--backend", keras_name, *ARGS[2:],
               "--width", "0.2", "--init", init)
    assert_clean_error(wider, "have width 0.1, the run has 0.2")
    missing = mf("train", "deblur", "-o", tmp_path / "m", "--steps", "2", "--backend", keras_name, *ARGS,
                 "--init", tmp_path / "none.weights.h5")
    assert_clean_error(missing, "none.weights.h5: RDN weights not found")


def test_fine_tune_that_never_beats_its_init_keeps_it(mf, tmp_path, keras_name, keras, init):
    """--init scores the starting weights as step 0; a run that only gets worse (a learning rate that wrecks the
    network) ships them unchanged, and its card says no step was trained."""
    import numpy as np
    from mf_deblur.network import build_rdn

    from mfcore.kit import load_weights

    wrecked = tmp_path / "wrecked"
    result = mf("train", "deblur", "-o", wrecked, "--steps", "2", "--lr", "1000", "--init", init,
                "--backend", keras_name, *ARGS[:4], "--validate-every", "1", *ARGS[6:])
    assert result.returncode == 0, result.stderr
    rows = _log(wrecked)
    assert [r["step"] for r in rows] == ["0", "1", "2"] and rows[0]["loss"] == ""
    assert json.loads(result.stdout)["best"]["step"] == 0
    assert json.loads((wrecked / "rdn.json").read_text())["trained_steps"] == 0
    before, after = (load_weights(build_rdn(0.1), path, "RDN") for path in (init, wrecked / "rdn.weights.h5"))
    for a, b in zip(before.weights, after.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_recalibrated_then_frozen_batch_norm_stays_fixed(mf, tmp_path, keras_name, keras, init):
    """--recalibrate-norm: new exact statistics (not the init's); --freeze-norm keeps them, whichever step is best,
    and without recalibration keeps the init's; the convolutions still train."""
    import numpy as np
    from mf_deblur.network import build_rdn

    from mfcore.kit import batch_norm_layers, load_weights

    runs = {}
    for name, steps, extra in (("r1", 1, ("--recalibrate-norm", "3")), ("r3", 3, ("--recalibrate-norm", "3")),
                               ("kept", 1, ())):
        result = mf("train", "deblur", "-o", tmp_path / name, "--steps", str(steps), "--validate-every", "1",
                    "--init", init, "--freeze-norm", *extra, "--backend", keras_name, *ARGS[:4], *ARGS[6:])
        assert result.returncode == 0, result.stderr
        runs[name] = load_weights(build_rdn(0.1), tmp_path / name / "rdn.weights.h5", "RDN")
    start = load_weights(build_rdn(0.1), init, "RDN")
    numpy = keras.ops.convert_to_numpy
    layers = list(zip(*(batch_norm_layers(m) for m in (start, runs["r1"], runs["r3"], runs["kept"]))))
    assert len(layers) == 32
    for before, one, three, kept in layers:
        for name in ("moving_mean", "moving_variance"):
            np.testing.assert_array_equal(numpy(getattr(one, name)), numpy(getattr(three, name)))
            np.testing.assert_array_equal(numpy(getattr(kept, name)), numpy(getattr(before, name)))
        np.testing.assert_array_equal(numpy(one.gamma), numpy(before.gamma))
        np.testing.assert_array_equal(numpy(three.beta), numpy(before.beta))
    assert any(not np.allclose(numpy(b.moving_mean), numpy(o.moving_mean)) for b, o, _, _ in layers)
    rows = _log(tmp_path / "r1")  # step 0 scores the init; the step after it trained the convolutions
    assert [r["step"] for r in rows] == ["0", "1"] and rows[0]["loss"] == "" and float(rows[1]["loss"]) > 0
    assert rows[0]["static_psnr"] != rows[1]["static_psnr"]
    card = json.loads((tmp_path / "r3" / "rdn.json").read_text())
    assert card["config"]["recalibrate_norm"] == 3 and card["config"]["freeze_norm"] is True
    assert "--recalibrate-norm 3 --freeze-norm --backend" in card["reproduce"]

    for extra in (("--freeze-norm",), ("--recalibrate-norm", "3")):
        alone = mf("train", "deblur", "-o", tmp_path / "a", "--steps", "2", *extra, "--backend", keras_name, *ARGS)
        assert_clean_error(alone, "fine-tune trained weights: pass --init")


def test_train_errors_are_one_line(mf, tmp_path, keras_name):
    cases = [
        (("--stream", "wobbly"), "unknown --stream 'wobbly'"),
        (("--data", tmp_path / "missing.lmdb"), "missing.lmdb: no such dataset"),
        (("--stream", "static", "--images", tmp_path), "folder contains no images"),
        (("--resume",), "no checkpoint to resume from"),
    ]
    for extra, fragment in cases:
        result = mf("train", "deblur", "-o", tmp_path / "r", "--steps", "2", "--backend", keras_name, *extra)
        assert_clean_error(result, fragment)


def test_batches_cut_sequences_to_random_lengths(tmp_path):
    """Each batch has one length in [min_frames, frames]; crops keep target and frames registered."""
    import numpy as np
    from mf_deblur.train import PRESETS, Batches, Preset

    from mfcore.data import DatasetWriter

    rng = np.random.default_rng(0)
    with DatasetWriter(tmp_path / "d.lmdb") as writer:
        for _ in range(4):
            sharp = rng.random((80, 80, 3), dtype=np.float32)
            writer.append({"sharp": sharp, "blurred": np.stack([sharp + i for i in range(8)])})
    config = PRESETS[Preset.cpu]
    batches = Batches(config, [tmp_path / "d.lmdb"], [], 1, 0, None, None)
    lengths = set()
    for _ in range(40):
        x, y = next(batches)
        assert x.shape[0] == y.shape[0] == config.batch and x.shape[2:] == y.shape[2:] == (64, 64, 3)
        assert config.min_frames <= x.shape[1] <= config.frames and y.shape[1] == x.shape[1] - 1  # a target per step
        offsets = np.broadcast_to(np.arange(x.shape[1], dtype=np.float32)[None, :, None, None, None], x.shape)
        np.testing.assert_allclose(x - y[:, :1], offsets, atol=1e-5)
        np.testing.assert_array_equal(y, np.repeat(y[:, :1], y.shape[1], axis=1))
        lengths.add(x.shape[1])
    batches.close()
    assert lengths == set(range(config.min_frames, config.frames + 1))


def test_static_bursts_start_from_fba_as_mf_run_deblur_prepares_them():
    """With --start fba a static burst of L frames becomes FBA of all L, then its sharpest FBA_OBSERVATIONS
    frames, the sequence inference runs; dynamic clips are cut to as many steps, so batches stay rectangular."""
    import dataclasses

    import numpy as np
    from mf_deblur.baselines.fba import fba
    from mf_deblur.order import FBA_OBSERVATIONS, sharpest_first
    from mf_deblur.train import PRESETS, Preset, _sequence

    config = dataclasses.replace(PRESETS[Preset.cpu], start="fba")
    frames = np.random.default_rng(0).random((8, 16, 16, 3), dtype=np.float32)
    for length in (2, 4, 8):
        static = _sequence(frames, length, True, config)
        assert static.shape == (FBA_OBSERVATIONS + 1, 16, 16, 3)
        np.testing.assert_allclose(static[0], np.clip(fba(frames[:length]), 0, 1), atol=1e-6)
        np.testing.assert_array_equal(static[1:], sharpest_first(frames[:length])[:FBA_OBSERVATIONS])
        np.testing.assert_array_equal(_sequence(frames, length, False, config), frames[:FBA_OBSERVATIONS + 1])
    np.testing.assert_array_equal(_sequence(frames, 4, True, PRESETS[Preset.cpu]), frames[:4])


def test_start_fba_runs_and_is_recorded_in_the_card(mf, tmp_path, keras_name, init):
    run = tmp_path / "fba"
    result = mf("train", "deblur", "-o", run, "--steps", "2", "--init", init, "--freeze-norm", "--camera",
                "--start", "fba", "--frames", "4", "--backend", keras_name, *ARGS)
    assert result.returncode == 0, result.stderr
    card = json.loads((run / "rdn.json").read_text())
    assert card["config"]["start"] == "fba" and card["config"]["camera"] is True
    assert set(card["validation_psnr"]) == {"static_psnr"}  # 4 frames: no separate 5-frame score
    assert "--camera --start fba" in card["reproduce"]
    assert_clean_error(mf("train", "deblur", "-o", tmp_path / "y", "--start", "middle", "--steps", "2",
                          "--backend", keras_name), "unknown --start 'middle'")


def test_validation_covers_the_streamed_kinds_only():
    """A run that streams static bursts alone is validated (and its best step chosen) on static bursts alone."""
    from mf_deblur.train import GENERATORS, PRESETS, Preset, validation_set

    config = PRESETS[Preset.cpu]
    assert set(validation_set(config, count=2, size=32, kinds=["static"])) == {"static"}
    both = validation_set(config, count=2, size=32)
    assert set(both) == set(GENERATORS)
    assert both["static"][0].shape == (2, config.frames, 32, 32, 3)
