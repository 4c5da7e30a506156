"""Every separation method behind one call, for ``mf run reflect``, the benchmark and the demo."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

import numpy as np

from .baselines import farid_separation, pane_separation, schechner_separation
from .baselines.pane import AGREEMENT, fit_view
from .canonical import canonical_projection
from .inference import separate
from .orientation import orient


class Method(str, Enum):
    auto = "auto"
    net = "net"
    canonical = "canonical"
    schechner = "schechner"
    pane = "pane"
    farid = "farid"


#: What ``mf run reflect`` uses without ``--method``: the method that wins on the independent validation set of
#: ``mf bench reflect`` (docs/benchmarks/reflect.md), learned or not. ``auto`` keeps the physics where the
#: captures show it holds and uses the network where it does not; the network alone falls dB below the pane's
#: separation on flat panes, the pane below the network on strongly curved glass.
DEFAULT = Method.auto
#: The methods that run the network (and need its weights).
LEARNED = (Method.auto, Method.net)


def default_method(network: bool) -> Method:
    """The method ``mf run reflect`` uses without ``--method``: :data:`DEFAULT`, or the pane's where that needs the
    network and the network cannot run (no weights, no Keras backend)."""
    return Method.pane if DEFAULT in LEARNED and not network else DEFAULT


def physics_holds(images: np.ndarray, angles: Sequence[float]) -> bool:
    """Whether the angles of polarisation of images (N, H, W, C) are those of one pane (flat, or gently curved).

    Then the pane's separation inverts the physics itself, up to sensor noise,
    and a learned correction can only lose (it does on every flat pane of the
    independent synthesiser). Where they are not (strongly curved glass,
    several surfaces, polarised light sources), no uniform or perspective AOI
    explains the capture and the network, trained on curved glass, does better.
    """
    oriented, psi = orient(images, angles)
    return fit_view(oriented, angles, psi).agreement >= AGREEMENT


#: Names used in tables, after the thesis's table 5.1.
LABELS = {Method.auto: "pane where one pane fits, else network", Method.farid: "Farid & Adelson (ICA)", Method.schechner: "Schechner et al. (AOI search)",
          Method.pane: "flat pane in perspective (AOI field)",
          Method.canonical: "canonical projection", Method.net: "mf_reflect network"}


def separate_with(method: Method, images: np.ndarray, angles: Sequence[float], model: Any = None,
                  tile: int | None = None, overlap: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """(R̂, T̂) of linear polarisation images (N, H, W, C) at ``angles`` (radians), clipped to [0, 1].

    The canonical projection and Schechner's search run in the frame of the
    reflection's polarisation (:mod:`mf_reflect.orientation`), not the
    polariser's: otherwise a reflection polarised beyond ±45° of the polariser's
    0° (a window seen from the side) comes out as the transmission.
    """
    if method is Method.auto:
        method = Method.pane if model is None or physics_holds(images, angles) else Method.net
    if method is Method.net:
        r, t = separate(model, images, angles, tile, overlap)  # orients the images itself
    elif method is Method.canonical:
        r, t, _ = canonical_projection(orient(images, angles)[0], angles)
    elif method is Method.schechner:
        r, t, _ = schechner_separation(orient(images, angles)[0], angles)
    elif method is Method.pane:
        oriented, psi = orient(images, angles)
        r, t, _ = pane_separation(oriented, angles, psi)
    else:
        r, t = farid_separation(images, angles)  # ICA needs no frame
    return np.clip(r, 0.0, 1.0).astype(np.float32), np.clip(t, 0.0, 1.0).astype(np.float32)
