"""The backend registry: every ``mf.backends`` entry point, loaded lazily and safely."""

from __future__ import annotations

import functools

from .backend import Backend
from .entry_points import BrokenEntry, load_group
from .errors import BackendUnavailable

GROUP = "mf.backends"


@functools.cache
def _load() -> tuple[dict[str, Backend], list[BrokenEntry]]:
    return load_group(GROUP, Backend)


def all_backends() -> dict[str, Backend]:
    """Installed backends by name (available or not)."""
    return _load()[0]


def broken_backends() -> list[BrokenEntry]:
    return _load()[1]


def get_backend(name: str, supported: tuple[str, ...] | None = None, what: str = "") -> Backend:
    """Return the named backend, ready to use, or raise one clear :class:`BackendUnavailable`."""
    if supported is not None and name not in supported:
        raise BackendUnavailable(f"{what or 'this command'} does not support backend {name!r}; "
                                 f"use one of: {', '.join(supported)}")
    installed = all_backends()
    if name not in installed:
        raise BackendUnavailable(f"backend {name!r} is not installed (installed: {', '.join(installed) or 'none'}); "
                                 f"pip install mf-backend-{name}")
    backend = installed[name]
    availability = backend.is_available()
    if not availability:
        raise BackendUnavailable(f"backend {name!r} is not available here: {availability.reason}")
    return backend
