"""``mf bench reflect`` and ``mf train reflect``: short real runs, their files and their errors."""

import csv
import json

from mf_reflect.prior import PRIOR

from mfcore.kit import read_image
from mfcore.testing import assert_clean_error, keras_backend_name


def test_bench_scores_every_method_and_the_ablation(mf, tiny_reflect_weights, tmp_path):
    import numpy as np

    from mfcore.kit import write_image

    path, _ = tiny_reflect_weights
    table, strip, sheet = tmp_path / "reflect.md", tmp_path / "strip.png", tmp_path / "sheet.png"
    real, picture = tmp_path / "real", tmp_path / "real.png"
    real.mkdir()
    yy, xx = np.mgrid[0:48, 0:64] / 64
    raw = 0.3 + 0.2 * np.sin(9 * xx) * np.cos(7 * yy)
    raw[0::2, 0::2] *= 1.3  # the 90° positions see more light: a polarised scene
    write_image(real / "frame.png", raw, bits=16)
    write_image(real / "frame.transmission.png", raw[4:, ::2])  # another method's output: a reference, not a frame
    result = mf("bench", "reflect", "--cases", "2", "--size", "48", "--weights", path, "--ablation", f"dr={path}",
                "--ablation", f"full={path}", "--markdown", table, "--strip", strip, "--sheet", sheet,
                "--independent", "1", "--real", real, "--real-picture", picture,
                "--backend", keras_backend_name(), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    methods = [row["method"] for row in info["methods"]]
    assert methods == ["Farid & Adelson (ICA)", "Schechner et al. (AOI search)",
                       "flat pane in perspective (AOI field)", "canonical projection",
                       "pane where one pane fits, else network", "mf_reflect network"]
    for row in info["methods"]:
        assert 0 <= row["T RMSE"] < 1 and row["T PSNR (dB)"] > 5
    assert [r["training pipeline"] for r in info["ablation"]] == ["dr", "full"]
    # the same weights twice: identical scores, so "each step improves" is reported as not met
    assert info["ablation"][0]["T PSNR (dB)"] == info["ablation"][1]["T PSNR (dB)"]
    assert info["targets"][0]["target"].startswith("held-out: default") and info["targets"][1]["met"] == "no"
    assert [row["method"] for row in info["independent"]] == ["best single input image", "exact pane physics (noise floor)",
                                                             "pane solve with the true geometry", *methods]
    for row in info["independent"]:
        assert {"T̂ @0.25", "T̂ @0.5", "T̂ @0.9", "T̂ spread (dB)"} <= set(row) and row["T̂ @0.5"] > 0
    assert sum(t["target"].startswith("independent") for t in info["targets"]) == 7
    routing = {r["captures"]: r for r in info["routing"]}
    assert [r["count"] for r in routing.values()] == [2, 3, 3]  # own cases; one flat and one curved x 3 exposures
    assert all(0 <= r["no single pane (network runs)"] <= r["count"] for r in routing.values())
    assert [r["method"] for r in info["real"]] == [methods[3], methods[1], methods[2], methods[4], methods[5]]
    assert {r["channels out"] for r in info["real"]} == {1}
    assert all(-1 <= r["T̂ vs reference"] <= 1 and -1 <= r["R̂ vs reference"] <= 1 for r in info["real"])
    assert read_image(picture).shape == (48, 64 * 14 + 13 * 4, 3)  # 4 angles, then T̂ and R̂ of 5 methods
    text = table.read_text()
    assert "table 5.1" in text and "Synthesis ablation" in text and "strip.png" in text
    assert "Independent synthesiser" in text and "Real polarisation-camera frames" in text
    assert "Where `auto` runs the network" in text
    assert read_image(strip).shape == (48 * 7 + 24, 48 * 5 + 16, 3)
    assert read_image(sheet).shape == (128 * 4 + 12, 128 * 7 + 24, 3) and "sheet.png" in text  # 4 triples, 7 cells
    assert_clean_error(mf("bench", "reflect", "--ablation", "dr", "--weights", path), "NAME=PATH")


def test_train_logs_resumes_and_writes_a_loadable_card(mf, tmp_path, triple):
    name = keras_backend_name()
    if name is None:
        import pytest

        pytest.skip("training needs PyTorch or TensorFlow")
    run = tmp_path / "run"
    args = ("--width", "0.125", "--validation", "2", "--validate-every", "2", "--checkpoint-every", "2",
            "--backend", name, "--json", "-o", run, "--steps", "4", "--pipeline", "dr")
    first = mf("train", "reflect", *args, "--stop-after", "2")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["steps"] == 2
    assert_clean_error(mf("train", "reflect", *args), "already holds a run")
    assert_clean_error(mf("train", "reflect", *args[:-2], "--pipeline", "dr+nrd", "--resume"), "was started with")
    second = mf("train", "reflect", *args, "--resume")
    assert second.returncode == 0, second.stderr
    info = json.loads(second.stdout)
    assert info["finished"] and info["validation_prior"]["transmission"] > 5
    with open(run / "log.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in rows] == [2, 4]
    assert all(float(r["transmission_psnr"]) > 5 and float(r["reflection_psnr"]) > 5 for r in rows)
    card = json.loads((run / "reflect.json").read_text())
    assert card["width"] == 0.125 and card["angles_degrees"] == [0.0, 45.0, 90.0]
    assert card["channels"] == 1 and card["prior"] == PRIOR
    assert card["config"]["pipeline"] == "dr" and "--pipeline dr" in card["reproduce"]
    assert read_image(run / "samples.png").shape == (128 * 4 + 12, 128 * 7 + 24, 3)
    files, _ = triple
    used = mf("run", "reflect", *files, "-o", tmp_path / "sep", "--weights", run / "reflect.weights.h5",
              "--backend", name)
    assert used.returncode == 0, used.stderr
    assert read_image(tmp_path / "sep" / "transmission.png").shape == (40, 40, 3)
    assert_clean_error(mf("train", "reflect", "-o", tmp_path / "x", "--data", tmp_path / "missing.lmdb",
                          "--backend", name), "missing.lmdb: no such dataset")
