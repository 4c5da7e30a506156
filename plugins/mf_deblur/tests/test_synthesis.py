"""Training-data synthesis: textured patches, static bursts, scenes, flow-interpolated motion blur."""

import numpy as np
import pytest
from mf_deblur.order import centre_out
from mf_deblur.synthesis.burst import static_sample, synthesize_burst
from mf_deblur.synthesis.dynamic import dynamic_sample
from mf_deblur.synthesis.kernels import blur
from mf_deblur.synthesis.motion_blur import Interpolator, blur_from_video
from mf_deblur.synthesis.scene import Scene, random_scene

from mfcore import InputError
from mfcore.kit import crop, photo, psnr


def test_burst_frames_are_the_kernels_applied_plus_noise_of_the_given_level():
    sharp = crop(photo("astronaut"), 64)
    a, ka = synthesize_burst(sharp, np.random.default_rng(5), frames=4, sizes=(11,), noise=0.05)
    b, _ = synthesize_burst(sharp, np.random.default_rng(5), frames=4, sizes=(11,), noise=0.05)
    assert a.shape == (4, 64, 64, 3) and a.dtype == np.float32 and ka[0].shape == (11, 11)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[0], a[1])
    clean = blur(sharp, ka[0])
    inner = (a[0] - clean)[np.abs(clean - 0.5) < 0.4]  # away from the clipping at 0 and 1
    assert abs(inner.std() - 0.05) < 0.005


def test_static_sample_noise_range_and_shapes():
    sample = static_sample(np.random.default_rng(0), size=32, frames=3, sizes=(7,), noise=0.0)
    assert sample["sharp"].shape == (32, 32, 3) and sample["blurred"].shape == (3, 32, 32, 3)
    assert sample["blurred"].dtype == np.float32


def test_scene_is_continuous_in_time_and_moves():
    scene = random_scene(np.random.default_rng(4), 64, 80, max_speed=6.0)
    a, mid, b = scene.render(0.0), scene.render(0.5), scene.render(1.0)
    assert a.shape == (64, 80, 3)
    assert psnr(a, scene.render(0.01)) > psnr(a, mid) > psnr(a, b)
    np.testing.assert_array_equal(scene.clip(3)[1], b)


def _panning_scene(speed: float) -> Scene:
    """A textured photo panned at ``speed`` px/frame, with one object moving the other way."""
    scene = random_scene(np.random.default_rng(7), 96, 96, max_speed=1.0, objects=1)
    return Scene(np.ascontiguousarray(crop(photo("astronaut"), 400)), 96, 96, np.array([speed, 0.0]),
                 np.zeros(2), 0.0, 0.0, scene.sprites)


def test_flow_interpolation_recovers_the_exact_intermediate_frames():
    scene = _panning_scene(4.0)
    interpolator = Interpolator(scene.render(0), scene.render(1))
    for tau in (0.25, 0.5, 0.75):
        exact = scene.render(tau)
        flow = psnr(exact, interpolator.at(tau))
        crossfade = psnr(exact, (1 - tau) * scene.render(0) + tau * scene.render(1))
        assert flow > crossfade + 3.0 and flow > 27.0
    np.testing.assert_array_equal(interpolator.at(0.0), scene.render(0))


def test_eq_6_12_matches_the_exposure_rendered_exactly():
    scene = _panning_scene(3.0)
    clip = scene.clip(3)
    for exposure in (20, 40):
        blurred = blur_from_video(clip, exposure=exposure, subframes=40)[0]
        times = [1.0] + [1.0 + s * l / 40 for l in range(1, exposure + 1) for s in (-1, 1)]
        exact = np.mean([scene.render(t) for t in times], axis=0)
        assert psnr(exact, blurred) > 30.0
        assert psnr(exact, blurred) > psnr(exact, clip[1]) + 3.0  # the blur is really there


def test_eq_6_12_leaves_a_still_video_unchanged():
    frame = crop(photo("coffee"), 48)
    blurred = blur_from_video(np.stack([frame] * 4), exposure=20)
    assert blurred.shape == (2, 48, 48, 3)
    error = np.abs(blurred - np.stack([frame] * 2))
    assert error.mean() < 2e-3 and np.percentile(error, 99) < 0.02  # Farnebäck finds (almost) no flow


def test_eq_6_12_argument_checks():
    with pytest.raises(ValueError, match="at least 3"):
        blur_from_video(np.zeros((2, 8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="exposure"):
        blur_from_video(np.zeros((3, 8, 8, 3), np.float32), exposure=41)


def test_centre_out_order():
    assert centre_out(5, 2) == [2, 1, 3, 0, 4]
    assert centre_out(3, 0) == [0, 1, 2]
    assert centre_out(4, 3) == [3, 2, 1, 0]


def test_dynamic_sample_from_scenes_and_from_user_videos(tmp_path):
    sample = dynamic_sample(np.random.default_rng(0), size=48, frames=5)
    assert sample["sharp"].shape == (48, 48, 3) and sample["blurred"].shape == (5, 48, 48, 3)
    # the target's own blurred frame comes first: it is closer to the target than the farthest neighbour
    errors = [np.mean((b - sample["sharp"]) ** 2) for b in sample["blurred"]]
    assert errors[0] <= max(errors)

    from mfcore.kit import write_video

    scene = random_scene(np.random.default_rng(3), 80, 96, max_speed=3.0)
    write_video(tmp_path / "drive.mp4", scene.clip(12), fps=30)
    sample = dynamic_sample(np.random.default_rng(1), size=48, frames=3, videos=str(tmp_path))
    assert sample["sharp"].shape == (48, 48, 3) and sample["blurred"].shape == (3, 48, 48, 3)
    with pytest.raises(InputError, match="no video has the 22 frames"):
        dynamic_sample(np.random.default_rng(1), size=48, frames=20, videos=str(tmp_path))
