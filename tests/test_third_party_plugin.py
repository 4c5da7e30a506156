"""A plugin written against the documented hook specs, pip-installed from a temporary
folder, must behave exactly like the bundled ones; a broken one must not take mf down."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from mfcore.testing import assert_clean_error, run_mf

PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "1.2.3"
dependencies = ["mf-core"]

[project.entry-points."mf.plugins"]
{entry_points}

[project.entry-points."mf.backends"]
{backends}

[tool.setuptools]
py-modules = [{modules}]
"""

HELLO = '''
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

import mfcore


def run(ctx: mfcore.RunContext,
        name: Annotated[str, typer.Argument(help="who to greet")],
        times: Annotated[int, typer.Option(help="how many times")] = 1):
    """Greet someone, with an array computed on the chosen backend."""
    xp = ctx.xp
    total = xp.sum(ctx.backend.asarray(np.arange(times, dtype=np.float64)))
    return {"greeting": " ".join([f"hello {name}"] * times), "backend": ctx.backend.name,
            "sum": float(ctx.backend.to_numpy(total))}


def twos(rng, size=3):
    return {"x": np.full((size,), 2.0) + rng.normal(size=size) * 0}


class QuantumBackend(mfcore.Backend):
    """A third-party backend that is never usable on an ordinary machine."""

    name = "quantum"
    package = "mf-hello-test"

    def is_available(self):
        return mfcore.Availability(False, "no quantum processing unit attached")

    def namespace(self):
        raise AssertionError("never called when unavailable")

    device = asarray = to_numpy = namespace


@mfcore.hookimpl
def mf_tasks():
    return [mfcore.Task("hello", "greets people", backends=("numpy", "quantum"), commands={"run": run},
                        subcommands={"shout": shout})]


def shout(ctx: mfcore.RunContext, word: Annotated[str, typer.Argument()]):
    """Shout a word."""
    return {"shout": word.upper() + "!"}


@mfcore.hookimpl
def mf_synthesizers():
    return [mfcore.Synthesizer("hello", "twos", "arrays of twos", twos, {"size": 3})]
'''

BROKEN_IMPORT = "raise ImportError('this plugin needs a package that is not installed')\n"

BROKEN_HOOK = '''
import mfcore


@mfcore.hookimpl
def mf_tasks():
    raise RuntimeError("hook exploded")
'''

CLASHING = '''
import mfcore


@mfcore.hookimpl
def mf_tasks():
    return [mfcore.Task("synth", "takes a core command's name", backends=("numpy",))]
'''


@pytest.fixture(scope="module")
def installed_plugins(tmp_path_factory):
    """The plugins pip-installed into a folder of their own, which only this module's ``mf`` puts on the path:
    installed into the environment, they would show up in the tests that run beside these (pytest-xdist)."""
    root = tmp_path_factory.mktemp("plugins")
    site = root / "site"
    packages = {
        "mf-hello-test": ({"hello": "mf_hello_test"}, {"mf_hello_test": HELLO},
                          'quantum = "mf_hello_test:QuantumBackend"'),
        "mf-broken-test": ({"broken_import": "mf_broken_import", "broken_hook": "mf_broken_hook",
                            "clashing": "mf_clashing"},
                           {"mf_broken_import": BROKEN_IMPORT, "mf_broken_hook": BROKEN_HOOK,
                            "mf_clashing": CLASHING},
                           'broken = "mf_broken_import:Nothing"'),
    }
    for dist, (entry_points, modules, backends) in packages.items():
        folder = root / dist
        folder.mkdir()
        eps = "\n".join(f'{name} = "{module}"' for name, module in entry_points.items())
        mods = ", ".join(f'"{m}"' for m in modules)
        (folder / "pyproject.toml").write_text(PYPROJECT.format(dist=dist, entry_points=eps, modules=mods,
                                                                     backends=backends))
        for module, source in modules.items():
            (folder / f"{module}.py").write_text(textwrap.dedent(source))
        subprocess.run([sys.executable, "-m", "pip", "-q", "--no-cache-dir", "install", "--no-deps",
                        "--no-build-isolation", "--target", str(site), str(folder)], check=True, capture_output=True,
                       text=True)
    return site


