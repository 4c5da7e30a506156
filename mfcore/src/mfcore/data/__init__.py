"""mf's data layer: LMDB dataset files and the ZeroMQ sample stream (thesis 3.2.2).

Plugins import these names from ``mfcore.data``; the modules behind them are
``store`` (dataset files), ``stream`` (worker processes), ``serialize`` (the
record format, no pickle) and ``lmdb_pages`` (page checks before mapping).
"""

from __future__ import annotations

from . import serialize
from .lmdb_pages import check_pages
from .store import Dataset, DatasetWriter
from .stream import SampleStream, StreamError, WorkerDied, WorkerError, WorkerStalled

__all__ = [
    "Dataset",
    "DatasetWriter",
    "SampleStream",
    "StreamError",
    "WorkerDied",
    "WorkerError",
    "WorkerStalled",
    "check_pages",
    "serialize",
]
