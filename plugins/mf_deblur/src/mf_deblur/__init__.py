"""mf_deblur: burst and video deblurring for mf (thesis chapter 6).

The library API, importable without Keras (the network's module imports it on use):
``fba`` (Fourier Burst Accumulation), ``deblur`` (the Recurrent Deblur Network on a
sequence, target first), ``sharpest_first`` (a burst in the order ``mf run deblur``
gives the network), ``load_rdn`` (the shipped or your own weights), and the
synthesisers ``gp_kernel``, ``synthesize_burst`` and ``blur_from_video``.

Each name is imported on first use, so loading and running the network never
imports the training-data synthesisers (nor they the network).
"""

from __future__ import annotations

import importlib
from typing import Any

_API = {
    "blur_from_video": ".synthesis.motion_blur",
    "deblur": ".inference",
    "fba": ".baselines.fba",
    "gp_kernel": ".synthesis.kernels",
    "load_rdn": ".model_io",
    "sharpest_first": ".order",
    "synthesize_burst": ".synthesis.burst",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_API[name], __name__), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
