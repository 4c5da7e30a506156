"""Training augmentation: changes of look keep the image's layout; mount changes move content a bounded amount."""

import numpy as np

from mf_sync.augment import MAX_ROLL_DEGREES, MAX_SHIFT, augment, light, mount


def test_light_changes_colour_but_keeps_the_layout_and_range():
    rng = np.random.default_rng(0)
    images = rng.random((8, 16, 24, 3)).astype(np.float32)
    out = light(images, rng)
    assert out.shape == images.shape and out.dtype == np.float32 and out.min() >= 0 and out.max() <= 1
    assert np.abs(out - images).mean() > 0.02
    for image, changed in zip(images, out):  # still the same picture: brightness order is mostly kept
        assert np.corrcoef(image.mean(axis=2).ravel(), changed.mean(axis=2).ravel())[0, 1] > 0.7


def test_mount_moves_a_point_by_at_most_the_documented_shift_and_roll():
    rng = np.random.default_rng(1)
    height, width = 64, 96
    for _ in range(50):
        image = np.zeros((height, width, 3), np.float32)
        y, x = rng.integers(16, 48), rng.integers(24, 72)
        image[y - 1:y + 2, x - 1:x + 2] = 1.0
        moved = mount(image, rng)[..., 0]
        cy, cx = np.unravel_index(np.argmax(moved), moved.shape)
        # Shift plus roll about the centre, plus a pixel of interpolation.
        radius = np.hypot(y - height / 2, x - width / 2)
        bound = MAX_SHIFT * width + np.radians(MAX_ROLL_DEGREES) * radius + 1.5
        assert np.hypot(cy - y, cx - x) <= bound


def test_augment_draws_each_image_on_its_own_and_stays_in_range():
    rng = np.random.default_rng(2)
    image = rng.random((1, 64, 96, 3)).astype(np.float32)
    out = augment(np.repeat(image, 6, axis=0), rng)
    assert out.shape == (6, 64, 96, 3) and out.min() >= 0 and out.max() <= 1
    assert min(np.abs(out[i] - out[j]).mean() for i in range(6) for j in range(i + 1, 6)) > 1e-3
