"""The Recurrent Deblur Network: architecture, recurrence, temporal skips and inference helpers."""

import numpy as np
import pytest
from mf_deblur.inference import MULTIPLE, auto_tile, deblur, deblur_steps, recurrence, video_windows

from mfcore import InputError
from mfcore.kit import peak_rss


@pytest.fixture(scope="module")
def net(keras):
    from mf_deblur.network import build_rdn

    keras.utils.set_random_seed(0)
    model = build_rdn(0.125)
    # Give the zero-initialised output layer weights, so the blocks do something measurable.
    last = model.block.u3[-1].conv
    last.kernel.assign(np.random.default_rng(0).normal(0, 0.05, tuple(last.kernel.shape)).astype("float32"))
    return model


def _frames(t, h=32, w=40, seed=0):
    return np.random.default_rng(seed).random((t, h, w, 3)).astype(np.float32)


def test_untrained_block_returns_the_estimate(keras):
    from mf_deblur.network import build_rdn

    model = build_rdn(0.125)
    frames = _frames(3)
    out = keras.ops.convert_to_numpy(model(frames[None]))
    assert out.shape == (1, 2, 32, 40, 3)
    np.testing.assert_allclose(out[0, 0], frames[0], atol=1e-6)


def test_width_multiplier_scales_parameters(keras):
    from mf_deblur.network import build_rdn

    small, large = build_rdn(0.125).count_params(), build_rdn(0.25).count_params()
    assert 3.0 < large / small < 4.2  # convolutions grow with the square of the width


def test_call_and_step_by_step_inference_agree(net, keras):
    frames = _frames(4)
    together = keras.ops.convert_to_numpy(net(frames[None]))[0]
    one_by_one = deblur_steps(net, frames)
    assert one_by_one.shape == (3, 32, 40, 3)
    np.testing.assert_allclose(one_by_one, together, atol=1e-4)


def test_temporal_skips_only_act_from_the_second_step(net, keras):
    frames = _frames(3)
    before = deblur_steps(net, frames)
    blend = net.block.blend[0].conv
    saved = keras.ops.convert_to_numpy(blend.kernel)
    blend.kernel.assign(saved * 3.0 + 0.1)
    try:
        after = deblur_steps(net, frames)
    finally:
        blend.kernel.assign(saved)
    np.testing.assert_allclose(after[0], before[0], atol=1e-6)  # first step: no previous block to blend
    assert np.abs(after[1] - before[1]).max() > 1e-3


def test_recurrence_yields_each_estimate_with_the_skips_the_next_step_blends(net, keras):
    frames = _frames(4)
    steps = list(recurrence(net, frames))
    assert len(steps) == 3
    estimates = np.stack([keras.ops.convert_to_numpy(e)[0] for e, _ in steps])
    np.testing.assert_allclose(estimates, deblur_steps(net, frames), atol=1e-6)
    # the skips of step 1 (with the estimate of step 1) are exactly what step 2 continues from
    estimate, skips = steps[0]
    again, _ = net.step(keras.ops.convert_to_tensor(frames[2:3]), estimate, skips)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(again)[0], estimates[1], atol=1e-6)
    widths = [keras.ops.convert_to_numpy(s).shape for s in skips]
    assert widths == [(1, 4, 5, 32), (1, 8, 10, 16), (1, 16, 20, 8)]  # H/8, H/4, H/2 at width 0.125


def test_any_size_is_padded_and_cropped_back(net):
    frames = _frames(2, 29, 35)
    out = deblur_steps(net, frames)
    assert out.shape == (1, 29, 35, 3)
    padded = np.pad(frames, ((0, 0), (0, 3), (0, 5), (0, 0)), mode="reflect")
    np.testing.assert_allclose(out[0], deblur_steps(net, padded)[0, :29, :35], atol=1e-5)
    assert (29 + 3) % MULTIPLE == 0 and (35 + 5) % MULTIPLE == 0


def test_tiles_blend_without_seams(net):
    """Tiled inference equals the whole-frame result where the receptive field fits the overlap."""
    frames = _frames(2, 96, 120, seed=3)
    whole = deblur_steps(net, frames)
    tiled = deblur_steps(net, frames, tile=64, overlap=24)
    assert tiled.shape == whole.shape
    # the network sees further than the overlap, so tiles differ a little near their borders,
    # but a blended result is much closer to the whole frame than the inputs are to each other
    assert np.abs(tiled - whole).mean() < 0.1 * np.abs(frames[0] - frames[1]).mean()
    with pytest.raises(InputError, match="overlap"):
        deblur_steps(net, frames, tile=64, overlap=40)


