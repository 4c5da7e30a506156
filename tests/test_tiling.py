"""Seamless tiling: tiles blended back equal the whole-image result of any local operation."""

import numpy as np
import pytest
from scipy.ndimage import uniform_filter

from mfcore import InputError
from mfcore.kit import pad_to_multiple, tiled


def test_pointwise_functions_are_reproduced_exactly():
    stack = np.random.default_rng(0).random((2, 70, 95, 3)).astype(np.float32)
    fn = lambda x: np.sqrt(x[:1] + x[1:])  # noqa: E731  (N=2 in, K=1 out)
    np.testing.assert_allclose(tiled(fn, stack, tile=32, overlap=8), fn(stack), atol=1e-6)


def test_local_filters_show_no_seam():
    """A tile's wrong border pixels get almost no weight: far smaller errors than hard-cut tiles."""
    stack = np.random.default_rng(1).random((1, 64, 80, 1)).astype(np.float32)
    fn = lambda x: uniform_filter(x, size=(1, 5, 5, 1), mode="reflect")  # noqa: E731  (reach: 2 px)
    whole = fn(stack)
    blended = np.abs(tiled(fn, stack, tile=32, overlap=12) - whole)
    hard = np.abs(tiled(fn, stack, tile=32, overlap=0) - whole)
    assert blended.max() < 0.1 * hard.max() and blended.mean() < 0.05 * hard.mean()


def test_padding_and_overlap_errors():
    stack = np.random.default_rng(2).random((1, 13, 21, 3))
    padded, h, w = pad_to_multiple(stack, 8)
    assert padded.shape == (1, 16, 24, 3) and (h, w) == (13, 21)
    np.testing.assert_array_equal(padded[:, :13, :21], stack)
    with pytest.raises(InputError, match="overlap 16 must be less than half"):
        tiled(lambda x: x, np.zeros((1, 64, 64, 1)), tile=32, overlap=16)
