"""``mf run reflect``: every method and input form through the real command line, and its errors."""

import json

import numpy as np
from mf_reflect.canonical import canonical_projection as plain_projection
from mf_reflect.orientation import orient

from mfcore.kit import read_image, write_image
from mfcore.testing import assert_clean_error, keras_backend_name

Q16 = 1 / 65535


def canonical_projection(images, angles):
    """The canonical projection as ``--method canonical`` computes it: in the frame of the reflection."""
    return plain_projection(orient(images, angles)[0], angles)


def _read_all(files):
    return np.stack([read_image(f) for f in files]).astype(np.float64)


def test_canonical_method_writes_16_bit_linear_layers(mf, triple, tmp_path):
    files, _ = triple
    result = mf("run", "reflect", *files, "-o", tmp_path / "out", "--method", "canonical", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["angles_degrees"] == [0.0, 45.0, 90.0] and info["linear_output"]
    perp, par, _ = canonical_projection(_read_all(files), np.radians([0, 45, 90]))
    np.testing.assert_allclose(read_image(tmp_path / "out" / "transmission.png"), np.clip(par, 0, 1), atol=Q16)
    np.testing.assert_allclose(read_image(tmp_path / "out" / "reflection.png"), np.clip(perp, 0, 1), atol=Q16)


def test_four_angles_and_explicit_angles_fit_by_least_squares(mf, triple, tmp_path):
    files, sample = triple
    images = _read_all(files)
    write_image(tmp_path / "pol_135.png", images[0] + images[2] - images[1], bits=16)  # eq. 5.3 at 135°
    four = [*files, tmp_path / "pol_135.png"]
    result = mf("run", "reflect", *four, "-o", tmp_path / "four", "--method", "canonical")
    assert result.returncode == 0, result.stderr
    perp, par, _ = canonical_projection(_read_all(four), np.radians([0, 45, 90, 135]))
    np.testing.assert_allclose(read_image(tmp_path / "four" / "transmission.png"), np.clip(par, 0, 1), atol=Q16)
    shuffled = mf("run", "reflect", files[2], files[0], files[1], "--angles", "90,0,45", "-o", tmp_path / "shuf",
                  "--method", "canonical")
    assert shuffled.returncode == 0, shuffled.stderr
    _, par3, _ = canonical_projection(images, np.radians([0, 45, 90]))
    # the same fit in another order; only pixels at the φ⊥ = ±45° fold may flip on rounding
    close = np.abs(read_image(tmp_path / "shuf" / "transmission.png") - np.clip(par3, 0, 1)) <= Q16
    assert close.mean() > 0.99


def _raw_frame(files):
    """A monochrome polarisation-camera frame (Sony layout) made of the triple's three images and eq. 5.3's 135°."""
    images = _read_all(files).mean(axis=-1)
    views = {0: images[0], 45: images[1], 90: images[2], 135: images[0] + images[2] - images[1]}
    h, w = images.shape[1:]
    raw = np.zeros((2 * h, 2 * w))
    for (dy, dx), angle in zip(((0, 0), (0, 1), (1, 0), (1, 1)), (90, 45, 135, 0)):
        raw[dy::2, dx::2] = views[angle]
    return raw, views


def test_mosaic_frames_are_demosaiced_and_separated(mf, triple, tmp_path):
    files, _ = triple
    raw, views = _raw_frame(files)
    h, w = raw.shape[0] // 2, raw.shape[1] // 2
    write_image(tmp_path / "raw.png", raw, bits=16)
    half = mf("run", "reflect", tmp_path / "raw.png", "--mosaic", "--half", "-o", tmp_path / "m", "--method",
              "canonical", "--json")
    assert half.returncode == 0, half.stderr
    info = json.loads(half.stdout)
    assert info["angles_degrees"] == [0.0, 45.0, 90.0, 135.0] and info["channels"] == 1
    stack = np.stack([views[k] for k in (0, 45, 90, 135)])[..., None]
    _, par, _ = canonical_projection(np.round(stack * 65535) / 65535, np.radians([0, 45, 90, 135]))
    got = read_image(tmp_path / "m" / "transmission.png")
    assert got.shape == (h, w, 1)  # monochrome in, monochrome out
    # pixels whose φ⊥ lies at the ±45° fold around the estimated frame may flip on rounding
    assert (np.abs(got - np.clip(par, 0, 1)) <= 2 * Q16).mean() > 0.95
    full = mf("run", "reflect", tmp_path / "raw.png", "--mosaic", "-o", tmp_path / "f", "--method", "pane")
    assert full.returncode == 0, full.stderr
    assert read_image(tmp_path / "f" / "transmission.png").shape == (2 * h, 2 * w, 1)  # full resolution


def test_the_network_is_exposure_invariant_and_keeps_monochrome(mf, tiny_reflect_weights, triple, tmp_path):
    """One capture at 1, 0.5 and 0.25 of its exposure (float TIFF): the layers agree once rescaled."""
    import cv2

    path, _ = tiny_reflect_weights
    files, _ = triple
    images = _read_all(files).mean(axis=-1, keepdims=True).astype(np.float32)
    layers = {}
    for factor in (1.0, 0.5, 0.25):
        names = []
        for i, image in enumerate(images):
            names.append(tmp_path / f"x{factor}_{i}.tif")
            cv2.imwrite(str(names[-1]), image[..., 0] * factor)
        out = tmp_path / f"out{factor}"
        result = mf("run", "reflect", *names, "-o", out, "--weights", path, "--backend", keras_backend_name())
        assert result.returncode == 0, result.stderr
        layers[factor] = [read_image(out / f"{name}.png") / factor for name in ("transmission", "reflection")]
        assert layers[factor][0].shape == (40, 40, 1)
    for factor in (0.5, 0.25):
        for got, want in zip(layers[factor], layers[1.0]):
            np.testing.assert_allclose(got, want, atol=1.5 * Q16 / factor)


def test_gamma_encoded_inputs_are_linearised_and_outputs_encoded(mf, triple, tmp_path):
    files, _ = triple
    linear = _read_all(files)
    encoded = []
    for i, image in enumerate(linear):
        encoded.append(write_image(tmp_path / f"g{i}.png", image ** (1 / 2.2)))
    result = mf("run", "reflect", *encoded, "-o", tmp_path / "g", "--gamma", "2.2", "--method", "canonical")
    assert result.returncode == 0, result.stderr
    _, par, _ = canonical_projection(_read_all(encoded) ** 2.2, np.radians([0, 45, 90]))
    want = np.clip(par, 0, 1) ** (1 / 2.2)
    np.testing.assert_allclose(read_image(tmp_path / "g" / "transmission.png"), want, atol=1 / 255 + 1e-4)


def test_network_and_extra_methods(mf, tiny_reflect_weights, triple, tmp_path):
    from mf_reflect.inference import separate

    path, model = tiny_reflect_weights
    files, _ = triple
    result = mf("run", "reflect", *files, "-o", tmp_path / "n", "--weights", path, "--method", "net",
                "--method", "schechner", "--method", "farid", "--backend", keras_backend_name(), "--json")
    assert result.returncode == 0, result.stderr
    assert list(json.loads(result.stdout)["methods"]) == ["net", "schechner", "farid"]
    r, t = separate(model, _read_all(files).astype(np.float32), np.radians([0, 45, 90]))
    np.testing.assert_allclose(read_image(tmp_path / "n" / "transmission.png"), np.clip(t, 0, 1), atol=Q16 + 1e-4)
    np.testing.assert_allclose(read_image(tmp_path / "n" / "reflection.png"), np.clip(r, 0, 1), atol=Q16 + 1e-4)
    for name in ("schechner_transmission.png", "farid_reflection.png"):
        assert read_image(tmp_path / "n" / name).shape == (40, 40, 3)
    tiled = mf("run", "reflect", *files, "-o", tmp_path / "tiled", "--weights", path, "--method", "net",
               "--tile", "32", "--overlap", "8")
    assert tiled.returncode == 0, tiled.stderr


def test_bad_input_is_one_clear_line_and_writes_nothing(mf, triple, tmp_path):
    files, _ = triple
    raw, _ = _raw_frame(files)
    (tmp_path / "notes.png").write_text("not an image")
    write_image(tmp_path / "small.png", np.zeros((20, 20, 3)))
    write_image(tmp_path / "odd.png", raw[:-1], bits=16)
    write_image(tmp_path / "raw.png", raw, bits=16)
    black = [write_image(tmp_path / f"black{i}.png", np.zeros((16, 16)), bits=16) for i in range(3)]
    white = [write_image(tmp_path / f"white{i}.png", np.ones((16, 16)), bits=16) for i in range(3)]
    cases = [
        ((files[0], files[1]), "three or more angles, got 2"),
        ((*files, tmp_path / "small.png"), "all frames must match"),
        ((files[0], files[1], tmp_path / "notes.png"), "not a readable image"),
        ((*files, "--angles", "0,45,180"), "not distinct"),
        ((*files, "--angles", "0,45"), "lists 2 angles for 3 images"),
        ((files[0], files[1], "--mosaic"), "--mosaic takes one raw"),
        ((tmp_path / "odd.png", "--mosaic"), "even number of rows and columns"),
        ((tmp_path / "raw.png", "--mosaic", "--pattern", "45,90,135,0"), "does not match --pattern"),
        ((tmp_path / "raw.png", "--mosaic", "--pattern", "0,30,60,90"), "45° apart"),
        ((*files, "--pattern", "90,45,135,0"), "only apply to --mosaic"),
        ((*black,), "black"),
        ((*white,), "saturated"),
        ((*files, "--method", "net", "--weights", tmp_path / "none.weights.h5"), "weights not found"),
        ((*files, "--weights", tmp_path / "none.weights.h5"), "weights not found"),  # not a quiet Schechner
        ((*files, files[0], files[1]), "give the polariser angles of the 5 images"),
    ]
    for args, fragment in cases:
        assert_clean_error(mf("run", "reflect", *args, "-o", tmp_path / "o"), fragment)
        assert not (tmp_path / "o").exists()  # nothing written
    assert_clean_error(mf("run", "reflect", *files, "-o", tmp_path / "notes.png", "--method", "canonical"),
                       "cannot use", "notes.png as the output folder: it exists and is not a folder")


def test_suspicious_inputs_are_separated_with_a_warning(mf, triple, tmp_path):
    files, _ = triple
    images = _read_all(files)
    clipped = [write_image(tmp_path / f"c{i}.png", np.minimum(im * 4, 1), bits=16) for i, im in enumerate(images)]
    result = mf("run", "reflect", *clipped, "-o", tmp_path / "c", "--method", "canonical")
    assert result.returncode == 0 and "mf: warning:" in result.stderr and "clipped" in result.stderr
    flat = [write_image(tmp_path / f"g{i}.png", 0.5 + 0.1 * im) for i, im in enumerate(images)]  # mid-grey: encoded?
    result = mf("run", "reflect", *flat, "-o", tmp_path / "g", "--method", "canonical")
    assert result.returncode == 0 and "look gamma-encoded" in result.stderr


def test_synth_reflect_writes_an_lmdb_the_trainer_reads(mf, tmp_path):
    out = tmp_path / "train.lmdb"
    result = mf("synth", "reflect", "--kind", "triple", "-o", out, "--count", "6", "--workers", "2",
                "--set", "size=64")
    assert result.returncode == 0, result.stderr
    from mfcore.data import Dataset

    data = Dataset(out)
    assert len(data) == 6 and data[0]["observations"].shape == (3, 64, 64, 3)
    np.testing.assert_allclose(data[0]["angles"], np.radians([0, 45, 90]), atol=1e-6)
