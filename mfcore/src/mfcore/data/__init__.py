"""mf's data layer: LMDB dataset files and the ZeroMQ sample stream (thesis 3.2.2).

Plugins import these names from ``mfcore.data``; the modules behind them are
``store`` (dataset files), ``shards`` (sharded datasets: shard files and a
manifest, written by any executor), ``stream`` (worker processes),
``processes`` (children that die with their parent), ``serialize`` (the record
format, no pickle) and ``lmdb_pages`` (page checks before mapping).
"""

from __future__ import annotations

from . import serialize
from .lmdb_pages import check_pages
from .shards import ShardedDataset, open_dataset, read_json_file, sample_rng, shard_ranges, write_sharded
from .store import Dataset, DatasetWriter
from .stream import SampleStream, StreamError, WorkerDied, WorkerError, WorkerStalled

__all__ = [
    "Dataset",
    "DatasetWriter",
    "SampleStream",
    "ShardedDataset",
    "StreamError",
    "WorkerDied",
    "WorkerError",
    "WorkerStalled",
    "check_pages",
    "open_dataset",
    "read_json_file",
    "sample_rng",
    "serialize",
    "shard_ranges",
    "write_sharded",
]
