"""Picture sheets (figure 5.11): cells where they belong, gamma-encoded, empty cells white."""

import numpy as np
from mf_reflect.sheet import GAP, VIEW_GAMMA, sample_sheet, tile, training_samples


def test_tile_places_gamma_encoded_cells_and_white_gaps():
    rng = np.random.default_rng(0)
    a, b, c = (rng.uniform(0, 1, (6, 5, 3)).astype(np.float32) for _ in range(3))
    out = tile([[a, b], [None, c]])
    assert out.shape == (2 * 6 + GAP, 2 * 5 + GAP, 3)
    np.testing.assert_allclose(out[:6, :5], a ** (1 / VIEW_GAMMA), rtol=1e-6)
    np.testing.assert_allclose(out[:6, 5 + GAP:], b ** (1 / VIEW_GAMMA), rtol=1e-6)
    np.testing.assert_allclose(out[6 + GAP:, 5 + GAP:], c ** (1 / VIEW_GAMMA), rtol=1e-6)
    assert (out[6 + GAP:, :5] == 1).all() and (out[6:6 + GAP] == 1).all() and (out[:, 5:5 + GAP] == 1).all()


def test_short_rows_are_padded_and_out_of_range_values_clipped():
    cell = np.full((4, 4, 3), 2.0, np.float32)
    out = tile([[cell, cell, cell], [cell]])
    assert out.shape == (2 * 4 + GAP, 3 * 4 + 2 * GAP, 3)
    assert out.max() == 1.0 and (out[4 + GAP:, 4:] == 1).all()


def test_sample_sheet_rows_show_observations_then_true_layers():
    samples = training_samples(seed=5, count=2, size=32, nrd=0.0, lcg=False)
    out = sample_sheet(samples)
    assert out.shape == (2 * 32 + GAP, 5 * 32 + 4 * GAP, 3)
    second = samples[1]
    x_t = 3 * (32 + GAP)
    np.testing.assert_allclose(out[32 + GAP:, x_t:x_t + 32],
                               np.clip(second["transmission"], 0, 1) ** (1 / VIEW_GAMMA), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[:32, :32], np.clip(samples[0]["observations"][0], 0, 1) ** (1 / VIEW_GAMMA),
                               rtol=1e-5, atol=1e-6)
    again = training_samples(seed=5, count=2, size=32, nrd=0.0, lcg=False)
    np.testing.assert_array_equal(again[0]["reflection"], samples[0]["reflection"])
