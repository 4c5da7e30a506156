"""The hooks a plugin implements: the public API for plugin authors.

A plugin is any module registered under the ``mf.plugins`` entry-point group
that implements some of these hooks with ``@mfcore.hookimpl``. None of them is
``firstresult``: mf collects the answer of every plugin, so several plugins can
contribute tasks, generators, models and indexes side by side. Each hook is
called once per process, when the plugin manager is first used; a hook that
raises marks its plugin as broken without affecting the others.
"""

from __future__ import annotations

import pluggy

from .index import IndexSpec
from .model import ModelSpec
from .synthesizer import Synthesizer
from .task import Task

hookspec = pluggy.HookspecMarker("mf")


@hookspec
def mf_tasks() -> list[Task]:
    """Return the tasks this plugin adds: each becomes ``mf run|train|bench TASK``."""


@hookspec
def mf_synthesizers() -> list[Synthesizer]:
    """Return sample generators for training data: ``mf synth TASK`` writes them to LMDB."""


@hookspec
def mf_models() -> list[ModelSpec]:
    """Return the Keras models this plugin ships (builder plus packaged weights)."""


@hookspec
def mf_indexes() -> list[IndexSpec]:
    """Return nearest-neighbour index types this plugin provides for vector search."""
