"""pytest fixtures for mf and its plugins (registered through the ``pytest11`` entry point).

* ``backend`` / ``backend_name``: parametrised over NumPy (the reference) and the
  backend under test, named by ``MF_TEST_BACKEND`` (tox sets it per environment);
  a backend that is not usable here is skipped with its reason.
  Mark a test (or module) ``@pytest.mark.mf_task("NAME")`` to run it only on the
  backends that task declares.
* ``@pytest.mark.backend_independent`` (a test or module that never touches the backend under test: executors,
  sharded data) runs in the numpy environment only, not once more per backend.
* An environment whose backend under test is installed but unusable here (CuPy
  without a GPU) runs only the tests marked ``@pytest.mark.unusable_backend``
  (how such a backend is refused): everything else would repeat the NumPy
  environment exactly, and the test matrix's time is a budget.
* ``mf``: runs the real ``mf`` command line in a subprocess and returns the
  completed process, so tests see exit codes and stderr as a user would.
* ``keras``: Keras 3 imported on the backend under test when it drives Keras,
  else on the first of PyTorch and TensorFlow installed (skips when neither is);
  ``keras_backend_name()`` says which, for tests that start subprocesses.
* ``interruptible``: ``preexec_fn`` for a subprocess a test stops with Ctrl-C (SIGINT).
* ``die_once`` / ``die_always``: work for executor tests whose worker is killed, and ``load_logged``,
  ``ask_with_pid``, ``ask_die_once`` for tests of held objects (``Pool.hold``); here, in an installed module,
  so that spawned processes and Ray workers on any node import them by name.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from .backend import Backend


def interruptible() -> None:
    """Give a child process the default SIGINT handling, whatever the test run inherited.

    A shell that starts a command in the background (``tox run ... &``, ``nohup``
    in a script) sets SIGINT to ignored, children inherit that, and Python then
    never raises ``KeyboardInterrupt``: a test that sends Ctrl-C would wait for a
    child that cannot hear it. Pass as ``subprocess.Popen(..., preexec_fn=interruptible)``.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def die_once(item: tuple[int, str]) -> int:
    """Kill its own process (SIGKILL) the first time it sees ``x``, answer ``x`` the next: a marker file in the
    folder ``item[1]`` remembers."""
    x, folder = item
    marker = Path(folder) / f"died-{x}"
    if not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def die_always(x: int) -> int:
    """Kill its own process (SIGKILL) every time."""
    os.kill(os.getpid(), signal.SIGKILL)
    return x


def load_logged(item: tuple[int, str]) -> int:
    """Hold ``x``, appending this process's pid to ``loads-x`` in the folder ``item[1]``; a negative ``x`` fails."""
    x, folder = item
    if x < 0:
        raise ValueError(f"cannot load {x}")
    with open(Path(folder) / f"loads-{x}", "a") as log:
        log.write(f"{os.getpid()}\n")
    return x


def ask_with_pid(held: int, arg: int) -> tuple[int, int]:
    """``held + arg`` and the pid of the process that holds it."""
    return held + arg, os.getpid()


def ask_die_once(held: int, folder: str) -> int:
    """Kill the holder the first time it is asked about ``held`` (a marker file in ``folder`` remembers)."""
    return die_once((held, folder))


def backends_under_test() -> list[str]:
    return sorted({"numpy", os.environ.get("MF_TEST_BACKEND", "numpy")})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend_name" in metafunc.fixturenames:
        metafunc.parametrize("backend_name", backends_under_test())


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mf_task(name): use only the backends task NAME declares")
    config.addinivalue_line("markers", "unusable_backend: also run where the backend under test is installed but "
                                       "unusable (it checks how such a backend is refused)")
    config.addinivalue_line("markers", "backend_independent: never touches the backend under test (NumPy-only code "
                                       "such as executors and sharded data): runs in the numpy environment only")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from .backends import all_backends

    name = os.environ.get("MF_TEST_BACKEND", "numpy")
    if name != "numpy":  # the numpy environment runs them; here they would only repeat it
        independent = pytest.mark.skip(reason="backend-independent: runs in the numpy environment")
        for item in items:
            if item.get_closest_marker("backend_independent") is not None:
                item.add_marker(independent)
    chosen = all_backends().get(name)
    if name == "numpy" or chosen is None:
        return
    availability = chosen.is_available()
    if availability:
        return
    skip = pytest.mark.skip(reason=f"backend {name!r} is installed but unusable here ({availability.reason}): "
                                   "this environment would repeat the numpy one")
    for item in items:
        if item.get_closest_marker("unusable_backend") is None:
            item.add_marker(skip)


@pytest.fixture
def backend(request: pytest.FixtureRequest, backend_name: str) -> Backend:
    from .backends import all_backends
    from .plugins import registry

    marker = request.node.get_closest_marker("mf_task")
    if marker is not None:
        task = registry().task(marker.args[0])
        if backend_name not in task.backends:
            pytest.skip(f"task {task.name!r} does not run on backend {backend_name!r}")

    installed = all_backends()
    if backend_name not in installed:
        pytest.skip(f"backend {backend_name!r} is not installed")
    chosen = installed[backend_name]
    availability = chosen.is_available()
    if not availability:
        pytest.skip(f"backend {backend_name!r} unavailable: {availability.reason}")
    chosen.activate(0)
    return chosen


def run_mf(*args: str | os.PathLike[str], env: dict[str, str] | None = None, cwd: str | os.PathLike[str] | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``mf ARGS...`` with this interpreter; never raises on a non-zero exit."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-m", "mfcore", *map(str, args)], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=timeout)


@pytest.fixture
def mf() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_mf


def assert_clean_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """The CLI error contract: non-zero exit, one line on stderr, no traceback."""
    assert result.returncode != 0, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one stderr line, got:\n{result.stderr}"
    assert lines[0].startswith("mf: error: "), lines[0]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


def keras_backend_name() -> str | None:
    """The Keras backend tests use: the one under test if it drives Keras, else the first installed."""
    from .backends import all_backends

    preferred = os.environ.get("MF_TEST_BACKEND", "")
    names = [preferred] if preferred in ("torch", "tensorflow") else []
    for name in names + ["torch", "tensorflow"]:
        backend = all_backends().get(name)
        if backend is not None and backend.is_available():
            return backend.keras_backend
    return None


@pytest.fixture(scope="session")
def keras():  # type: ignore[no-untyped-def]
    """Keras 3 on torch or tensorflow (set before its first import); skips when neither is installed."""
    name = keras_backend_name()
    if name is None:
        pytest.skip("Keras networks need PyTorch or TensorFlow, neither is installed")
    os.environ["KERAS_BACKEND"] = name
    import keras as keras_module

    assert keras_module.backend.backend() == name, "Keras was imported before its backend was chosen"
    return keras_module


def run_keras_script(script: str, backend: str, *args: object) -> str:
    """Run ``python -c script *args`` with Keras on ``backend`` in a fresh process (CPU only) and return its stdout.

    Weight-portability tests run one script per backend; the script must print the Keras backend it ran on as
    its last line, which is checked here along with the exit status.
    """
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == backend
    return result.stdout


def backend_usable(name: str) -> bool:
    """Whether backend ``name`` is installed and available here (for ``skipif`` marks)."""
    from .backends import all_backends

    backend = all_backends().get(name)
    return backend is not None and backend.is_available()
