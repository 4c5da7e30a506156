"""``mf bench deblur``: every method and frame count scored on held-out data, tables, pictures."""

import json

import numpy as np

from mfcore.kit import read_image
from mfcore.testing import keras_backend_name


def test_bench_deblur_scores_every_method_and_frame_count(mf, tiny_weights, tmp_path):
    path, _ = tiny_weights
    table, strip, sheet = tmp_path / "deblur.md", tmp_path / "strip.png", tmp_path / "kernels.png"
    result = mf("bench", "deblur", "--bursts", "1", "--size", "48", "--repeats", "1", "--weights", path,
                "--markdown", table, "--strip", strip, "--kernels", sheet, "--backend", keras_backend_name(), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    rdn = {"static": ["RDN, frames as given", "RDN, sharpest first (mf run deblur)"],
           "dynamic": ["RDN, frames as given", "RDN, ECC-registered (mf run deblur)"]}
    for kind in ("static", "dynamic"):
        rows = {row["method"]: row for row in info[kind]}
        lucky = {"sharpest frame alone"} if kind == "static" else set()
        assert set(rows) == {"mean", "FBA", *rdn[kind], "target frame alone"} | lucky
        for row in rows.values():
            assert [k for k in row if k != "method"] == [f"{k} frames PSNR / SSIM" for k in (2, 3, 5, 8, 12)]
        # fusing twelve shaken frames beats the target frame alone on static bursts
        fba = float(rows["FBA"]["12 frames PSNR / SSIM"].split(" / ")[0])
        alone = float(rows["target frame alone"]["2 frames PSNR / SSIM"].split(" / ")[0])
        if kind == "static":
            assert fba > alone
    assert [(t["data"], t["RDN"]) for t in info["targets"]] == [(k, r) for k in rdn for r in rdn[k]]
    for target in info["targets"]:  # one case has no standard error
        float(target["RDN - FBA at 5 frames (dB)"])
    spreads = info["temporal_skips"]
    assert [s["data"] for s in spreads] == ["static", "dynamic"]
    assert all(list(s)[1:] == [f"{k} frames" for k in (2, 3, 5, 8, 12)] for s in spreads)
    assert all(v > 0 for s in spreads for k, v in s.items() if k != "data")
    assert {r["method"] for r in info["speed"]} >= {"RDN, one recurrent step", "FBA"}
    text = table.read_text()
    assert "## Targets" in text and "## Static bursts" in text and "## Temporal skips" in text and "![strip](strip.png)" in text
    assert read_image(strip).shape == (2 * 48 + 4, 6 * 48 + 5 * 4, 3)
    assert read_image(sheet).shape[0] > 48


def test_differences_are_paired_means_with_their_standard_error():
    from mf_deblur.bench import _paired

    mean, text = _paired(np.array([31.0, 30.0, 35.0]), np.array([30.0, 28.0, 32.0]))
    assert mean == 2.0 and text == "2.00 ± 0.58"  # differences 1, 2, 3: sd 1, over sqrt(3)
