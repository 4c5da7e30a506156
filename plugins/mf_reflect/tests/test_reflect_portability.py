"""One ``.weights.h5``, two Keras backends: PyTorch and TensorFlow must separate alike."""

import textwrap

import numpy as np
import pytest

from mfcore.testing import backend_usable, run_keras_script

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import keras
    from mf_reflect.network import build_network

    weights, images, out, make = sys.argv[1:5]
    model = build_network(np.radians([0.0, 45.0, 90.0]), 0.125, size=16)
    if make == "1":
        rng = np.random.default_rng(1)
        for v in model.weights:  # every weight random and non-trivial
            v.assign(rng.normal(0, 0.2, tuple(v.shape)).astype("float32"))
        model.save_weights(weights)
    model.load_weights(weights)
    np.save(out, keras.ops.convert_to_numpy(model(np.load(images))))
    print(keras.backend.backend())
""")


@pytest.mark.skipif(not (backend_usable("torch") and backend_usable("tensorflow")), reason="needs both PyTorch and TensorFlow")
def test_same_weights_give_the_same_separation_on_torch_and_tensorflow(tmp_path):
    images = np.random.default_rng(0).random((2, 5, 32, 40, 1)).astype(np.float32)  # 3 angles, then the prior
    np.save(tmp_path / "images.npy", images)
    weights = tmp_path / "net.weights.h5"
    outputs = {}
    for i, name in enumerate(("torch", "tensorflow")):
        out = tmp_path / f"out_{i}.npy"
        run_keras_script(SCRIPT, name, weights, tmp_path / "images.npy", out, 1 - i)
        outputs[i] = np.load(out)
    assert outputs[0].shape == (2, 2, 32, 40, 1)
    assert outputs[0].std() > 1e-2  # the random weights make a non-trivial output
    np.testing.assert_allclose(outputs[1], outputs[0], atol=1e-4)
