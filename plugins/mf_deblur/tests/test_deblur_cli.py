"""``mf run deblur`` end to end, and the CLI error contract on bad input."""

import json
import os

import numpy as np
import pytest
from mf_deblur.baselines.fba import fba
from mf_deblur.synthesis.burst import synthesize_burst

from mfcore.kit import crop, photo, read_burst, write_image
from mfcore.testing import assert_clean_error


@pytest.fixture
def burst_dir(tmp_path):
    sharp = crop(photo("chelsea"), 96)
    burst, _ = synthesize_burst(sharp, np.random.default_rng(0), frames=5, sizes=(11,))
    folder = tmp_path / "burst"
    folder.mkdir()
    for i, frame in enumerate(burst):
        write_image(folder / f"frame_{i:02d}.png", frame)
    return folder


@pytest.mark.mf_task("deblur")
def test_run_writes_the_fba_of_the_frames(mf, backend, burst_dir, tmp_path):
    out = tmp_path / "out.png"
    result = mf("run", "deblur", burst_dir, "-o", out, "--method", "fba", "--backend", backend.name, "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["method"] == "fba" and info["frames"] == 5 and info["size"] == "96x96" and info["backend"] == backend.name
    frames = read_burst(sorted(burst_dir.iterdir()))
    want = np.clip(fba(frames), 0, 1)
    got = read_burst([out, out])[0]
    assert np.abs(got - want).max() <= 1 / 255 + 1e-6  # 8-bit quantisation of the same image


def test_run_accepts_files_and_alignment(mf, burst_dir, tmp_path):
    files = sorted(burst_dir.iterdir())
    out = tmp_path / "aligned.png"
    result = mf("run", "deblur", *files, "-o", out, "--method", "fba", "--align", "ecc", "--p", "5", "--sigma", "0")
    assert result.returncode == 0, result.stderr
    assert out.is_file()


@pytest.fixture
def bad_inputs(tmp_path, burst_dir):
    text = tmp_path / "notes.png"
    text.write_text("this is not an image")
    small = tmp_path / "small.png"
    write_image(small, np.zeros((10, 12, 3)))
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    yield {"text": text, "small": small, "locked": locked, "frame": next(iter(sorted(burst_dir.iterdir())))}
    os.chmod(locked, 0o700)


def test_bad_inputs_give_one_clear_line_and_no_output(mf, bad_inputs, burst_dir, tmp_path):
    out = tmp_path / "out.png"
    frame = bad_inputs["frame"]
    cases = [
        (("run", "nosuchtask", burst_dir, "-o", out), "unknown task 'nosuchtask'"),
        (("run", "deblur", burst_dir, "-o", out, "--backend", "nosuch"),
         "does not support backend 'nosuch'; use one of: numpy, torch, tensorflow, cupy"),
        (("run", "deblur", tmp_path / "missing.png", frame, "-o", out), "missing.png: no such file"),
        (("run", "deblur", bad_inputs["text"], frame, "-o", out), "notes.png: not a readable image"),
        (("run", "deblur", frame, bad_inputs["small"], "-o", out), "all frames must match"),
        (("run", "deblur", frame, "-o", out), "need at least 2 frames, got 1"),
        (("run", "deblur", burst_dir, "-o", tmp_path / "nodir" / "x.png"), "does not exist"),
        (("run", "deblur", burst_dir, "-o", tmp_path / "out.txt"), "unknown image format"),
        (("run", "deblur", burst_dir, "-o", out, "--method", "magic"), "magic"),
        (("run", "deblur", tmp_path / "empty_dir_missing", "-o", out), "no such file"),
        # weights you name are an order: never a quiet fall back to FBA
        (("run", "deblur", burst_dir, "-o", out, "--weights", tmp_path / "none.weights.h5"), "weights not found"),
    ]
    if os.geteuid() != 0:  # root can write into a read-only folder
        cases.append((("run", "deblur", burst_dir, "-o", bad_inputs["locked"] / "x.png"), "not writable"))
    for args, fragment in cases:
        assert_clean_error(mf(*args), fragment)
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["burst", "locked", "notes.png", "small.png"]


def test_a_corrupt_frame_in_the_middle_and_a_truncated_video_are_one_line(mf, burst_dir, tmp_path):
    """A JPEG cut short among good frames, and a video whose stream ends before its declared length."""
    from mfcore.kit import write_video

    jpegs = tmp_path / "jpegs"
    jpegs.mkdir()
    frames = read_burst(sorted(burst_dir.iterdir()))
    for i, frame in enumerate(frames):
        write_image(jpegs / f"f{i}.jpg", frame)
    data = (jpegs / "f2.jpg").read_bytes()
    (jpegs / "f2.jpg").write_bytes(data[:len(data) // 2])
    video = tmp_path / "clip.avi"
    write_video(video, iter([np.roll(frames[0], i, axis=1) for i in range(20)]), 10.0)
    data = video.read_bytes()
    video.write_bytes(data[:len(data) // 2])  # the header still declares 20 frames
    out_image, out_video = tmp_path / "out.png", tmp_path / "out.avi"
    assert_clean_error(mf("run", "deblur", jpegs, "-o", out_image, "--method", "fba"), "f2.jpg: not a readable image")
    assert_clean_error(mf("run", "deblur", video, "-o", out_video, "--method", "fba"),
                       "clip.avi: the video ends after", "of its 20 frames (truncated or damaged)")
    assert not out_image.exists() and not out_video.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["burst", "clip.avi", "jpegs"]


def test_unwritable_output_path_leaves_no_partial_file(mf, burst_dir, tmp_path):
    target = tmp_path / "is_a_folder.png"
    target.mkdir()  # renaming a file over a folder fails at the very end of the write
    result = mf("run", "deblur", burst_dir, "-o", target, "--method", "fba")
    assert_clean_error(result, "cannot write", "it is a folder, not a regular file")
    assert target.is_dir() and list(target.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["burst", "is_a_folder.png"]


@pytest.mark.unusable_backend
def test_unavailable_backend_is_one_line(mf, burst_dir, tmp_path):
    from mfcore import all_backends

    cupy = all_backends().get("cupy")
    if cupy is not None and cupy.is_available():
        pytest.skip("cupy is usable on this machine")
    result = mf("run", "deblur", burst_dir, "-o", tmp_path / "o.png", "--backend", "cupy")
    assert_clean_error(result, "backend 'cupy' is not available here" if cupy else "backend 'cupy' is not installed")


def test_debug_shows_the_traceback(mf, tmp_path):
    result = mf("--debug", "run", "deblur", tmp_path / "a.png", tmp_path / "b.png", "-o", tmp_path / "o.png")
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "InputError" in result.stderr
