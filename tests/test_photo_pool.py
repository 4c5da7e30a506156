"""The shared photo pool: a disjoint train / held-out split, textured patches, the eight views."""

import numpy as np
import pytest

from mfcore import InputError
from mfcore.kit import HELD_OUT_PHOTOS, MIN_GRADIENT, TRAIN_PHOTOS, mean_gradient, textured_patch, write_image


def test_training_and_held_out_photos_are_disjoint():
    assert not set(TRAIN_PHOTOS) & set(HELD_OUT_PHOTOS)


def test_low_gradient_patches_are_rejected(tmp_path):
    flat = np.full((200, 200, 3), 0.5, np.float32)
    textured = np.full((200, 200, 3), 0.5, np.float32)
    textured[60:140, 60:140] = np.random.default_rng(0).random((80, 80, 3))
    write_image(tmp_path / "flat.png", flat)
    write_image(tmp_path / "textured.png", textured)
    rng = np.random.default_rng(1)
    for _ in range(20):
        patch = textured_patch(rng, 48, str(tmp_path))
        assert mean_gradient(patch) >= MIN_GRADIENT


def test_flat_share_keeps_that_share_of_untested_patches(tmp_path):
    write_image(tmp_path / "flat.png", np.full((100, 100, 3), 0.5, np.float32))
    write_image(tmp_path / "noise.png", np.random.default_rng(0).random((100, 100, 3)))
    rng = np.random.default_rng(3)
    flat = [mean_gradient(textured_patch(rng, 48, str(tmp_path), flat_share=0.5)) < MIN_GRADIENT
            for _ in range(400)]
    # Half the draws skip the test, and half of those land on the flat image: 0.25 (std 0.022).
    assert 0.17 < np.mean(flat) < 0.33
    assert all(mean_gradient(textured_patch(rng, 48, str(tmp_path))) >= MIN_GRADIENT for _ in range(50))


def test_patches_are_rotated_and_mirrored_views_of_the_pool(tmp_path):
    image = np.random.default_rng(0).random((32, 32, 3)).astype(np.float32)
    write_image(tmp_path / "a.png", image)
    stored = np.round(image * 255) / 255
    views = {np.rot90(stored, k)[:, ::-1].tobytes() if m else np.rot90(stored, k).tobytes()
             for k in range(4) for m in (0, 1)}
    seen = set()
    rng = np.random.default_rng(2)
    for _ in range(60):
        patch = np.round(textured_patch(rng, 32, str(tmp_path)) * 255) / 255
        assert patch.astype(np.float32).tobytes() in {v for v in views} or patch.tobytes() in views
        seen.add(patch.tobytes())
    assert len(seen) == 8


def test_bad_image_folders_are_clear(tmp_path):
    with pytest.raises(InputError, match="no images"):
        textured_patch(np.random.default_rng(0), 32, str(tmp_path))
    write_image(tmp_path / "tiny.png", np.zeros((8, 8, 3)))
    with pytest.raises(InputError, match="at least 32x32"):
        textured_patch(np.random.default_rng(0), 32, str(tmp_path))
