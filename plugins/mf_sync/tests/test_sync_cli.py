"""`mf run sync`, `mf sync collection`, `mf bench sync` and `mf train sync` end to end, and their errors."""

import csv
import json
import shutil

import numpy as np
import pytest

from mfcore.kit import video_info, write_video
from mfcore.testing import assert_clean_error


def read_alignment(path):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return np.array([int(r["frame_a"]) for r in rows]), np.array([float(r["frame_b_exact"]) for r in rows])


@pytest.mark.parametrize("method", ["seqslam", "sift"])
def test_a_video_aligns_to_itself(mf, tiny_drives, tmp_path, method):
    video = tiny_drives / "h0_d0.mp4"
    out = tmp_path / "alignment.csv"
    result = mf("run", "sync", video, video, "-o", out, "--method", method, "--render", tmp_path / "sbs.mp4")
    assert result.returncode == 0, result.stderr
    frames_a, frames_b = read_alignment(out)
    assert len(frames_a) > 0.8 * video_info(video)["frames"]
    assert np.mean(np.abs(frames_b - frames_a) <= 1) > 0.95
    info = video_info(tmp_path / "sbs.mp4")
    assert info["width"] == 2 * 96 and info["frames"] == len(frames_a)


def test_no_matching_tour_is_an_answer_with_exit_code_3(mf, tiny_drives, noise_video, tmp_path):
    result = mf("run", "sync", tiny_drives / "h0_d0.mp4", noise_video, "-o", tmp_path / "a.csv", "--method",
                "seqslam")
    assert result.returncode == 3, result.stderr
    assert "no matching tour of 8 s or more found" in result.stdout and not (tmp_path / "a.csv").exists()
    assert "Traceback" not in result.stderr


def test_short_clips_align_and_min_overlap_sets_the_shortest_tour(mf, tiny_drives, tmp_path):
    """6-second clips of one drive (a 4-second overlap, 20 to 60 frames) align at a finer step; a tour must
    then span 0.4 of the shorter clip, or --min-overlap."""
    from mf_sync.clips import Clip, write_clip

    drive = tiny_drives / "h0_d0.mp4"
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    write_clip(drive, Clip(0, 20, 80), a, 10.0)
    write_clip(drive, Clip(0, 40, 100), b, 10.0)
    result = mf("run", "sync", a, b, "-o", tmp_path / "a.csv", "--method", "seqslam")
    assert result.returncode == 0, result.stderr
    frames_a, frames_b = read_alignment(tmp_path / "a.csv")
    shared = frames_a >= 20
    assert shared.sum() >= 30 and np.mean(np.abs(frames_b[shared] - (frames_a[shared] - 20)) <= 1) > 0.9
    result = mf("run", "sync", a, b, "-o", tmp_path / "b.csv", "--method", "seqslam", "--min-overlap", "5")
    assert result.returncode == 3 and "no matching tour of 5 s or more found" in result.stdout


@pytest.mark.parametrize("method", ["seqslam", "net"])
def test_videos_of_other_frame_rates_and_sizes_align(mf, tiny_drives, tiny_sync_weights, tmp_path, method):
    """B is A at half the frame rate and 1.5 times the size: frame i of A is frame i / 2 of B."""
    import cv2

    from mfcore.kit import iter_video

    video = tiny_drives / "h0_d0.mp4"
    half = tmp_path / "half.mp4"
    write_video(half, (cv2.resize(f, (144, 96)) for k, f in enumerate(iter_video(video)) if k % 2 == 0), fps=5)
    weights = ["--weights", tiny_sync_weights] if method == "net" else []
    result = mf("run", "sync", video, half, "-o", tmp_path / "a.csv", "--method", method, *weights)
    assert result.returncode == 0, result.stderr
    frames_a, frames_b = read_alignment(tmp_path / "a.csv")
    assert len(frames_a) > 0.5 * video_info(video)["frames"]
    assert np.mean(np.abs(frames_b - frames_a / 2) <= 1) > 0.8


