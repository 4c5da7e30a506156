import numpy as np
import pytest

from mfcore.sample_images import crop, photo
from mf_deblur.burst import burst_sample, synthesize_burst
from mf_deblur.kernels import blur, random_walk_kernel


@pytest.mark.parametrize("seed", range(20))
def test_kernels_are_normalised_nonnegative_and_centred(seed):
    k = random_walk_kernel(np.random.default_rng(seed), size=17).astype(np.float64)
    assert k.shape == (17, 17) and (k >= 0).all()
    assert abs(k.sum() - 1) < 1e-6
    ys, xs = np.mgrid[:17, :17]
    assert abs((k * ys).sum() - 8) < 1e-4 and abs((k * xs).sum() - 8) < 1e-4
    assert (k > 0).sum() > 4  # a trajectory, not a delta


def test_kernel_size_is_checked():
    with pytest.raises(ValueError, match="odd"):
        random_walk_kernel(np.random.default_rng(0), size=16)


def test_blur_is_a_convolution():
    rng = np.random.default_rng(0)
    image = rng.random((40, 50, 3)).astype(np.float32)
    kernel = random_walk_kernel(rng, 9)
    out = blur(image, kernel)
    # direct sum over the kernel taps, interior pixels (no border effects)
    direct = np.zeros_like(image)
    for dy in range(9):
        for dx in range(9):
            direct += kernel[dy, dx] * np.roll(image, (dy - 4, dx - 4), axis=(0, 1))
    np.testing.assert_allclose(out[8:-8, 8:-8], direct[8:-8, 8:-8], atol=1e-5)


def test_blur_preserves_mean_brightness():
    image = crop(photo("coffee"), 128)
    out = blur(image, random_walk_kernel(np.random.default_rng(3), 17))
    assert abs(out.mean() - image.mean()) < 5e-3
    assert out.std() < image.std()  # and it does blur


def test_burst_shapes_noise_and_determinism():
    sharp = crop(photo("astronaut"), 64)
    a, ka = synthesize_burst(sharp, np.random.default_rng(5), frames=4, kernel_size=11, noise=0.05)
    b, kb = synthesize_burst(sharp, np.random.default_rng(5), frames=4, kernel_size=11, noise=0.05)
    assert a.shape == (4, 64, 64, 3) and a.dtype == np.float32 and ka.shape == (4, 11, 11)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[0], a[1])
    residual = a[0] - blur(sharp, ka[0])
    inner = residual[np.abs(blur(sharp, ka[0]) - 0.5) < 0.4]  # away from the clipping at 0 and 1
    assert abs(inner.std() - 0.05) < 0.005


def test_synthesizer_sample():
    sample = burst_sample(np.random.default_rng(0), size=32, frames=3, kernel_size=7)
    assert sample["sharp"].shape == (32, 32, 3)
    assert sample["blurred"].shape == (3, 32, 32, 3)
    assert sample["kernels"].shape == (3, 7, 7)
