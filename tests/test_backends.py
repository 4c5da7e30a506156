import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from mfcore import BackendUnavailable, all_backends, get_backend


def test_numpy_round_trip_and_namespace(backend):
    x = np.random.default_rng(0).normal(size=(5, 7)).astype(np.float32)
    on_device = backend.asarray(x)
    xp = backend.namespace()
    np.testing.assert_allclose(backend.to_numpy(xp.sum(on_device, axis=0)), x.sum(axis=0), rtol=1e-5)
    np.testing.assert_array_equal(backend.to_numpy(on_device), x)


def test_seeding_makes_backend_randomness_repeatable(backend):
    backend.seed(5)
    a = np.random.random(3)
    backend.seed(5)
    np.testing.assert_array_equal(np.random.random(3), a)


@pytest.mark.unusable_backend
def test_listing_matches_each_backends_own_answer(mf):
    result = mf("backends", "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = {r["backend"]: r for r in json.loads(result.stdout)["backends"]}
    for name, backend in all_backends().items():
        availability = backend.is_available()
        assert rows[name]["available"] is availability.ok
        assert (rows[name]["reason"] or "") == availability.reason
        if availability:
            assert rows[name]["device"]
        else:
            assert rows[name]["reason"], f"{name} is unavailable without a reason"
    assert rows["numpy"]["available"] is True and rows["numpy"]["device"] == "cpu"


@pytest.mark.unusable_backend
def test_cupy_without_a_gpu_is_unavailable_with_a_reason():
    cupy_backend = all_backends().get("cupy")
    if cupy_backend is None:
        pytest.skip("mf-backend-cupy is not installed in this environment")
    try:
        import cupy

        gpus = cupy.cuda.runtime.getDeviceCount()
    except Exception:
        gpus = 0
    availability = cupy_backend.is_available()
    assert availability.ok is (gpus > 0)
    if not availability:
        assert "CUDA" in availability.reason or "CuPy" in availability.reason
        with pytest.raises(BackendUnavailable, match="backend 'cupy' is not available here"):
            get_backend("cupy")


KERAS_PROBE = """
import sys
from mfcore import get_backend
get_backend(sys.argv[1]).activate(0)
import keras
print(keras.backend.backend())
"""


def test_activation_selects_the_keras_backend_before_keras_is_imported(backend, tmp_path):
    """Even when the user's keras.json names a backend that is not installed."""
    if importlib.util.find_spec("keras") is None:  # not imported here: that is what is tested
        pytest.skip("keras is not installed in this environment")
    if backend.keras_backend is None:
        pytest.skip(f"{backend.name} drives no Keras backend")
    keras_home = tmp_path / "keras_home"
    keras_home.mkdir()
    (keras_home / "keras.json").write_text(json.dumps({"backend": "jax", "floatx": "float32"}))
    env = {"KERAS_HOME": str(keras_home), "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", KERAS_PROBE, backend.name], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == backend.keras_backend


def test_unknown_backend_names_the_installed_ones():
    with pytest.raises(BackendUnavailable, match=r"backend 'nope' is not installed \(installed: .*numpy"):
        get_backend("nope")


def test_the_keras_backend_is_resolved_once_per_run(monkeypatch):
    """A run that checks, loads and reports a network asks which Keras backend to use once; later calls read
    the answer its context keeps, without looking at the installed backends again."""
    from mfcore import RunContext
    from mfcore.kit import keras_models

    installed = keras_models.all_backends()
    usable = [n for n in ("torch", "tensorflow") if n in installed and installed[n].is_available()]
    if not usable:
        pytest.skip("neither PyTorch nor TensorFlow is usable here")
    ctx = RunContext(installed["numpy"])
    first = keras_models.keras_backend_for(ctx)
    assert ctx.keras_backend == first
    monkeypatch.setattr(keras_models, "all_backends", lambda: pytest.fail("resolved a second time"))
    assert keras_models.keras_backend_for(ctx) == first
    assert keras_models.network_available(ctx, keras_models.Path(__file__))


class _Item:
    """The part of a collected pytest item the matrix hook reads and writes."""

    def __init__(self, marked: bool) -> None:
        self.marks = [pytest.mark.unusable_backend.mark] if marked else []

    def get_closest_marker(self, name):
        return next((m for m in self.marks if m.name == name), None)

    def add_marker(self, mark):
        self.marks.append(mark.mark)


@pytest.mark.parametrize("usable", [True, False])
def test_an_unusable_backend_environment_runs_only_the_refusal_tests(monkeypatch, usable):
    from mfcore import backends, testing
    from mfcore.backend import Availability

    class Fake:
        def is_available(self):
            return Availability(usable, "" if usable else "no CUDA device")

    monkeypatch.setenv("MF_TEST_BACKEND", "fake")
    monkeypatch.setattr(backends, "all_backends", lambda: {"fake": Fake()})
    plain, refusal = _Item(False), _Item(True)
    testing.pytest_collection_modifyitems(None, [plain, refusal])
    skipped = [m for m in plain.marks if m.name == "skip"]
    assert not any(m.name == "skip" for m in refusal.marks)
    if usable:
        assert skipped == []
    else:
        assert len(skipped) == 1 and "no CUDA device" in skipped[0].kwargs["reason"]
