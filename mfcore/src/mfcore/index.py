"""Vector index types: nearest-neighbour structures plugins provide through the ``mf_indexes`` hook.

A task that needs nearest neighbours (``mf sync collection`` over a video
collection's frame features) asks the core for an index with
:func:`mfcore.index_type` instead of importing a plugin: it gets the
Product Quantization Tree when ``mf-ann`` is installed, and the core's exact
(brute-force) index otherwise, or the one the user names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class SearchIndex(Protocol):
    """What an index type's ``build`` returns."""

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(distances, ids), each (n_queries, k); ids are row numbers of the built vectors, -1 where fewer exist."""
        ...


@dataclass(frozen=True)
class IndexSpec:
    """A vector index type.

    ``build(vectors)`` indexes float32 vectors of shape (n, d) and returns a
    :class:`SearchIndex`; it chooses its own parameters for the size of the set.
    ``exact`` marks an index that returns the true nearest neighbours (the
    fallback when no approximate index is installed).
    """

    name: str
    summary: str
    build: Callable[[np.ndarray], SearchIndex]
    exact: bool = False
