"""The independent burst synthesiser: validation only, its own code, the stated physics."""

import ast
from pathlib import Path

import numpy as np
from mf_deblur import independent
from mf_deblur.independent import independent_burst, linear_to_srgb, srgb_to_linear, trajectory_kernel


def test_it_shares_no_code_with_the_training_generator():
    tree = ast.parse(Path(independent.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "typing", "mfcore.kit"}, imported


def test_srgb_curves_are_inverse():
    x = np.linspace(0, 1, 1001)
    np.testing.assert_allclose(linear_to_srgb(srgb_to_linear(x)), x, atol=1e-12)


def test_kernels_are_paths_of_the_requested_extent_centred_and_normalised():
    rng = np.random.default_rng(0)
    for extent in (1.0, 6.0, 15.0):
        kernel = trajectory_kernel(rng, extent)
        assert kernel.min() >= 0 and abs(kernel.sum() - 1) < 1e-9
        ys, xs = np.nonzero(kernel > 1e-4)
        assert max(np.ptp(ys), np.ptp(xs)) <= extent + 2
        cy, cx = (kernel * np.mgrid[:19, :19]).sum(axis=(1, 2))
        assert abs(cy - 9) < 1.5 and abs(cx - 9) < 1.5
    assert (trajectory_kernel(rng, 15.0) > 1e-4).sum() > 15  # a path, not a dot


def test_bursts_are_blurred_noisy_8_bit_versions_of_the_truth():
    rng = np.random.default_rng(1)
    burst = independent_burst(rng, size=64, frames=4)
    sharp, frames = burst["sharp"], burst["blurred"]
    assert sharp.shape == (64, 64, 3) and frames.shape == (4, 64, 64, 3)
    np.testing.assert_allclose(frames * 255, np.round(frames * 255), atol=1e-3)
    assert 0 <= frames.min() and frames.max() <= 1 and 0 <= sharp.min() and sharp.max() <= 1
    errors = [np.abs(f - sharp).mean() for f in frames]
    assert 0.002 < min(errors) and max(errors) < 0.2