def test_deblur_keeps_only_the_last_estimate_and_equals_the_last_step(net):
    frames = _frames(4, 40, 48, seed=4)
    np.testing.assert_allclose(deblur(net, frames), np.clip(deblur_steps(net, frames)[-1], 0, 1), atol=1e-6)


def test_frames_over_the_memory_budget_are_tiled(net):
    """The automatic tile is the largest multiple of 8 whose working set fits, and it is what runs."""
    pixels = 0.01 * 2**30 / (2400 * net.width)
    assert auto_tile(net, 8, 8, 0.001) is None  # fits
    assert auto_tile(net, 1000, 1000, None) is None  # no budget: never tiled
    tile = auto_tile(net, 400, 400, 0.01)
    assert tile % MULTIPLE == 0 and tile**2 <= pixels < (tile + MULTIPLE) ** 2
    assert auto_tile(net, 4000, 4000, 1e-6) == 128  # never below the smallest tile
    frames = _frames(2, 160, 200, seed=3)
    small = float(136**2 * 2400 * net.width / 2**30)  # a budget of exactly a 136-pixel tile
    assert auto_tile(net, 160, 200, small) == 136
    np.testing.assert_array_equal(deblur(net, frames, max_memory_gb=small), deblur(net, frames, tile=136))
    assert not np.array_equal(deblur(net, frames, tile=136), deblur(net, frames, max_memory_gb=None))
    with pytest.raises(InputError, match="positive"):
        deblur(net, frames, max_memory_gb=0)


def test_memory_does_not_grow_with_the_number_of_frames(net):
    """Peak RSS while fusing 12 frames stays within a small margin of fusing 3: no step's activations (or
    autograd graph) outlive it. Without ``inference_mode`` on PyTorch each step here keeps ~15 MB."""
    frames = _frames(12, 256, 256, seed=6)
    deblur(net, frames[:3])  # warm-up: allocator pools, kernels
    with peak_rss() as three:
        deblur(net, frames[:3])
    with peak_rss() as twelve:
        deblur(net, frames)
    assert twelve.growth < three.growth + 24 * 2**20, (three.growth, twelve.growth)


def test_multi_scale_and_colour_options(net):
    frames = _frames(3, 64, 64, seed=5)
    single = deblur(net, frames)
    multi = deblur(net, frames, levels=2)
    assert single.shape == multi.shape == (64, 64, 3)
    assert not np.allclose(single, multi)  # the coarse result joins as an extra observation
    corrected = deblur(net, frames, colour=True)
    for c in range(3):  # histogram matching makes the colour distribution the target frame's
        assert abs(np.sort(corrected[..., c].ravel()).mean() - frames[0, ..., c].mean()) < 0.02


def test_video_windows_are_centre_out_and_stream():
    frames = [np.full((2, 2, 1), i, np.float32) for i in range(6)]
    windows = [w[:, 0, 0, 0].astype(int).tolist() for w in video_windows(iter(frames), 2)]
    assert windows == [[0, 1, 2], [1, 0, 2, 3], [2, 1, 3, 0, 4], [3, 2, 4, 1, 5], [4, 3, 5, 2], [5, 4, 3]]


def test_bad_sequences_are_rejected(net):
    with pytest.raises(ValueError, match="T >= 2"):
        deblur_steps(net, _frames(1))


def test_running_the_network_imports_no_synthesiser():
    """The RDN's loader and inference (and the library names that reach them) stay clear of the training-data
    synthesisers, which import video readers, flow and scene generators a user's run never needs."""
    import subprocess
    import sys

    code = ("import sys\nimport mf_deblur\nfrom mf_deblur import deblur, fba, load_rdn, sharpest_first\n"
            "import mf_deblur.model_io, mf_deblur.inference, mf_deblur.commands\n"
            "loaded = sorted(m for m in sys.modules if m.startswith('mf_deblur.synthesis'))\n"
            "print(loaded)\nsys.exit(1 if loaded else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
