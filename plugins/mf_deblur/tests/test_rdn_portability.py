"""One ``.weights.h5``, two Keras backends: PyTorch and TensorFlow must compute the same deblurring."""

import textwrap

import numpy as np
import pytest

from mfcore.testing import backend_usable, run_keras_script

SCRIPT = textwrap.dedent("""
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


@pytest.mark.skipif(not (backend_usable("torch") and backend_usable("tensorflow")), reason="needs both PyTorch and TensorFlow")
def test_same_weights_give_the_same_output_on_torch_and_tensorflow(tmp_path):
    frames = np.random.default_rng(0).random((4, 40, 48, 3)).astype(np.float32)
    np.save(tmp_path / "frames.npy", frames)
    weights = tmp_path / "rdn.weights.h5"
    outputs = {}
    for i, name in enumerate(("torch", "tensorflow", "torch")):
        out = tmp_path / f"out_{i}.npy"
        run_keras_script(SCRIPT, name, weights, tmp_path / "frames.npy", out, "1" if i == 0 else "0")
        outputs[i] = np.load(out)
    assert outputs[0].shape == (3, 40, 48, 3)
    assert np.abs(outputs[0] - frames[0]).mean() > 1e-2  # the random weights really change the image
    np.testing.assert_allclose(outputs[1], outputs[0], atol=1e-4)
    np.testing.assert_allclose(outputs[2], outputs[0], atol=1e-6)  # and the file round-trips on torch
