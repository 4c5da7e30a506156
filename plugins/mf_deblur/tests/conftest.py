"""Fixtures for the RDN tests (the ``keras`` fixture comes from mfcore.testing)."""

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
