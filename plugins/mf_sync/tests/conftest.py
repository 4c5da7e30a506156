"""Shared fixtures of the sync tests: simulated descriptors, a tiny rendered drive set, tiny network weights."""

import json

import numpy as np
import pytest
from mf_sync.simulated import PlaceDescriptors

from mfcore.testing import run_mf


@pytest.fixture
def places():
    return PlaceDescriptors()


@pytest.fixture(scope="session")
def tiny_drives(tmp_path_factory):
    """Two routes, two drives each, 96x64 px at 10 fps (about 20-40 s per drive)."""
    folder = tmp_path_factory.mktemp("drives")
    result = run_mf("synth", "sync", "-o", folder, "--routes", "2", "--drives", "2", "--length", "300", "--size",
                    "96x64", "--fps", "10", "--pool", "held-out", "--detours", "0", "--seed", "1")
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture(scope="session")
def tiny_sync_weights(keras, tmp_path_factory):
    """A width-0.125 descriptor network with random weights, saved with its card."""
    from mf_sync.network import build_network

    folder = tmp_path_factory.mktemp("sync_weights")
    keras.utils.set_random_seed(5)
    model = build_network(0.125)
    path = folder / "tiny.weights.h5"
    model.save_weights(str(path))
    (folder / "tiny.json").write_text(json.dumps({"width": 0.125, "dim": 128, "preset": "test"}))
    return path


@pytest.fixture(scope="session")
def noise_video(tmp_path_factory):
    """A video of independent random frames: it shows no place at all."""
    from mfcore.kit import write_video

    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("noise") / "noise.mp4"
    write_video(path, (rng.random((64, 96, 3)).astype(np.float32) for _ in range(200)), fps=10)
    return path