@pytest.fixture
def mf(installed_plugins):
    """``mf`` with the test plugins' folder on its path."""
    path = os.pathsep.join(filter(None, [str(installed_plugins), os.environ.get("PYTHONPATH")]))
    return lambda *args, env=None, **kw: run_mf(*args, env={"PYTHONPATH": path, **(env or {})}, **kw)


def test_installed_plugin_is_listed_and_broken_ones_are_reported(mf):
    result = mf("plugins", "list", "--json")
    assert result.returncode == 0, result.stderr
    plugins = {p["plugin"]: p for p in json.loads(result.stdout)["plugins"]}
    hello = plugins["hello"]
    assert hello["status"] == "ok" and hello["distribution"] == "mf-hello-test" and hello["version"] == "1.2.3"
    assert hello["tasks"] == [{"name": "hello", "summary": "greets people", "backends": ["numpy", "quantum"],
                               "commands": ["run"], "subcommands": ["shout"]}]
    assert hello["generators"] == ["hello/twos"]
    assert plugins["broken_import"]["status"] == "broken"
    assert "ImportError: this plugin needs a package that is not installed" in plugins["broken_import"]["error"]
    assert plugins["broken_hook"]["status"] == "broken"
    assert "mf_tasks() raised RuntimeError: hook exploded" in plugins["broken_hook"]["error"]
    assert plugins["clashing"]["status"] == "broken"
    assert "synth clash with core commands" in plugins["clashing"]["error"]
    assert plugins["deblur"]["status"] == "ok"  # the others are unaffected


def test_installed_plugin_runs_through_mf_run(mf):
    result = mf("run", "hello", "world", "--times", "3", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"greeting": "hello world hello world hello world", "backend": "numpy",
                                         "sum": 3.0}
    shout = mf("hello", "shout", "hey", "--json")
    assert shout.returncode == 0, shout.stderr
    assert json.loads(shout.stdout) == {"shout": "HEY!"}
    assert_clean_error(mf("run", "hello", "world", "--backend", "torch"), "does not support backend 'torch'")
    assert_clean_error(mf("run", "hello", "world", "--backend", "quantum"),
                       "backend 'quantum' is not available here: no quantum processing unit attached")


def test_installed_plugin_generator_feeds_mf_synth(mf, tmp_path):
    out = tmp_path / "twos.lmdb"
    result = mf("synth", "hello", "-o", out, "-n", "7", "--set", "size=5", "--json")
    assert result.returncode == 0, result.stderr
    from mfcore.data import Dataset

    ds = Dataset(out)
    assert len(ds) == 7 and ds.metadata["generator"] == "hello/twos" and ds.metadata["params"] == {"size": 5}
    assert all((s["x"] == 2.0).all() and s["x"].shape == (5,) for s in ds)


def test_other_commands_still_work_beside_broken_plugins(mf):
    result = mf("backends", "list", "--json")
    assert result.returncode == 0, result.stderr
    backends = {b["backend"]: b for b in json.loads(result.stdout)["backends"]}
    assert backends["numpy"]["available"] is True
    assert backends["quantum"]["available"] is False
    assert backends["quantum"]["reason"] == "no quantum processing unit attached"
    assert backends["broken"]["available"] is False and "ImportError" in backends["broken"]["reason"]
    assert mf("run", "deblur", "--help").returncode == 0


def test_mf_plugins_env_restricts_loading(mf):
    result = mf("plugins", "list", "--json", env={"MF_PLUGINS": "core,hello"})
    assert {p["plugin"] for p in json.loads(result.stdout)["plugins"]} == {"core", "hello"}
