"""``mf bench deblur``: every method and frame count scored on held-out data, tables, pictures."""

import json

import numpy as np
from mf_deblur.synthesis.burst import synthesize_burst

from mfcore.kit import crop, photo, read_image, write_image
from mfcore.testing import keras_backend_name


def test_bench_deblur_scores_every_method_and_frame_count(mf, tiny_weights, fourier_weights, tmp_path):
    path, _ = tiny_weights
    table, strip, sheet = tmp_path / "deblur.md", tmp_path / "strip.png", tmp_path / "kernels.png"
    real, picture = tmp_path / "real", tmp_path / "real.png"
    sharp = crop(photo("chelsea"), 40)
    burst, _ = synthesize_burst(sharp, np.random.default_rng(0), frames=6, sizes=(7,))
    for name, frames in (("with_reference", burst), ("without", burst[:2])):
        (real / name).mkdir(parents=True)
        for i, frame in enumerate(frames):
            write_image(real / name / f"frame_{i}.png", frame)
    write_image(real / "with_reference" / "reference.png", sharp)
    result = mf("bench", "deblur", "--bursts", "1", "--size", "48", "--repeats", "1", "--weights", path,
                "--burst-weights", path, "--markdown", table, "--strip", strip, "--kernels", sheet, "--independent", "1", "--no-memory",
                "--real", real, "--real-picture", picture, "--fourier-weights", fourier_weights[0],
                "--no-fourier-speed", "--backend", keras_backend_name(), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    rdn = {"static": ["RDN, frames as given", "RDN, as mf run deblur prepares the burst"],
           "dynamic": ["RDN, frames as given", "RDN, ECC-registered (mf run deblur)"]}
    for kind in ("static", "dynamic"):
        rows = {row["method"]: row for row in info[kind]}
        lucky = {"sharpest frame alone"} if kind == "static" else set()
        lucky = lucky | ({"FourierNet"} if kind == "static" else set())
        assert set(rows) == {"mean", "FBA", *rdn[kind], "target frame alone"} | lucky
        for row in rows.values():
            assert [k for k in row if k != "method"] == [f"{k} frames PSNR / SSIM" for k in (2, 3, 5, 8, 12)]
        # fusing twelve shaken frames beats the target frame alone on static bursts
        fba = float(rows["FBA"]["12 frames PSNR / SSIM"].split(" / ")[0])
        alone = float(rows["target frame alone"]["2 frames PSNR / SSIM"].split(" / ")[0])
        if kind == "static":
            assert fba > alone
    want = [("static", r) for r in rdn["static"]] + [("static", "FourierNet")] + [("dynamic", r) for r in rdn["dynamic"]]
    assert [(t["data"], t["network"]) for t in info["targets"]] == want
    for target in info["targets"]:  # one case has no standard error
        float(target["network - FBA at 5 frames (dB)"])
    spreads = info["temporal_skips"]
    assert [s["data"] for s in spreads] == ["static", "dynamic"]
    assert all(list(s)[1:] == [f"{k} frames" for k in (2, 3, 5, 8, 12)] for s in spreads)
    assert all(v > 0 for s in spreads for k, v in s.items() if k != "data")
    assert {r["method"] for r in info["speed"]} >= {"RDN, one recurrent step", "FBA"}
    text = table.read_text()
    assert "## Targets" in text and "## Static bursts" in text and "## Temporal skips" in text and "![strip](strip.png)" in text
    assert read_image(strip).shape == (2 * 48 + 4, 6 * 48 + 5 * 4, 3)
    assert read_image(sheet).shape[0] > 48
    # beyond the training generator: independent bursts at 3, 5, 8 frames; the real burst at 2, 3, 5 and all 6
    assert [r["method"] for r in info["independent"]] == ["mean of frames", "FBA", "sharpest input frame",
                                                          "RDN (mf run deblur)", "FourierNet"]
    assert list(info["independent"][0])[1:] == [f"{k} frames PSNR / SSIM" for k in (3, 5, 8)]
    assert {r["burst"] for r in info["real"]} == {"with_reference (6 frames, 40x40)"}
    assert list(info["real"][0])[2:] == [f"{k} frames PSNR / SSIM" for k in (2, 3, 5, 6)]
    data = [t["data"] for t in info["generalisation_targets"]]
    # RDN: vs FBA at 5 (and all), vs the sharpest at 3, 2 per-burst counts, drops; FourierNet: vs FBA at every count
    assert data.count("independent") == 5 + 3 + 4 and data.count("real: with_reference") == 6 + 4 + 4
    assert any(t["target"] == "FourierNet - FBA at 2 frames >= 0 dB" for t in info["generalisation_targets"])
    assert read_image(picture).shape[0] == 2 * 256 + 4  # a row per burst, with or without reference
    assert "## Independent synthetic bursts" in text and "## Real bursts" in text and "## Memory" not in text


def test_differences_are_paired_means_with_their_standard_error():
    from mf_deblur.bench import _paired

    mean, text = _paired(np.array([31.0, 30.0, 35.0]), np.array([30.0, 28.0, 32.0]))
    assert mean == 2.0 and text == "2.00 ± 0.58"  # differences 1, 2, 3: sd 1, over sqrt(3)
