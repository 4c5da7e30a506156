"""Fixtures for the RDN tests: Keras on a backend that is installed here."""

import json
import os

import numpy as np
import pytest

from mfcore.backends import all_backends


def keras_backend_name() -> str | None:
    """The Keras backend this test process uses: the one under test if it drives Keras, else the first installed."""
    preferred = os.environ.get("MF_TEST_BACKEND", "")
    names = [preferred] if preferred in ("torch", "tensorflow") else []
    for name in names + ["torch", "tensorflow"]:
        backend = all_backends().get(name)
        if backend is not None and backend.is_available():
            return backend.keras_backend
    return None


@pytest.fixture(scope="session")
def keras():
    """Keras 3 on torch or tensorflow (set before its first import); skips when neither is installed."""
    name = keras_backend_name()
    if name is None:
        pytest.skip("the RDN needs PyTorch or TensorFlow, neither is installed")
    os.environ["KERAS_BACKEND"] = name
    import keras as keras_module

    assert keras_module.backend.backend() == name, "Keras was imported before its backend was chosen"
    return keras_module


@pytest.fixture(scope="session")
def tiny_weights(keras, tmp_path_factory):
    """A small RDN (width 0.1) with random non-zero output weights, saved with its card: (path, model)."""
    from mf_deblur.rdn import build_rdn

    folder = tmp_path_factory.mktemp("weights")
    keras.utils.set_random_seed(2)
    model = build_rdn(0.1)
    last = model.block.u3[-1].conv
    last.kernel.assign(np.random.default_rng(0).normal(0, 0.02, tuple(last.kernel.shape)).astype("float32"))
    model.save_weights(str(folder / "tiny.weights.h5"))
    (folder / "tiny.json").write_text(json.dumps({"width": 0.1, "preset": "test", "trained_steps": 0}))
    return folder / "tiny.weights.h5", model
