"""Image files: 8- and 16-bit round trips, and one-line errors for formats that cannot hold 16 bits."""

import numpy as np
import pytest

from mfcore.errors import InputError
from mfcore.images import read_image, write_image


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
