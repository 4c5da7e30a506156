"""One ``.weights.h5``, two Keras backends: PyTorch and TensorFlow must compute the same deblurring, for the RDN and
for FourierNet."""

import textwrap

import numpy as np
import pytest

from mfcore.testing import backend_usable, run_keras_script

RDN_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import keras
    from mf_deblur.inference import deblur_steps
    from mf_deblur.network import build_rdn

    weights, frames, out, make = sys.argv[1:5]
    model = build_rdn(0.125)
    if make == "1":
        keras.utils.set_random_seed(1)
        rng = np.random.default_rng(1)
        for v in model.weights:  # every weight, BN statistics included, random and non-trivial
            shape = tuple(v.shape)
            value = rng.normal(0, 0.1, shape) if "variance" not in v.path else rng.uniform(0.5, 1.5, shape)
            v.assign(value.astype("float32"))
        model.save_weights(weights)
    model.load_weights(weights)
    np.save(out, deblur_steps(model, np.load(frames)))
    print(keras.backend.backend())
""")


FOURIER_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import keras
    from mf_deblur.fourier_inference import restore_channel
    from mf_deblur.fouriernet import build_fouriernet

    weights, frames, out, make = sys.argv[1:5]
    keras.utils.set_random_seed(1)
    model = build_fouriernet(0.05)
    if make == "1":
        rng = np.random.default_rng(1)
        for v in model.weights:  # every weight random and non-trivial, the zero-initialised ones too
            scale = 1.0 if v.path.endswith("p") else 0.002 if "filter" in v.path else 0.05
            v.assign((np.asarray(v.numpy()) + rng.normal(0, scale, tuple(v.shape))).astype("float32"))
        model.save_weights(weights)
    model.load_weights(weights)
    np.save(out, restore_channel(model, np.load(frames), stride=16))
    print(keras.backend.backend())
""")


BOTH = pytest.mark.skipif(not (backend_usable("torch") and backend_usable("tensorflow")),
                          reason="needs both PyTorch and TensorFlow")


def _torch_tensorflow_torch(script, tmp_path, frames, weights_name):
    """The script's outputs on torch (making random weights), tensorflow and torch again (loading them)."""
    np.save(tmp_path / "frames.npy", frames)
    weights = tmp_path / weights_name
    outputs = []
    for i, name in enumerate(("torch", "tensorflow", "torch")):
        out = tmp_path / f"out_{i}.npy"
        run_keras_script(script, name, weights, tmp_path / "frames.npy", out, "1" if i == 0 else "0")
        outputs.append(np.load(out))
    return outputs


@BOTH
def test_same_rdn_weights_give_the_same_output_on_torch_and_tensorflow(tmp_path):
    frames = np.random.default_rng(0).random((4, 40, 48, 3)).astype(np.float32)
    outputs = _torch_tensorflow_torch(RDN_SCRIPT, tmp_path, frames, "rdn.weights.h5")
    assert outputs[0].shape == (3, 40, 48, 3)
    assert np.abs(outputs[0] - frames[0]).mean() > 1e-2  # the random weights really change the image
    np.testing.assert_allclose(outputs[1], outputs[0], atol=1e-4)
    np.testing.assert_allclose(outputs[2], outputs[0], atol=1e-6)  # and the file round-trips on torch


@BOTH
def test_same_fouriernet_weights_give_the_same_output_on_torch_and_tensorflow(tmp_path):
    from mf_deblur.baselines.fba import fba

    frames = np.random.default_rng(0).random((3, 40, 56)).astype(np.float32)
    outputs = _torch_tensorflow_torch(FOURIER_SCRIPT, tmp_path, frames, "fouriernet.weights.h5")
    assert outputs[0].shape == (40, 56)
    assert np.abs(outputs[0] - fba(frames[..., None])[..., 0]).mean() > 2e-3  # the random weights change the result
    np.testing.assert_allclose(outputs[1], outputs[0], atol=1e-4)
    np.testing.assert_allclose(outputs[2], outputs[0], atol=1e-6)  # and the file round-trips on torch
