"""The command line under hostile conditions: signals, things in the way of outputs, odd names, no terminal.

Backend-independent behaviour of the core's own commands, so it runs once, in the
NumPy environment of the tox matrix.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from mfcore.kit import write_image
from mfcore.testing import assert_clean_error, interruptible

pytestmark = pytest.mark.skipif(os.environ.get("MF_TEST_BACKEND", "numpy") != "numpy",
                                reason="backend-independent: checked once, in the numpy environment")


def test_sigterm_unwinds_like_ctrl_c(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "mfcore", "synth", "data", "-n", "1000000", "-w", "2",
                             "-o", tmp_path / "d.lmdb"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=interruptible, cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not any(".tmp" in p.name for p in tmp_path.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # samples are flowing into the temporary file
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert stderr.strip().splitlines()[-1] == "mf: error: terminated"
    assert "resource_tracker" not in stderr and "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_overwrite_never_replaces_a_folder_or_device(mf, tmp_path, kind):
    target = tmp_path / "d.lmdb"
    target.mkdir() if kind == "folder" else os.mkfifo(target)
    result = mf("synth", "data", "-n", "3", "-o", target, "--overwrite")
    assert_clean_error(result, "not a regular file; mf will not replace it")
    assert [p.name for p in tmp_path.iterdir()] == ["d.lmdb"]


@pytest.mark.parametrize(("setting", "fragment"), [
    ("size=-5", "made an empty 'image' of shape (0,"),
    ('size="big"', "parameter size must be int like its default 128, got 'big'"),
])
def test_generator_parameters_that_make_no_sample_are_refused(mf, tmp_path, setting, fragment):
    result = mf("synth", "data", "-n", "3", "-o", tmp_path / "d.lmdb", "--set", setting)
    assert_clean_error(result, fragment)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def burst(tmp_path):
    rng = np.random.default_rng(0)
    return [write_image(tmp_path / f"f{i}.png", rng.random((24, 24, 3))) for i in range(2)]


@pytest.mark.parametrize("name", ["y[red]z.png", "[/]x.png"])
def test_output_names_are_printed_as_they_are(mf, tmp_path, burst, name):
    (tmp_path / "[").mkdir()
    result = mf("run", "deblur", *burst, "-o", tmp_path / name, "--method", "fba")
    assert result.returncode == 0, result.stderr
    assert f"output: {tmp_path / name}" in result.stdout
    assert (tmp_path / name).is_file()


def test_tables_without_a_terminal_are_plain_and_whole(mf):
    result = mf("plugins", "list")
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stdout and "━" not in result.stdout
    header = result.stdout.splitlines()[1].split()
    assert header[:3] == ["plugin", "version", "distribution"]
    listed = json.loads(mf("plugins", "list", "--json").stdout)["plugins"]
    rows = result.stdout.splitlines()[2:]
    assert len(rows) == len(listed)
    for row, plugin in zip(rows, listed):
        assert row.split()[0] == plugin["plugin"]
