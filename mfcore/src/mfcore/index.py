"""Index specifications: approximate nearest-neighbour structures a plugin provides."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class IndexSpec:
    """A vector index type.

    ``build(vectors, backend, **params)`` returns an object with
    ``search(queries, k) -> (distances, ids)``; vectors and queries are float32
    NumPy arrays of shape (n, d).
    """

    name: str
    summary: str
    build: Callable[..., Any]
    params: Mapping[str, Any] = field(default_factory=dict)
