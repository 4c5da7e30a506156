"""Gaussian-process camera-shake kernels: the statistics figure 6.3 relies on."""

import numpy as np
import pytest
from mf_deblur.synthesis.kernels import SIZES, blur, gp_kernel, kernel_sheet

from mfcore.kit import crop, photo


@pytest.mark.parametrize("size", SIZES)
def test_kernels_are_normalised_nonnegative_and_energy_centred(size):
    for seed in range(25):
        k = gp_kernel(np.random.default_rng(seed), size).astype(np.float64)
        assert k.shape == (size, size) and (k >= 0).all()
        assert abs(k.sum() - 1) < 1e-5
        ys, xs = np.mgrid[:size, :size]
        assert abs((k * ys).sum() - size // 2) < 0.02 and abs((k * xs).sum() - size // 2) < 0.02
        assert k[0].sum() + k[-1].sum() + k[:, 0].sum() + k[:, -1].sum() < 0.05  # the path stays inside


def test_support_grows_with_size_and_kernels_are_paths_not_blobs():
    def support(k):
        return int((k > 0.02 * k.max()).sum())

    mean_support = {s: np.mean([support(gp_kernel(np.random.default_rng(i), s)) for i in range(40)]) for s in SIZES}
    assert mean_support[7] < mean_support[11] < mean_support[15] < mean_support[17]
    # a trajectory covers a small part of its bounding square, a Gaussian blob fills it
    k = gp_kernel(np.random.default_rng(3), 17)
    rows, cols = np.nonzero(k > 0.02 * k.max())
    box = (np.ptp(rows) + 1) * (np.ptp(cols) + 1)
    assert support(k) < 0.8 * box


def test_kernels_differ_between_draws_and_repeat_with_the_seed():
    a, b = gp_kernel(np.random.default_rng(0), 15), gp_kernel(np.random.default_rng(1), 15)
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(a, gp_kernel(np.random.default_rng(0), 15))


def test_kernel_size_is_checked():
    with pytest.raises(ValueError, match="odd"):
        gp_kernel(np.random.default_rng(0), size=16)


def test_blur_is_a_convolution():
    rng = np.random.default_rng(0)
    image = rng.random((40, 50, 3)).astype(np.float32)
    kernel = gp_kernel(rng, 9)
    out = blur(image, kernel)
    direct = np.zeros_like(image)
    for dy in range(9):
        for dx in range(9):
            direct += kernel[dy, dx] * np.roll(image, (dy - 4, dx - 4), axis=(0, 1))
    np.testing.assert_allclose(out[8:-8, 8:-8], direct[8:-8, 8:-8], atol=1e-5)


def test_blur_keeps_brightness_and_does_not_shift_the_image():
    image = crop(photo("coffee"), 128)
    kernel = gp_kernel(np.random.default_rng(3), 17)
    out = blur(image, kernel)
    assert abs(out.mean() - image.mean()) < 5e-3
    assert out.std() < image.std()
    # a point light stays where it was on average: the energy centroid of its blur is the point
    dot = np.zeros((41, 41), np.float32)
    dot[20, 17] = 1.0
    spread = blur(dot, kernel).astype(np.float64)
    ys, xs = np.mgrid[:41, :41]
    assert (spread * ys).sum() / spread.sum() == pytest.approx(20, abs=0.02)
    assert (spread * xs).sum() / spread.sum() == pytest.approx(17, abs=0.02)


def test_kernel_sheet_tiles_every_kernel():
    kernels = [gp_kernel(np.random.default_rng(i), 11) for i in range(10)]
    sheet = kernel_sheet(kernels, columns=4, cell=20)
    assert sheet.shape == (3 * 22 + 2, 4 * 22 + 2)
    assert sheet.max() == pytest.approx(1.0)
    assert sheet[2:22, 2:22].max() == pytest.approx(1.0) and sheet[2 + 2 * 22:, 2 + 2 * 22:].max() == 0.0
