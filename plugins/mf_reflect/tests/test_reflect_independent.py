"""The independent validation synthesiser: its own physics agrees with mf's, and it shares no code path."""

import ast
from pathlib import Path

import numpy as np
import pytest
from mf_reflect import independent
from mf_reflect.evaluation import layer_polarisation, per_capture_losses, real_frames, reference_correlation
from mf_reflect.formation import observable_layers, polarised_images
from mf_reflect.fresnel import pane_reflectance
from mf_reflect.independent import exact_separation, expose, fresnel_power, measure, pane, scene_pair, si_psnr


def test_stokes_rendering_agrees_with_the_training_generators_eq_5_2():
    """Two implementations of the same physics (Mueller/Stokes here, α-mixing there) give the same images."""
    rng = np.random.default_rng(0)
    reflected, transmitted = rng.random((2, 12, 16, 3))
    theta, psi = rng.uniform(0.05, 1.4, (12, 16)), rng.uniform(-np.pi / 2, np.pi / 2, (12, 16))
    for n in (1.47, 1.5, 1.56):
        rs, rp = (pane(r) for r in fresnel_power(np.cos(theta), n))
        want_s, want_p = pane_reflectance(theta, n)
        np.testing.assert_allclose(rs, want_s, atol=1e-12)
        np.testing.assert_allclose(rp, want_p, atol=1e-12)
        got = measure(reflected, transmitted, rs[..., None], rp[..., None], psi[..., None], (0.0, 30.0, 45.0, 90.0))
        want = polarised_images(reflected, transmitted, theta, psi, tuple(np.radians([0.0, 30.0, 45.0, 90.0])), n)
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_it_shares_no_code_with_the_training_generator():
    tree = ast.parse(Path(independent.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "typing", "mfcore.kit"}, imported


def test_captures_have_the_stated_geometry_brightness_and_sensor():
    rng = np.random.default_rng(1)
    for _ in range(3):
        pair = scene_pair(rng, 48, 64)
        low, high = pair["aoi_range_degrees"]
        assert 5 < high - low < 45  # a lens's view of one pane, not a constant angle
        ratio = pair["reflection"].mean() / pair["transmission"].mean()
        assert 1.5 - 1e-9 <= ratio <= 3.0 + 1e-9
        for level in (0.25, 0.9):
            capture = expose(pair, level, np.random.default_rng(2))
            raw = capture["observations"].astype(np.float64)
            np.testing.assert_allclose(raw * 65535, np.round(raw * 65535), atol=1e-3)  # 16-bit
            assert raw.max() == pytest.approx(level, rel=0.1)
            assert capture["transmission"].max() < level


def test_a_curved_pane_is_a_cylinder_met_by_the_rays():
    """The normals touch the given one on the optical axis, all lie across one axis (a cylinder), bend opposite
    ways on a convex and a concave pane, and flatten out as the radius grows."""
    normal = np.array([0.3, -0.2, -0.93]) / np.linalg.norm([0.3, -0.2, -0.93])
    rays = np.array([[0.0, 0.0, 1.0], [0.1, 0.0, 1.0], [0.0, 0.1, 1.0], [-0.1, 0.05, 1.0]])
    rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
    bends = []
    for convex in (True, False):
        normals = independent.cylinder_normals(rays, normal, 1.0, 0.4, convex)
        np.testing.assert_allclose(normals[0], normal, atol=1e-12)
        np.testing.assert_allclose(np.linalg.norm(normals, axis=-1), 1.0, atol=1e-12)
        singular = np.linalg.svd(normals, compute_uv=False)
        assert singular[-1] < 1e-9 < singular[-2]  # all normals across one axis, and not all the same
        bends.append(normals[1:] - normal)
        flat = independent.cylinder_normals(rays, normal, 1e6, 0.4, convex)
        np.testing.assert_allclose(flat, np.broadcast_to(normal, flat.shape), atol=1e-6)
    assert ((bends[0] * bends[1]).sum(axis=-1) < 0).all()


def test_curved_captures_stay_clear_of_grazing_views():
    rng = np.random.default_rng(3)
    for _ in range(4):
        pair = scene_pair(rng, 48, 64, glass="curved")
        assert pair["glass"] == "curved" and pair["aoi_range_degrees"][1] <= np.degrees(independent.GRAZING) + 1e-9
        r, t = exact_separation(pair, pair["radiance"])  # the truth and the images share one geometry
        np.testing.assert_allclose(t, pair["transmission"], atol=1e-9)
    with pytest.raises(ValueError, match="glass"):
        scene_pair(rng, 48, 64, glass="wavy")


def test_exact_separation_inverts_the_capture_and_its_error_is_the_sensor_noise():
    """Noise-free radiance gives back the true layers; shot noise costs about 3 dB per halving of exposure."""
    pair = scene_pair(np.random.default_rng(4), 48, 64)
    r, t = exact_separation(pair, pair["radiance"])
    np.testing.assert_allclose(r, pair["reflection"], atol=1e-9)
    np.testing.assert_allclose(t, pair["transmission"], atol=1e-9)
    scores = []
    for level in (0.25, 0.5, 0.9):
        capture = expose(pair, level, np.random.default_rng(5))
        scores.append(si_psnr(capture["transmission"], exact_separation(pair, capture["observations"])[1]))
    assert scores[0] < scores[1] < scores[2] and 3.5 < scores[2] - scores[0] < 7  # 10 log10(0.9 / 0.25) = 5.6


def test_scale_invariant_psnr():
    rng = np.random.default_rng(3)
    truth = rng.random((16, 16, 3))
    noisy = truth + rng.normal(0, 0.01, truth.shape)
    base = si_psnr(truth, noisy)
    assert si_psnr(truth, 0.3 * noisy) == pytest.approx(base, abs=1e-9)
    assert 35 < base < 45  # ≈ 10 log10(max² / σ²) = 40 dB
    assert si_psnr(truth, truth * 5) > 150


def test_layer_polarisation_is_the_fresnel_degree_of_each_true_layer():
    """For the true layers the regression is exact: degrees (R_s − R_p)/(R_s + R_p) and (R_s − R_p)/(2 − R_s − R_p)."""
    rng = np.random.default_rng(4)
    reflected, transmitted = rng.random((2, 32, 32, 1))
    angles = np.radians([0.0, 45.0, 90.0, 135.0])
    for degrees in (30.0, 50.0, 70.0):
        theta = np.full((32, 32), np.radians(degrees))
        images = polarised_images(reflected, transmitted, theta, 0.3, tuple(angles))
        r, t = observable_layers(reflected, transmitted, theta)
        rs, rp = pane_reflectance(np.radians(degrees))
        dop_r, dop_t = layer_polarisation(r, t, images, angles)
        assert dop_r == pytest.approx((rs - rp) / (rs + rp), abs=1e-6)
        assert dop_t == pytest.approx((rs - rp) / (2 - rs - rp), abs=1e-6)
        swapped = layer_polarisation(t, r, images, angles)
        assert swapped[1] > swapped[0]


def test_per_capture_losses_count_each_capture_and_exposure():
    scores = {"t": {("net", 0.5): [10.0, 12.0, 9.0], ("physics", 0.5): [11.0, 11.0, 11.0],
                    ("net", 0.9): [20.0, 20.0, 20.0], ("physics", 0.9): [19.0, 21.0, 20.0]}}
    losses, total, worst = per_capture_losses(scores, "net", "physics")
    assert (losses, total) == (3, 6) and worst == pytest.approx(2.0)
    assert per_capture_losses(scores, "physics", "net")[:2] == (2, 6)
    only = {0.5: [False, True, True], 0.9: [True, True, False]}  # the captures where, say, no pane fits
    losses, total, worst = per_capture_losses(scores, "net", "physics", only)
    assert (losses, total) == (2, 4) and worst == pytest.approx(2.0)


def test_reference_correlation_finds_a_scaled_and_cropped_copy(tmp_path):
    import cv2

    from mfcore.kit import write_image

    rng = np.random.default_rng(6)
    layer = cv2.GaussianBlur(rng.random((60, 80)), (0, 0), 2.0)[..., None]
    reference = cv2.resize(layer[6:, :, 0], (40, 27), interpolation=cv2.INTER_AREA)  # half size, 6 rows cropped
    assert reference_correlation(layer, reference) > 0.97
    assert reference_correlation(layer, -reference) < 0.1
    assert reference_correlation(layer, rng.random((27, 40))) < 0.5
    for name in ("a.png", "a.transmission.png", "b.tif"):
        write_image(tmp_path / name, np.zeros((8, 8)))
    assert real_frames(tmp_path) == [(tmp_path / "a.png", tmp_path / "a.transmission.png"), (tmp_path / "b.tif", None)]
