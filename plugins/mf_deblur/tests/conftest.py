"""Fixtures for the RDN tests: Keras on a backend that is installed here."""

import os

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
