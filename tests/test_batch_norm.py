"""mfcore.kit.batch_norm: exact population statistics (against float64 NumPy) and freezing."""

import numpy as np

from mfcore.kit import batch_norm


def _batches(rng, count):
    # per-channel offsets and scales far from BN's initial (0, 1) statistics
    return [(rng.normal(size=(6, 5, 5, 3)) * [1.0, 3.0, 0.5] + [2.0, -1.0, 4.0]).astype(np.float32)
            for _ in range(count)]


def test_recalibrate_is_the_mean_of_every_calls_batch_statistics(keras):
    """A layer used twice per batch (as the RDN's recurrent block is) averages all 2 x N calls exactly."""
    rng = np.random.default_rng(3)
    shared = keras.layers.BatchNormalization(momentum=0.95, epsilon=1e-3)
    inputs = keras.Input((5, 5, 3))
    model = keras.Model(inputs, shared(shared(inputs) * 2.0 + 1.0))
    batches = _batches(rng, 7)

    calls = batch_norm.recalibrate(model, iter(batches), len(batches))

    means, variances = [], []
    for x in batches:  # float64 reference: the training-mode forward pass, call by call
        x = x.astype(np.float64)
        for _ in range(2):
            mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
            means.append(mean)
            variances.append(var)
            x = (x - mean) / np.sqrt(var + 1e-3) * 2.0 + 1.0
    assert calls == 14
    np.testing.assert_allclose(keras.ops.convert_to_numpy(shared.moving_mean), np.mean(means, axis=0), atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(shared.moving_variance), np.mean(variances, axis=0),
                               rtol=1e-4)
    assert shared.momentum == 0.95 and "call" not in vars(shared)  # restored: the class's own call again


def test_recalibrate_skips_frozen_layers_and_needs_a_batch(keras):
    import pytest

    rng = np.random.default_rng(4)
    frozen, live = keras.layers.BatchNormalization(), keras.layers.BatchNormalization()
    inputs = keras.Input((5, 5, 3))
    model = keras.Model(inputs, live(frozen(inputs)))
    frozen.trainable = False
    batch_norm.recalibrate(model, iter(_batches(rng, 2)), 2)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(frozen.moving_mean), np.zeros(3))
    assert not np.allclose(keras.ops.convert_to_numpy(live.moving_mean), 0.0)
    with pytest.raises(ValueError, match="at least one batch"):
        batch_norm.recalibrate(model, iter([]), 0)


def test_frozen_layers_normalise_with_their_statistics_in_training_too(keras):
    rng = np.random.default_rng(5)
    inputs = keras.Input((5, 5, 3))
    norm = keras.layers.BatchNormalization()
    model = keras.Model(inputs, norm(keras.layers.Conv2D(3, 3, padding="same")(inputs)))
    batch_norm.recalibrate(model, iter(_batches(rng, 3)), 3)
    assert batch_norm.freeze(model) == 1
    x = _batches(rng, 1)[0]
    training, inference = (keras.ops.convert_to_numpy(model(x, training=t)) for t in (True, False))
    np.testing.assert_allclose(training, inference, atol=1e-6)
    assert len(model.trainable_weights) == 2  # the convolution's kernel and bias; gamma and beta are fixed
