"""Image files: 8- and 16-bit round trips, one-line errors for formats that cannot hold 16 bits, and hostile files."""

import cv2
import numpy as np
import pytest

from mfcore import InputError
from mfcore.kit import read_image, write_image


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_files_keep_linear_dark_tones(tmp_path, suffix):
    image = (np.random.default_rng(0).random((9, 7, 3)) * 0.01).astype(np.float32)  # deep shadows
    back = read_image(write_image(tmp_path / f"x{suffix}", image, bits=16))
    np.testing.assert_allclose(back, image, atol=0.5 / 65535 + 1e-7)
    eight = read_image(write_image(tmp_path / f"y{suffix}", image))
    assert len(np.unique(eight)) < len(np.unique(back))  # 8 bits lose most of those tones


def test_sixteen_bits_need_png_or_tiff(tmp_path):
    with pytest.raises(InputError, match="16-bit output needs"):
        write_image(tmp_path / "x.jpg", np.zeros((4, 4, 3)), bits=16)
    assert not (tmp_path / "x.jpg").exists()


def _png_declaring(path, width, height):
    """A valid PNG header declaring ``width`` x ``height`` grey pixels, with only a few rows of data."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compress(b"\x00" * (1 + width) * 8, 9)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("side", [20000, 50000])
def test_a_decompression_bomb_is_refused_before_decoding(tmp_path, side):
    bomb = _png_declaring(tmp_path / "bomb.png", side, side)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(InputError, match=f"declares {side}x{side} pixels, more than the budget of 268435456"):
        read_image(bomb)


def test_the_pixel_budget_is_settable(tmp_path, monkeypatch):
    path = tmp_path / "small.png"
    write_image(path, np.zeros((10, 20, 3), np.float32))
    monkeypatch.setenv("MF_MAX_PIXELS", "199")
    with pytest.raises(InputError, match="declares 20x10 pixels, more than the budget of 199"):
        read_image(path)
    monkeypatch.setenv("MF_MAX_PIXELS", "200")
    assert read_image(path).shape == (10, 20, 3)
    monkeypatch.setenv("MF_MAX_PIXELS", "lots")
    with pytest.raises(InputError, match="MF_MAX_PIXELS='lots'"):
        read_image(path)


def test_a_decoder_error_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("MF_MAX_PIXELS", str(10**10))  # past mf's budget: OpenCV's own limit speaks
    with pytest.raises(InputError, match="bomb.png: not a readable image"):
        read_image(_png_declaring(tmp_path / "bomb.png", 50000, 50000))


def test_non_finite_pixels_are_refused(tmp_path):
    path = tmp_path / "nan.tiff"
    pixels = np.zeros((8, 8), np.float32)
    pixels[3, 4] = np.nan
    assert cv2.imwrite(str(path), pixels)
    with pytest.raises(InputError, match="nan.tiff: has NaN or infinite pixels"):
        read_image(path)
