"""FourierNet (thesis 6.2) against references: numpy.fft for its bands, FBA for its untrained fusion, exact
recombination of its patches, and the same answer for any order and number of frames."""

import numpy as np
import pytest
from mf_deblur.baselines.fba import fba
from mf_deblur.fourier_inference import OUT, PATCH, deconvolve_channel, hann, restore_channel, starts


@pytest.fixture(scope="module")
def net(keras):
    from mf_deblur.fouriernet import build_fouriernet

    keras.utils.set_random_seed(3)
    return build_fouriernet(0.05)


@pytest.fixture(scope="module")
def random_net(keras):
    """A network whose zero-initialised layers are random too, so every stage changes its input."""
    from mf_deblur.fouriernet import build_fouriernet

    keras.utils.set_random_seed(4)
    model = build_fouriernet(0.05)
    rng = np.random.default_rng(4)
    for v in model.weights:
        if "out" in v.path or "filter" in v.path:
            v.assign((np.asarray(v.numpy()) + rng.normal(0, 0.01, tuple(v.shape))).astype("float32"))
    return model


def _numpy(x):
    from keras import ops

    return ops.convert_to_numpy(x).astype(np.float64)


def _centre(x, size):
    start = (x.shape[-1] - size) // 2
    return x[..., start:start + size, start:start + size]


def test_bands_are_the_scaled_dfts_of_centred_crops(keras):
    from mf_deblur.fouriernet import bands

    x = np.random.default_rng(0).random((2, 3, PATCH, PATCH))
    got = [_numpy(b) for b in bands(x.astype(np.float32))]
    for band, size in zip(got[:3], (17, 33, 65)):
        want = np.fft.fft2(_centre(x, size)) / size
        assert band.shape == (2, 3, size * size, 2)
        np.testing.assert_allclose(band[..., 0] + 1j * band[..., 1], want.reshape(2, 3, -1), atol=2e-5)
    low = [0, 1, 2, 3, 4, 61, 62, 63, 64]  # max(|u|, |v|) <= 4 on the 65-point grid
    want = (np.fft.fft2(x) / PATCH)[..., low, :][..., low]
    np.testing.assert_allclose(got[3][..., 0] + 1j * got[3][..., 1], want.reshape(2, 3, -1), atol=2e-5)


@pytest.mark.parametrize("frames,height,width", [(2, OUT, OUT), (5, OUT, OUT), (9, 40, 72)])
def test_learnable_fba_starts_as_fba(keras, frames, height, width):
    """At its initialisation the fusion layer is FBA with p = 11 and FBA's smoothing, on random bursts."""
    from mf_deblur.fouriernet import LearnableFBA

    x = np.random.default_rng(frames).random((3, frames, height, width))
    layer = LearnableFBA()
    got = _numpy(layer(x.astype(np.float32)))
    want = np.stack([fba(burst[..., None], p=11.0)[..., 0] for burst in x])  # float64 reference
    np.testing.assert_allclose(got, want, atol=5e-5)
    assert np.abs(want - x[:, 0]).max() > 0.1  # the fusion is not one of the frames


def test_untrained_network_is_fba_of_the_centre_patches(net):
    x = np.random.default_rng(1).random((2, 4, PATCH, PATCH))
    got = _numpy(net(x.astype(np.float32)))
    want = np.stack([fba(_centre(burst, OUT)[..., None], p=11.0)[..., 0] for burst in x])
    np.testing.assert_allclose(got, want, atol=5e-5)


def test_untrained_network_is_fba_of_the_whole_frames(net):
    """On a whole burst, the untrained network deconvolves nothing and fuses the frames as FBA does."""
    frames = np.random.default_rng(6).random((4, 45, 70)).astype(np.float32)
    want = fba(frames[..., None].astype(np.float64))[..., 0]
    np.testing.assert_allclose(restore_channel(net, frames, stride=16), want, atol=1e-4)


def test_any_order_and_number_of_frames(random_net):
    """The burst is a set: permuting its frames changes nothing, and one network takes 2 to 12 frames."""
    rng = np.random.default_rng(2)
    x = rng.random((2, 6, PATCH, PATCH)).astype(np.float32)
    out = _numpy(random_net(x))
    centre_fba = np.stack([fba(_centre(burst, OUT)[..., None].astype(np.float64))[..., 0] for burst in x])
    assert np.abs(out - centre_fba).max() > 1e-3  # the random weights do change the result
    np.testing.assert_allclose(_numpy(random_net(x[:, rng.permutation(6)])), out, atol=1e-5)
    for frames in (2, 12):
        assert _numpy(random_net(rng.random((1, frames, PATCH, PATCH)).astype(np.float32))).shape == (1, OUT, OUT)


def test_patches_recombine_exactly(keras):
    """A deconvolution that returns each patch's centre gives back every frame, at every stride."""
    from keras import ops

    def centres(x):
        return ops.convert_to_tensor(_centre(ops.convert_to_numpy(x), OUT))

    frames = np.random.default_rng(3).random((3, 50, 77)).astype(np.float32)
    for stride in (1, 8, 33):
        np.testing.assert_allclose(deconvolve_channel(centres, frames, stride, max_memory_gb=0.001), frames,
                                   atol=1e-5)


def test_hann_window_and_patch_positions():
    w = hann()
    assert w.shape == (OUT, OUT) and w.min() > 0 and w[OUT // 2, OUT // 2] == w.max()
    assert starts(100, 8)[-1] == 100 - PATCH and starts(PATCH, 8) == [0]
    assert all(b - a <= 8 for a, b in zip(starts(100, 8), starts(100, 8)[1:]))
