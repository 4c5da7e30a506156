"""The README's install-everything command resolves: pip is run on it verbatim, with --dry-run.

The line once named ``./plugins/mf_sync`` before ``"./plugins/mf_ann[bench]"``; pip
(23.2) then looked for mf-sync's dependency ``mf-ann`` on the index, found none and
gave up, so a fresh machine could not install mf at all while every test passed.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _install_command() -> list[str]:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"```bash\n(python -m pip install -c constraints\.txt \"\./mfcore\[bench\]\".*?) && mf demo\n",
                      text)
    assert match, "README.md has no install-everything-and-run-the-demo command"
    return shlex.split(match.group(1))


@pytest.mark.skipif(os.environ.get("MF_TEST_BACKEND", "numpy") != "numpy",
                    reason="the install line does not depend on the backend: checked once, in the numpy env")
def test_readme_install_command_resolves():
    command = _install_command()
    local = [arg.split("[")[0] for arg in command if arg.startswith("./")]
    for package in ("mfcore", "backends/numpy", "backends/torch", "backends/tensorflow", "backends/cupy",
                    "plugins/mf_deblur", "plugins/mf_reflect", "plugins/mf_sync", "plugins/mf_ann", "executors/ray"):
        assert f"./{package}" in local, f"the README's install command leaves out {package}"
    result = subprocess.run([sys.executable, *command[1:], "--dry-run", "--ignore-installed", "--quiet"], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert result.returncode == 0, "\n".join(errors) or result.stderr[-2000:]
