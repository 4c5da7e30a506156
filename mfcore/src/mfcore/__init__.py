"""mf core: hook specs, plugin manager, backends, CLI and data layer.

Plugin authors need only what this module exports::

    import mfcore

    @mfcore.hookimpl
    def mf_tasks():
        return [mfcore.Task("hello", "say hello", backends=("numpy",), commands={"run": run})]
"""

from __future__ import annotations

import importlib.metadata

import pluggy

from .backend import Availability, Backend
from .errors import BackendUnavailable, DatasetError, InputError, MfError
from .index import IndexSpec
from .model import ModelSpec
from .synthesizer import Sample, Synthesizer
from .task import DemoSection, RunContext, Task

hookimpl = pluggy.HookimplMarker("mf")

try:
    __version__ = importlib.metadata.version("mf-core")
except importlib.metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "Availability",
    "Backend",
    "BackendUnavailable",
    "DatasetError",
    "DemoSection",
    "IndexSpec",
    "InputError",
    "MfError",
    "ModelSpec",
    "RunContext",
    "Sample",
    "Synthesizer",
    "Task",
    "hookimpl",
    "__version__",
]
