import cv2
import numpy as np
import pytest
from mf_deblur.align import align_to_first

from mfcore import InputError
from mfcore.kit import crop, photo


def moved_burst() -> np.ndarray:
    """Frame 0 plus three copies under known small rotations and shifts."""
    image = crop(photo("astronaut"), 256)
    frames = [image]
    for angle, tx, ty in ((1.5, 4.0, -3.0), (-2.0, -5.5, 2.0), (0.7, 2.5, 6.0)):
        m = cv2.getRotationMatrix2D((128, 128), angle, 1.0)
        m[:, 2] += (tx, ty)
        frames.append(cv2.warpAffine(image, m, (256, 256), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    return np.stack(frames)


@pytest.mark.parametrize("method", ["ecc", "features"])
def test_alignment_undoes_known_motion(method):
    frames = moved_burst()
    aligned = align_to_first(frames, method)
    inner = np.s_[24:-24, 24:-24]
    for before, after in zip(frames[1:], aligned[1:]):
        error_before = np.abs(before[inner] - frames[0][inner]).mean()
        error_after = np.abs(after[inner] - frames[0][inner]).mean()
        assert error_after < 0.15 * error_before, (error_before, error_after)


def test_none_leaves_frames_untouched():
    frames = moved_burst()
    assert align_to_first(frames, "none") is frames


def test_featureless_frames_give_a_clear_error():
    frames = np.zeros((2, 64, 64, 3), np.float32)
    with pytest.raises(InputError, match="could not align frame 1 to frame 0 with features"):
        align_to_first(frames, "features")


def test_a_frame_that_does_not_register_stays_as_it_is_unless_strict():
    frames = moved_burst()
    flat = np.full_like(frames[0], 0.5)  # nothing to register
    mixed = np.concatenate([frames, flat[None]])
    with pytest.raises(InputError, match="could not align frame 4 to frame 0 with features"):
        align_to_first(mixed, "features")
    aligned = align_to_first(mixed, "features", strict=False)
    np.testing.assert_array_equal(aligned[4], flat)
    np.testing.assert_allclose(aligned[:4], align_to_first(frames, "features"), atol=1e-6)
