"""Docs that cannot drift: every hook spec is documented in the README's plugin guide."""

import inspect
from pathlib import Path

import pluggy

from mfcore import hookspecs

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_hookspec_is_in_the_readme_with_its_signature():
    text = README.read_text()
    specs = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
             if getattr(fn, "mf_spec", None) is not None]
    assert specs, "no hook specs found"
    for name in specs:
        signature = inspect.signature(getattr(hookspecs, name))
        params = ", ".join(signature.parameters)
        assert f"`{name}({params})`" in text, f"hook {name}({params}) is missing from README.md"
        assert inspect.getdoc(getattr(hookspecs, name)), f"hook {name} has no docstring"


def test_hookspecs_are_not_firstresult():
    pm = pluggy.PluginManager("mf")
    pm.add_hookspecs(hookspecs)
    for name in ("mf_tasks", "mf_synthesizers", "mf_models", "mf_indexes"):
        caller = getattr(pm.hook, name)
        assert caller.spec is not None and not caller.spec.opts.get("firstresult")
