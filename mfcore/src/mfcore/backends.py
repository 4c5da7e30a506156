"""The backend registry: every ``mf.backends`` entry point, loaded lazily and safely."""

from __future__ import annotations

import functools
import importlib.metadata
from dataclasses import dataclass

from .backend import Backend
from .errors import BackendUnavailable

GROUP = "mf.backends"


@dataclass(frozen=True)
class BrokenBackend:
    """A backend entry point that failed to load, kept so listings can show why."""

    name: str
    distribution: str
    error: str


@functools.cache
def _load() -> tuple[dict[str, Backend], list[BrokenBackend]]:
    backends: dict[str, Backend] = {}
    broken: list[BrokenBackend] = []
    for ep in importlib.metadata.entry_points(group=GROUP):
        dist = ep.dist.name if ep.dist else "?"
        try:
            obj = ep.load()
            backend = obj() if isinstance(obj, type) else obj
            if not isinstance(backend, Backend):
                raise TypeError(f"{ep.value} is not an mfcore.Backend")
        except Exception as exc:  # a broken backend must not take the CLI down
            broken.append(BrokenBackend(ep.name, dist, f"{type(exc).__name__}: {exc}"))
            continue
        backends[backend.name] = backend
    return dict(sorted(backends.items())), broken


def all_backends() -> dict[str, Backend]:
    """Installed backends by name (available or not)."""
    return _load()[0]


def broken_backends() -> list[BrokenBackend]:
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
