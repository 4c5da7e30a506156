"""The import structure the README promises, checked on the source: the core never imports a plugin, a
backend or an executor package, plugins never import each other, and plugins, backends and executors use only
the core's stated APIs (``mfcore``, ``mfcore.data``, ``mfcore.kit``), not the modules behind them."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "mfcore" / "src" / "mfcore"
PLUGINS = {p.name: p / "src" / p.name for p in (ROOT / "plugins").iterdir() if (p / "src" / p.name).is_dir()}
BACKENDS = {p.name: next((p / "src").iterdir()) for p in (ROOT / "backends").iterdir() if (p / "src").is_dir()}
EXECUTORS = {p.name: next((p / "src").iterdir()) for p in (ROOT / "executors").iterdir() if (p / "src").is_dir()}
PUBLIC = {"mfcore", "mfcore.data", "mfcore.kit"}


def imported_modules(package: Path) -> list[tuple[Path, str]]:
    """(file, absolute module name) of every import in the package's files, at any depth of the code."""
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((path, node.module))
    return found


def top(module: str) -> str:
    return module.split(".")[0]


def test_the_layout_is_what_this_test_reads():
    assert {"mf_deblur", "mf_reflect", "mf_sync", "mf_ann"} <= set(PLUGINS)
    assert {"numpy", "torch", "tensorflow", "cupy"} <= set(BACKENDS)
    assert {"ray"} <= set(EXECUTORS)


def test_the_core_imports_no_plugin_and_no_backend_package():
    extensions = set(PLUGINS) | {path.name for path in [*BACKENDS.values(), *EXECUTORS.values()]}
    bad = [f"{path.relative_to(ROOT)}: {module}" for path, module in imported_modules(CORE)
           if top(module) in extensions]
    assert not bad, "the core imports extensions (find them through entry points instead):\n" + "\n".join(bad)


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_a_plugin_imports_no_other_plugin(name):
    others = set(PLUGINS) - {name}
    bad = [f"{path.relative_to(ROOT)}: {module}" for path, module in imported_modules(PLUGINS[name])
           if top(module) in others]
    assert not bad, "plugins must not import each other (use the core's registry):\n" + "\n".join(bad)


@pytest.mark.parametrize("package", sorted([*PLUGINS.values(), *BACKENDS.values(), *EXECUTORS.values()]),
                         ids=lambda p: p.name)
def test_extensions_use_only_the_cores_stated_api(package):
    bad = [f"{path.relative_to(ROOT)}: {module}" for path, module in imported_modules(package)
           if top(module) == "mfcore" and module not in PUBLIC]
    assert not bad, f"import from {sorted(PUBLIC)} only:\n" + "\n".join(bad)


def test_every_name_of_the_stated_apis_exists():
    import mfcore
    import mfcore.data
    import mfcore.kit

    for module in (mfcore, mfcore.data, mfcore.kit):
        missing = [name for name in module.__all__ if not hasattr(module, name)]
        assert not missing, f"{module.__name__}.__all__ names what it lacks: {missing}"
