"""``mf bench deblur``: every method and frame count scored on held-out data, tables, pictures."""

import json

from mfcore.images import read_image
from mfcore.testing import keras_backend_name


def test_bench_deblur_scores_every_method_and_frame_count(mf, tiny_weights, tmp_path):
    path, _ = tiny_weights
    table, strip, sheet = tmp_path / "deblur.md", tmp_path / "strip.png", tmp_path / "kernels.png"
    result = mf("bench", "deblur", "--bursts", "1", "--size", "48", "--repeats", "1", "--weights", path,
                "--markdown", table, "--strip", strip, "--kernels", sheet, "--backend", keras_backend_name(), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    for kind in ("static", "dynamic"):
        rows = {row["method"]: row for row in info[kind]}
        assert set(rows) == {"mean", "FBA", "RDN", "target frame alone"}
        for row in rows.values():
            assert [k for k in row if k != "method"] == [f"{k} frames PSNR / SSIM" for k in (2, 3, 5, 8, 12)]
        # fusing twelve shaken frames beats the target frame alone on static bursts
        fba = float(rows["FBA"]["12 frames PSNR / SSIM"].split(" / ")[0])
        alone = float(rows["target frame alone"]["2 frames PSNR / SSIM"].split(" / ")[0])
        if kind == "static":
            assert fba > alone
    assert [t["data"] for t in info["targets"]] == ["static", "dynamic"]
    spreads = info["temporal_skips"]
    assert [s["data"] for s in spreads] == ["static", "dynamic"]
    assert all(list(s)[1:] == [f"{k} frames" for k in (2, 3, 5, 8, 12)] for s in spreads)
    assert all(v > 0 for s in spreads for k, v in s.items() if k != "data")
    assert {r["method"] for r in info["speed"]} >= {"RDN, one recurrent step", "FBA"}
    text = table.read_text()
    assert "## Targets" in text and "## Static bursts" in text and "## Temporal skips" in text and "![strip](strip.png)" in text
    assert read_image(strip).shape == (2 * 48 + 4, 6 * 48 + 5 * 4, 3)
    assert read_image(sheet).shape[0] > 48
