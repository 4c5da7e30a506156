"""Video I/O: round trips through a real codec, streaming reads, atomic writes, one-line errors."""

import numpy as np
import pytest

from mfcore import InputError
from mfcore.kit import crop, iter_video, photo, psnr, read_video, video_info, write_video


def _clip(n=8, h=64, w=96):
    image = crop(photo("coffee"), 200)
    return np.stack([image[i * 4:i * 4 + h, i * 3:i * 3 + w] for i in range(n)])


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_round_trip_keeps_frames_size_and_rate(tmp_path, suffix):
    clip = _clip()
    path = write_video(tmp_path / f"c{suffix}", clip, fps=24)
    info = video_info(path)
    assert (info["frames"], info["width"], info["height"]) == (8, 96, 64) and info["fps"] == pytest.approx(24)
    back = read_video(path)
    assert back.shape == clip.shape and back.dtype == np.float32
    assert min(psnr(a, b) for a, b in zip(clip, back)) > 28  # lossy codecs, but the same pictures
    assert [f.shape for f in iter_video(path, start=5)] == [(64, 96, 3)] * 3
    np.testing.assert_allclose(read_video(path, start=2, count=3), back[2:5], atol=0.02)


def test_failed_write_leaves_nothing(tmp_path):
    frames = [np.zeros((32, 32, 3)), np.zeros((16, 16, 3))]
    with pytest.raises(InputError, match="frames change size"):
        write_video(tmp_path / "x.mp4", frames)
    with pytest.raises(InputError, match="no frames"):
        write_video(tmp_path / "y.mp4", [])
    assert list(tmp_path.iterdir()) == []


def test_bad_videos_are_one_clear_error(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(InputError, match="not a readable video"):
        video_info(text)
    with pytest.raises(InputError, match="no such file"):
        read_video(tmp_path / "missing.mp4")
    with pytest.raises(InputError, match="unknown video format"):
        write_video(tmp_path / "x.gif", _clip(2))
    short = write_video(tmp_path / "s.mp4", _clip(2))
    with pytest.raises(InputError, match="need 3"):
        read_video(short, min_frames=3)
