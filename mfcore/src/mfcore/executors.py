"""The executor registry: every ``mf.executors`` entry point, loaded lazily and safely."""

from __future__ import annotations

import functools

from .entry_points import BrokenEntry, load_group
from .executor import Executor, ExecutorError

GROUP = "mf.executors"


@functools.cache
def _load() -> tuple[dict[str, Executor], list[BrokenEntry]]:
    return load_group(GROUP, Executor)


def all_executors() -> dict[str, Executor]:
    """Installed executors by name (available or not)."""
    return _load()[0]


def broken_executors() -> list[BrokenEntry]:
    return _load()[1]


def get_executor(name: str) -> Executor:
    """Return the named executor, ready to start, or raise one clear :class:`ExecutorError`."""
    installed = all_executors()
    if name not in installed:
        raise ExecutorError(f"executor {name!r} is not installed (installed: {', '.join(installed) or 'none'}); "
                            f"pip install mf-executor-{name}")
    executor = installed[name]
    availability = executor.is_available()
    if not availability:
        raise ExecutorError(f"executor {name!r} is not available here: {availability.reason}")
    return executor
