import json

from mfcore.backends import all_backends


def test_bench_deblur_scores_every_photo_and_times_every_available_backend(mf, tmp_path):
    table = tmp_path / "deblur.md"
    result = mf("bench", "deblur", "--seeds", "1", "--size", "128", "--repeats", "1", "--markdown", table, "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert len(info["quality"]) == 5
    for row in info["quality"]:
        assert row["FBA PSNR"] > row["mean of frames PSNR"]
    usable = {n for n, b in all_backends().items() if n in ("numpy", "torch", "cupy") and b.is_available()}
    assert {row["backend"] for row in info["speed"]} == usable
    assert all(row["median ms"] > 0 for row in info["speed"])
    assert "| astronaut |" in table.read_text()
