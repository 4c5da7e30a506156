"""Fixtures for the network tests (the ``keras`` fixture comes from mfcore.testing)."""

import json

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_weights(keras, tmp_path_factory):
    """A small RDN (width 0.1) with random non-zero output weights, saved with its card: (path, model)."""
    from mf_deblur.network import build_rdn

    folder = tmp_path_factory.mktemp("weights")
    keras.utils.set_random_seed(2)
    model = build_rdn(0.1)
    last = model.block.u3[-1].conv
    last.kernel.assign(np.random.default_rng(0).normal(0, 0.02, tuple(last.kernel.shape)).astype("float32"))
    model.save_weights(str(folder / "tiny.weights.h5"))
    (folder / "tiny.json").write_text(json.dumps({"width": 0.1, "preset": "test", "trained_steps": 0}))
    return folder / "tiny.weights.h5", model


@pytest.fixture(scope="session")
def fourier_weights(keras, tmp_path_factory):
    """A small FourierNet whose filter is random, saved with its card: (path, model)."""
    from mf_deblur.fouriernet import build_fouriernet

    folder = tmp_path_factory.mktemp("fourier")
    keras.utils.set_random_seed(5)
    model = build_fouriernet(0.05)
    kernel = model.filter.kernel
    kernel.assign(np.random.default_rng(5).normal(0, 0.002, tuple(kernel.shape)).astype("float32"))
    model.save_weights(str(folder / "tiny.weights.h5"))
    (folder / "tiny.json").write_text(json.dumps({"width": 0.05, "preset": "test", "trained_steps": 0}))
    return folder / "tiny.weights.h5", model
