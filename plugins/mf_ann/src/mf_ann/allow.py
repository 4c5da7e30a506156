"""Allow-lists: search restricted to some of the indexed ids (filtering, FAISS's ``IDSelector``).

An allow-list is either a boolean mask indexed by id (``mask[id]``: ids at or past its end, and negative ids,
are not allowed) or an array of the allowed ids, in any order. Either becomes one flag per stored vector,
in storage order, which the search paths read as they gather candidates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mfcore import InputError

#: What ``PQTIndex.search(allow=...)`` accepts: a NumPy boolean mask over ids or an integer array of ids.
AllowList = Any


def allowed_positions(allow: AllowList, ids: np.ndarray) -> np.ndarray:
    """One bool per stored vector (``ids`` in storage order): whether ``allow`` admits its id."""
    allow = np.asarray(allow)
    if allow.ndim != 1:
        raise InputError(f"an allow-list must be 1-D (a mask over ids or an array of ids), got shape {allow.shape}")
    if allow.dtype == np.bool_:
        inside = (ids >= 0) & (ids < len(allow))
        admitted = np.zeros(len(ids), np.bool_)
        admitted[inside] = allow[ids[inside]]
        return admitted
    if allow.size == 0:
        return np.zeros(len(ids), np.bool_)
    if allow.dtype.kind not in "iu":
        raise InputError(f"an allow-list holds integer ids or is a boolean mask, not {allow.dtype}")
    return np.isin(ids, allow)
