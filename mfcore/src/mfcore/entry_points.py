"""Objects registered under an entry-point group (backends, executors), loaded lazily and safely.

A distribution that fails to import, or whose entry point names something of
the wrong kind, is kept as a :class:`BrokenEntry` with its error, so that
listings can show why and nothing else is affected.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class BrokenEntry:
    """An entry point that failed to load."""

    name: str
    distribution: str
    error: str


def load_group(group: str, kind: type[T]) -> tuple[dict[str, T], list[BrokenEntry]]:
    """Every ``group`` entry point as an instance of ``kind`` by its ``name`` attribute (classes are
    instantiated), sorted by name; the ones that fail to load, with their error."""
    loaded: dict[str, T] = {}
    broken: list[BrokenEntry] = []
    for ep in importlib.metadata.entry_points(group=group):
        dist = ep.dist.name if ep.dist else "?"
        try:
            obj: Any = ep.load()
            item = obj() if isinstance(obj, type) else obj
            if not isinstance(item, kind):
                raise TypeError(f"{ep.value} is not an mfcore.{kind.__name__}")
        except Exception as exc:  # a broken extension must not take the CLI down
            broken.append(BrokenEntry(ep.name, dist, f"{type(exc).__name__}: {exc}"))
            continue
        loaded[item.name] = item  # type: ignore[attr-defined]
    return dict(sorted(loaded.items())), broken
