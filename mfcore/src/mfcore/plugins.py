"""The plugin manager: loads ``mf.plugins`` entry points and isolates their failures.

The core's own plugin (``mfcore.builtin``) is registered through the same entry
point as every third-party plugin, so nothing bundled has a back door. A plugin
that fails to import, or whose hook raises, is recorded as broken with its error
and left out; every other plugin and command keeps working.

Set ``MF_PLUGINS`` to a comma-separated list of entry-point names to load only
those plugins (an empty value loads none), e.g. to rule out a misbehaving one.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs
from .errors import MfError
from .index import IndexSpec
from .model import ModelSpec
from .synthesizer import Synthesizer
from .task import Task

GROUP = "mf.plugins"
HOOKS = ("mf_tasks", "mf_synthesizers", "mf_models", "mf_indexes")
#: Top-level ``mf`` commands of the core; a task may not take one of these names.
RESERVED = frozenset({"plugins", "backends", "executors", "models", "run", "train", "bench", "synth", "dataset",
                      "demo"})


@dataclass
class PluginInfo:
    """What one plugin contributed, or why it could not."""

    name: str
    distribution: str
    version: str
    error: str | None = None
    tasks: list[Task] = field(default_factory=list)
    synthesizers: list[Synthesizer] = field(default_factory=list)
    models: list[ModelSpec] = field(default_factory=list)
    indexes: list[IndexSpec] = field(default_factory=list)

    @property
    def broken(self) -> bool:
        return self.error is not None


@dataclass
class Registry:
    """Everything the installed plugins provide, collected once per process."""

    manager: pluggy.PluginManager
    plugins: list[PluginInfo]

    def tasks(self) -> dict[str, Task]:
        return {t.name: t for p in self.plugins if not p.broken for t in p.tasks}

    def synthesizers(self, task: str | None = None) -> dict[str, Synthesizer]:
        return {
            s.qualified_name: s
            for p in self.plugins
            if not p.broken
            for s in p.synthesizers
            if task is None or s.task == task
        }

    def models(self) -> list[ModelSpec]:
        return [m for p in self.plugins if not p.broken for m in p.models]

    def indexes(self) -> dict[str, IndexSpec]:
        return {i.name: i for p in self.plugins if not p.broken for i in p.indexes}

    def index_type(self, name: str | None = None) -> IndexSpec:
        """The index type ``name``; by default the first approximate one installed, else an exact one."""
        indexes = self.indexes()
        if name is not None:
            if name not in indexes:
                raise MfError(f"unknown index type {name!r}; installed: {', '.join(sorted(indexes)) or 'none'}")
            return indexes[name]
        ranked = sorted(indexes.values(), key=lambda spec: (spec.exact, spec.name))
        if not ranked:
            raise MfError("no index type is installed (the core's own 'exact' index is missing: is mf-core broken?)")
        return ranked[0]

    def task(self, name: str) -> Task:
        tasks = self.tasks()
        if name not in tasks:
            raise MfError(f"unknown task {name!r}; installed tasks: {', '.join(sorted(tasks)) or 'none'}")
        return tasks[name]


def _selected(eps: list[importlib.metadata.EntryPoint]) -> list[importlib.metadata.EntryPoint]:
    wanted = os.environ.get("MF_PLUGINS")
    if wanted is None:
        return eps
    names = {n.strip() for n in wanted.split(",") if n.strip()}
    return [ep for ep in eps if ep.name in names]


def _collect(manager: pluggy.PluginManager, plugin: object, info: PluginInfo) -> None:
    """Call each hook implementation of one plugin on its own, so its failure stays its own."""
    for hook_name in HOOKS:
        impls = [i for i in getattr(manager.hook, hook_name).get_hookimpls() if i.plugin is plugin]
        if not impls:
            continue
        try:
            items: Any = impls[0].function()
        except Exception as exc:
            info.error = f"{hook_name}() raised {type(exc).__name__}: {exc}"
            return
        getattr(info, hook_name.removeprefix("mf_")).extend(items or [])
    clashes = sorted(t.name for t in info.tasks if t.name in RESERVED)
    if clashes:
        info.error = f"task name(s) {', '.join(clashes)} clash with core commands of mf"


def build_registry() -> Registry:
    manager = pluggy.PluginManager("mf")
    manager.add_hookspecs(hookspecs)
    infos: list[PluginInfo] = []
    eps = sorted(importlib.metadata.entry_points(group=GROUP), key=lambda ep: ep.name)
    for ep in _selected(list(eps)):
        dist = ep.dist.name if ep.dist else "?"
        version = ep.dist.version if ep.dist else "?"
        info = PluginInfo(ep.name, dist, version)
        infos.append(info)
        try:
            plugin = ep.load()
            manager.register(plugin, name=ep.name)
        except Exception as exc:  # ImportError, SyntaxError, hook validation errors...
            info.error = f"{type(exc).__name__}: {exc}"
            continue
        _collect(manager, plugin, info)
    return Registry(manager, infos)


@functools.cache
def registry() -> Registry:
    """The process-wide registry, built on first use."""
    return build_registry()



def index_type(name: str | None = None) -> IndexSpec:
    """The installed index type ``name``, by default the first approximate one, else the exact one: for tasks
    that need nearest neighbours without depending on an index plugin."""
    return registry().index_type(name)
