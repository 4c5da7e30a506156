"""Fixtures for the reflect tests (the ``keras`` fixture comes from mfcore.testing)."""

import json

import numpy as np
import pytest
from mf_reflect.prior import PRIOR
from mf_reflect.synthesis import reflection_sample

from mfcore.kit import write_image


@pytest.fixture(scope="session")
def tiny_reflect_weights(keras, tmp_path_factory):
    """A narrow network (width 0.125) with random weights, saved with its card: (path, model)."""
    from mf_reflect.network import build_network

    folder = tmp_path_factory.mktemp("reflect_weights")
    keras.utils.set_random_seed(3)
    model = build_network(np.radians([0.0, 45.0, 90.0]), 0.125, size=16)
    rng = np.random.default_rng(0)
    for v in model.weights:
        if "kernel" in v.path:
            v.assign(rng.normal(0, 0.1, tuple(v.shape)).astype("float32"))
    model.save_weights(str(folder / "tiny.weights.h5"))
    (folder / "tiny.json").write_text(json.dumps({"width": 0.125, "angles_degrees": [0.0, 45.0, 90.0],
                                                  "preset": "test", "trained_steps": 0, "channels": 1,
                                                  "prior": PRIOR}))
    return folder / "tiny.weights.h5", model


@pytest.fixture(scope="session")
def triple(tmp_path_factory):
    """A synthetic capture written as linear 16-bit PNGs at 0/45/90°: (files, sample)."""
    folder = tmp_path_factory.mktemp("triple")
    sample = reflection_sample(np.random.default_rng(11), size=40, images="held-out", sensor_model=False)
    peak = float(sample["observations"].max())  # normalised exposure may exceed 1: the files must not clip
    files = [write_image(folder / f"pol_{a:03d}.png", obs / peak, bits=16) for a, obs in zip((0, 45, 90),
                                                                                            sample["observations"])]
    return files, sample
