"""The descriptor network: unit descriptors, the triplet loss of eq. 4.2, one weights file for two backends."""

import textwrap

import numpy as np
import pytest

from mfcore.testing import backend_usable, run_keras_script


def test_descriptors_are_unit_length_and_batch_independent(keras):
    from mf_sync.network import build_network, describe

    model = build_network(0.125)
    frames = np.random.default_rng(0).uniform(-1, 1, (5, 64, 96, 3)).astype(np.float32)
    out = describe(model, frames)
    assert out.shape == (5, 128)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(describe(model, frames[2:3]), out[2:3], atol=1e-5)


def test_place_features_match_a_float64_reference(keras):
    from mf_sync.network import PLACE_DIM, _place_projection, place_features

    grid = np.maximum(np.random.default_rng(3).normal(size=(6, 96)), 0)
    root = np.sqrt(grid) / np.linalg.norm(np.sqrt(grid), axis=1, keepdims=True)
    reference = root @ _place_projection(96).astype(np.float64)
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    out = place_features(grid.astype(np.float32))
    assert out.shape == (6, PLACE_DIM) and out.dtype == np.float32
    np.testing.assert_allclose(out, reference, atol=1e-5)
    # the projection is fixed: the same features on every call, machine and backend
    np.testing.assert_array_equal(place_features(grid.astype(np.float32)), out)


def test_place_features_read_the_grid_the_projection_reads(keras):
    from mf_sync.network import PLACE_DIM, build_network, describe_places, grid_network, place_features

    model = build_network(0.125, grid=4)
    frames = np.random.default_rng(4).uniform(-1, 1, (7, 64, 96, 3)).astype(np.float32)
    grids = grid_network(model)
    places = describe_places(grids, frames, batch=3)
    assert places.shape == (7, PLACE_DIM)
    np.testing.assert_allclose(np.linalg.norm(places, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(describe_places(grids, frames[4:5]), places[4:5], atol=1e-5)
    # the grid times the projection's weights is the descriptor before its unit length
    grid = keras.ops.convert_to_numpy(grids(frames, training=False))
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in model.get_layer("projection").weights)
    raw = grid @ kernel + bias
    np.testing.assert_allclose(raw / np.linalg.norm(raw, axis=1, keepdims=True),
                               keras.ops.convert_to_numpy(model(frames, training=False)), atol=1e-4)
    np.testing.assert_allclose(place_features(grid), places, atol=1e-5)


def test_triplet_loss_matches_float64_reference(keras):
    from mf_sync.network import MARGIN, triplet_loss

    rng = np.random.default_rng(1)
    d = rng.normal(size=(12, 8))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    a, p, n = d[:4], d[4:8], d[8:]
    reference = np.mean(np.maximum(0, MARGIN + ((a - p) ** 2).sum(1) - ((a - n) ** 2).sum(1)))
    value = keras.ops.convert_to_numpy(triplet_loss(None, keras.ops.convert_to_tensor(d.astype(np.float32))))
    assert float(value) == pytest.approx(reference, abs=1e-5)


def test_training_steps_pull_positives_closer(keras):
    """A few Adam steps on one fixed triplet batch order it: d(a,p) < d(a,n) for most triplets."""
    from mf_sync.network import build_network, describe, triplet_loss

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    base = rng.uniform(-1, 1, (8, 64, 96, 3)).astype(np.float32)
    anchors, positives = base, np.clip(base + rng.normal(0, 0.05, base.shape), -1, 1).astype(np.float32)
    negatives = rng.uniform(-1, 1, base.shape).astype(np.float32)
    model = build_network(0.125)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=triplet_loss)
    x = np.concatenate([anchors, positives, negatives])
    first = float(np.asarray(model.train_on_batch(x, np.zeros((24, 128), np.float32))))
    for _ in range(30):
        last = float(np.asarray(model.train_on_batch(x, np.zeros((24, 128), np.float32))))
    assert last < first
    a, p, n = describe(model, anchors), describe(model, positives), describe(model, negatives)
    assert np.mean(((a - p) ** 2).sum(1) < ((a - n) ** 2).sum(1)) >= 0.75


SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import keras
    from mf_sync.network import build_network

    weights, frames, out, make = sys.argv[1:5]
    model = build_network(0.125)
    if make == "1":
        rng = np.random.default_rng(1)
        for v in model.weights:  # every weight random and non-trivial, batch-norm statistics included
            shape = tuple(v.shape)
            v.assign((np.abs(rng.normal(1, 0.2, shape)) if "variance" in v.path else rng.normal(0, 0.2, shape))
                     .astype("float32"))
        model.save_weights(weights)
    model.load_weights(weights)
    np.save(out, keras.ops.convert_to_numpy(model(np.load(frames), training=False)))
    print(keras.backend.backend())
""")


@pytest.mark.skipif(not (backend_usable("torch") and backend_usable("tensorflow")),
                    reason="needs both PyTorch and TensorFlow")
def test_same_weights_give_the_same_descriptors_on_torch_and_tensorflow(tmp_path):
    frames = np.random.default_rng(0).uniform(-1, 1, (3, 64, 96, 3)).astype(np.float32)
    np.save(tmp_path / "frames.npy", frames)
    weights = tmp_path / "net.weights.h5"
    outputs = {}
    for i, name in enumerate(("torch", "tensorflow")):
        out = tmp_path / f"out_{i}.npy"
        run_keras_script(SCRIPT, name, weights, tmp_path / "frames.npy", out, 1 - i)
        outputs[i] = np.load(out)
    assert outputs[0].shape == (3, 128) and np.std(outputs[0]) > 1e-2
    np.testing.assert_allclose(outputs[1], outputs[0], atol=1e-4)


def test_grid_of_four_rows_keeps_the_whole_feature_map_and_its_card_loads_it(keras, tmp_path):
    import json

    from mf_sync.model_io import load_descriptor_net
    from mf_sync.network import build_network, describe

    fine, coarse = build_network(0.125, grid=4), build_network(0.125, grid=2)
    assert fine.get_layer("projection").kernel.shape[0] == 4 * coarse.get_layer("projection").kernel.shape[0]
    frames = np.random.default_rng(0).uniform(-1, 1, (2, 64, 96, 3)).astype(np.float32)
    path = tmp_path / "fine.weights.h5"
    fine.save_weights(str(path))
    (tmp_path / "fine.json").write_text(json.dumps({"width": 0.125, "dim": 128, "grid": 4}))
    loaded, card = load_descriptor_net(None, path)
    assert card["grid"] == 4
    np.testing.assert_allclose(describe(loaded, frames), describe(fine, frames), atol=1e-5)
    with pytest.raises(ValueError, match="grid"):
        build_network(0.125, grid=3)
