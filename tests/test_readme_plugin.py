"""The plugin example in the README is real: extracted verbatim, pip-installed, run through mf."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _block(language: str, first_line: str) -> str:
    for match in re.finditer(rf"```{language}\n(.*?)```", README.read_text(), re.S):
        if match.group(1).startswith(first_line):
            return match.group(1)
    raise AssertionError(f"README has no {language} block starting with {first_line!r}")


@pytest.fixture(scope="module")
def readme_plugin(tmp_path_factory):
    folder = tmp_path_factory.mktemp("readme_plugin")
    (folder / "mf_hello.py").write_text(_block("python", "# mf_hello.py"))
    pyproject = _block("toml", "# pyproject.toml")
    pyproject += '\n[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
    pyproject += '\n[tool.setuptools]\npy-modules = ["mf_hello"]\n'
    (folder / "pyproject.toml").write_text(pyproject)
    pip = [sys.executable, "-m", "pip", "-q", "--no-cache-dir"]
    subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", str(folder)], check=True,
                   capture_output=True)
    yield
    subprocess.run([*pip, "uninstall", "-y", "mf-hello"], check=True, capture_output=True)


def test_readme_example_plugin_runs(readme_plugin, mf, tmp_path):
    listed = {p["plugin"]: p for p in json.loads(mf("plugins", "list", "--json").stdout)["plugins"]}
    assert listed["hello"]["status"] == "ok" and listed["hello"]["distribution"] == "mf-hello"
    result = mf("run", "hello", "world", "--times", "3", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"greeting": "hello world hello world hello world", "sum": 3.0}
    assert mf("synth", "hello", "-o", tmp_path / "twos.lmdb", "-n", "5", "-w", "2").returncode == 0