def test_bad_inputs_are_one_line_errors(mf, tiny_drives, tmp_path):
    text = tmp_path / "fake.mp4"
    text.write_text("not a video")
    good = tiny_drives / "h0_d0.mp4"
    assert_clean_error(mf("run", "sync", good, text, "--method", "seqslam"), "not a readable video")
    assert_clean_error(mf("run", "sync", good, tmp_path / "missing.mp4", "--method", "seqslam"), "no such file")
    single = tmp_path / "one.mp4"
    write_video(single, [np.zeros((64, 96, 3), np.float32)], fps=10)
    assert_clean_error(mf("run", "sync", good, single, "--method", "seqslam"), "cannot be synchronised")
    assert_clean_error(mf("run", "sync", good, good, "--weights", tmp_path / "none.weights.h5"), "not found")
    assert_clean_error(mf("run", "sync", good, good, "-o", tmp_path / "no" / "a.csv", "--method", "seqslam"),
                       "does not exist")


def test_network_alignment_and_portable_cli(mf, tiny_drives, tiny_sync_weights, tmp_path):
    video = tiny_drives / "h1_d0.mp4"
    result = mf("run", "sync", video, video, "-o", tmp_path / "a.csv", "--weights", tiny_sync_weights, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["method"] == "net" and set(summary["seconds"]) >= {"describe", "costs", "tour", "fine"}
    assert summary["band"] == "fused"
    frames_a, frames_b = read_alignment(tmp_path / "a.csv")
    assert np.mean(np.abs(frames_b - frames_a) <= 1) > 0.95
    result = mf("run", "sync", video, video, "-o", tmp_path / "b.csv", "--weights", tiny_sync_weights, "--band",
                "net", "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["band"] == "net", result.stderr
    frames_a, frames_b = read_alignment(tmp_path / "b.csv")
    assert np.mean(np.abs(frames_b - frames_a) <= 1) > 0.95


def test_collection_finds_the_reference_drive_again(mf, tiny_drives, tiny_sync_weights, tmp_path):
    folder = tmp_path / "collection"
    folder.mkdir()
    for name in ("h0_d0", "h0_d1", "h1_d0"):
        (folder / f"{name}.mp4").symlink_to(tiny_drives / f"{name}.mp4")
    shutil.copy(tiny_drives / "h1_d1.mp4", folder / "copy.mp4")
    out = tmp_path / "collection.csv"
    result = mf("sync", "collection", folder, "--reference", tiny_drives / "h1_d1.mp4", "--method", "seqslam",
                "-o", out, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["index"] == "pqt"  # mf-ann is installed: its PQT, through the registry
    matches = {m["video"]: m for m in json.loads(result.stdout)["matches"]}
    assert matches["copy.mp4"]["aligned"]  # the reference itself, under another name
    with open(out, newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["video"] == "copy.mp4"]
    assert np.mean([abs(int(r["frame_reference"]) - int(r["frame_video"])) <= 1 for r in rows]) > 0.95
    # Without mf-ann (only the core and sync plugins loaded) the core's exact index serves, and finds the same.
    exact = mf("sync", "collection", folder, "--reference", tiny_drives / "h1_d1.mp4", "--method", "seqslam",
               "-o", tmp_path / "exact.csv", "--json", env={"MF_PLUGINS": "core,sync"})
    assert exact.returncode == 0, exact.stderr
    assert json.loads(exact.stdout)["index"] == "exact"
    assert {m["video"] for m in json.loads(exact.stdout)["matches"] if m["aligned"]} == \
        {m["video"] for m in matches.values() if m["aligned"]}
    assert_clean_error(mf("sync", "collection", folder, "--reference", tiny_drives / "h1_d1.mp4", "--index",
                          "nosuch", "-o", out), "unknown index type 'nosuch'; installed: exact, pqt")
    result = mf("sync", "collection", folder, "--reference", tiny_drives / "h1_d1.mp4", "--weights",
                tiny_sync_weights, "--start", "1", "-o", out, "--json")  # the network, SIFT in the band
    assert result.returncode == 0, result.stderr
    assert {m["video"]: m for m in json.loads(result.stdout)["matches"]}["copy.mp4"]["aligned"]
    with open(out, newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["video"] == "copy.mp4"]
    assert np.mean([abs(int(r["frame_reference"]) - int(r["frame_video"])) <= 1 for r in rows]) > 0.95
    assert_clean_error(mf("sync", "collection", folder, "--reference", tiny_drives / "h1_d1.mp4", "--method",
                          "sift"), "no descriptors to index")


def test_bench_writes_its_tables(mf, tiny_drives, tiny_sync_weights, tmp_path):
    md, png = tmp_path / "sync.md", tmp_path / "costs.png"
    result = mf("bench", "sync", "--drives", tiny_drives, "--weights", tiny_sync_weights, "--iteration",
                f"a={tiny_sync_weights}", "--markdown", md, "--figure", png, "--clips", "2", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    methods = [row["method"] for row in report["methods"]]
    assert methods == ["SeqSLAM-style pixels", "SIFT histograms", "network after a", "mf_sync network",
                       "mf_sync network, SIFT matches in the band (mf run sync)",
                       "mf_sync network on its descriptors (thesis)"]
    targets = {row["target"]: row["met"] for row in report["targets"]}
    for name in ("network", "mf run sync (network, SIFT in the band)"):
        assert targets[f"{name}: ≥ 80 % of overlapping frames within ±4"] in ("yes", "no")
        assert targets[f"{name} beats both baselines (within ±4)"] in ("yes", "no")
    assert [row["method"] for row in report["clips"]] == methods[:-1]  # the clips: every method but the thesis's
    for row in report["clips"]:
        assert row["tours found"].endswith("/2") and row["false tours"].endswith("/2")
    assert targets["short clips that share no road: no false tour"] in ("yes", "no")
    text = md.read_text()
    assert "Coarse tour of two 35-minute videos" in text and "6300 x 6300" in text and "## Short clips" in text
    assert png.stat().st_size > 0
    assert_clean_error(mf("bench", "sync", "--drives", tmp_path), "no drives.json")


def test_targets_are_met_only_at_80_percent_and_above_both_baselines():
    from mf_sync.bench import FUSED, _targets

    rows = [{"method": "SeqSLAM-style pixels", "within ±4": "42.5%"},
            {"method": "SIFT histograms", "within ±4": "82.0%"},
            {"method": "mf_sync network", "within ±4": "69.7%"}, {"method": FUSED, "within ±4": "81.5%"}]
    met = {t["target"]: t["met"] for t in _targets(rows, {"total (s)": 0.8}, [], True)}
    assert met["network: ≥ 80 % of overlapping frames within ±4"] == "no"
    assert met["mf run sync (network, SIFT in the band): ≥ 80 % of overlapping frames within ±4"] == "yes"
    assert met["mf run sync (network, SIFT in the band) beats both baselines (within ±4)"] == "no"  # SIFT: 82.0
    assert met["coarse tour of two 35-min videos < 2 s (given descriptors)"] == "yes"


def test_train_runs_iterations_and_resumes(mf, tiny_drives, tmp_path, keras):
    out = tmp_path / "run"
    args = ("train", "sync", tiny_drives, "-o", out, "--steps", "3", "--iterations", "2", "--width", "0.125")
    result = mf(*args, "--json")
    assert result.returncode == 0, result.stderr
    for name in ("iter0.weights.h5", "iter1.weights.h5", "sync.weights.h5", "sync.json", "cost_iter0.png",
                 "cost_iter1.png", "log.csv"):
        assert (out / name).is_file(), name
    card = json.loads((out / "sync.json").read_text())
    assert card["width"] == 0.125 and len(card["log"]) == 2
    assert card["log"][1]["labels"]["intra"] > 0 and "inter" in card["log"][1]["labels"]
    assert_clean_error(mf(*args), "already holds a run")
    assert mf(*args, "--resume").returncode == 0
    longer = [a if a != "2" else "3" for a in args]
    result = mf(*longer, "--resume", "--json")
    assert result.returncode == 0, result.stderr
    assert (out / "iter2.weights.h5").is_file()
    assert len(json.loads((out / "sync.json").read_text())["log"]) == 3
    assert_clean_error(mf(*args, "--resume"), "would undo")
    assert_clean_error(mf(*longer[:-2], "--width", "0.25", "--resume"), "another configuration")
