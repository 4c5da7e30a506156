"""Picture sheets of polarisation triples and their layers, like the thesis's figure 5.11.

A row shows one triple: the three observations, the true T and R, and (given
a network) its estimates T̂ and R̂. ``mf train reflect`` writes such a sheet of
training samples into its run folder whenever the validation improves, so the
data a pipeline produces and what the network makes of it can be looked at;
``mf bench reflect --sheet`` writes one for the shipped weights, and the
benchmark's strip reuses the tiling.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .methods import Method, separate_with
from .synthesis import reflection_sample

#: Gamma used to show linear intensities.
VIEW_GAMMA = 2.2
#: White gap between cells, in pixels.
GAP = 4


def tile(rows: list[list[np.ndarray | None]]) -> np.ndarray:
    """Linear (H, W, 3) images in rows (``None``: an empty cell) as one gamma-encoded picture with white gaps."""
    size = next(cell for row in rows for cell in row if cell is not None).shape[:2]
    columns = max(len(row) for row in rows)
    blank = np.ones((*size, 3), np.float32)
    lines = []
    for row in rows:
        cells = [blank if cell is None else np.clip(cell, 0, 1) ** (1 / VIEW_GAMMA) for cell in row]
        cells += [blank] * (columns - len(cells))
        gaps = [np.ones((size[0], GAP, 3), np.float32)] * len(cells)
        lines.append(np.concatenate([x for pair in zip(cells, gaps) for x in pair][:-1], axis=1))
    gap = np.ones((GAP, lines[0].shape[1], 3), np.float32)
    return np.concatenate([x for pair in zip(lines, [gap] * len(lines)) for x in pair][:-1], axis=0)


def sample_sheet(samples: list[dict[str, np.ndarray]], model: Any = None) -> np.ndarray:
    """One row per triple: I at each angle, true T, true R, then the network's T̂ and R̂ when ``model`` is given."""
    rows: list[list[np.ndarray | None]] = []
    for s in samples:
        row = [*s["observations"], s["transmission"], s["reflection"]]
        if model is not None:
            r, t = separate_with(Method.net, s["observations"], s["angles"].astype(np.float64), model)
            row += [t, r]
        rows.append(row)
    return tile(rows)


def training_samples(seed: int, count: int = 4, size: int = 128, **params: Any) -> list[dict[str, np.ndarray]]:
    """``count`` fixed triples from the synthesiser with ``params`` (a pipeline's switches, ``images``)."""
    rng = np.random.default_rng(seed)
    return [reflection_sample(rng, size=size, **params) for _ in range(count)]
