"""mf core: the kernel a plugin is written against.

A plugin needs only what this module exports (the hooks it implements are in
``mfcore.hookspecs``)::

    import mfcore

    @mfcore.hookimpl
    def mf_tasks():
        return [mfcore.Task("hello", "say hello", backends=("numpy",), commands={"run": run})]

The core has three layers, each with its own stated API: this kernel (hook
specs, plugin manager, tasks and their run context, backends, executors, the
CLI, errors, output and atomic writes), ``mfcore.data`` (LMDB datasets, single
or sharded, and the ZeroMQ sample stream) and ``mfcore.kit`` (images, video,
metrics, tiling, Keras models, training, progress and reports). The core's own
plugin (the ``data`` task) and its ``local`` executor live in ``mfcore.builtin``
and are found through the same entry points as every other extension. Plugins
import from these three, never from the modules behind them and never from
each other.
"""

from __future__ import annotations

import importlib.metadata

import pluggy

try:
    __version__ = importlib.metadata.version("mf-core")
except importlib.metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"

from .atomic import atomic_folder, atomic_path, check_writable_dir, output_folder  # noqa: E402  (after __version__)
from .backend import Availability, Backend  # noqa: E402
from .backends import all_backends, get_backend  # noqa: E402
from .errors import BackendUnavailable, DatasetError, InputError, MfError  # noqa: E402
from .executor import (  # noqa: E402
    AddressOption,
    Executor,
    ExecutorError,
    ExecutorOption,
    ExecutorWorkersOption,
    Holders,
    Pool,
    ask_held,
    load_held,
)
from .executors import all_executors, get_executor  # noqa: E402
from .index import IndexSpec, SearchIndex  # noqa: E402
from .model import ModelSpec  # noqa: E402
from .output import emit, stderr, warn  # noqa: E402
from .plugins import index_type  # noqa: E402
from .quiet_import import quiet_import  # noqa: E402
from .synthesizer import BoundSynthesizer, Sample, Synthesizer  # noqa: E402
from .task import DemoSection, RunContext, Task  # noqa: E402

hookimpl = pluggy.HookimplMarker("mf")

__all__ = [
    "AddressOption",
    "Availability",
    "Backend",
    "BackendUnavailable",
    "BoundSynthesizer",
    "DatasetError",
    "DemoSection",
    "Executor",
    "ExecutorError",
    "ExecutorOption",
    "ExecutorWorkersOption",
    "Holders",
    "IndexSpec",
    "InputError",
    "MfError",
    "ModelSpec",
    "Pool",
    "RunContext",
    "Sample",
    "SearchIndex",
    "Synthesizer",
    "Task",
    "all_backends",
    "all_executors",
    "ask_held",
    "atomic_folder",
    "atomic_path",
    "check_writable_dir",
    "emit",
    "get_backend",
    "get_executor",
    "load_held",
    "hookimpl",
    "index_type",
    "output_folder",
    "quiet_import",
    "stderr",
    "warn",
    "__version__",
]
