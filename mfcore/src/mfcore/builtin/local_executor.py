"""The ``local`` executor: each item in a fresh process of this machine, ``workers`` at a time.

One process per item (not a long-lived pool) is what makes the contract of
:mod:`mfcore.executor` exact: when a process dies, mf knows which item it was
running and how it ended, reruns only that item, and a crash never takes the
other items' results with it. Items are coarse (a shard of 1,000 samples), so a
process start (about a second to import NumPy and the generator's plugin) is a
small part of each. Children die with the parent (``PR_SET_PDEATHSIG``) and are
killed and reaped when the caller stops early, fails or is interrupted.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from ..backend import Availability
from ..data.processes import describe_exit, die_with_parent
from ..errors import InputError, MfError
from ..executor import Executor, ExecutorError, Pool


def _child(conn: Connection, fn: Callable[[Any], Any], item: Any, parent_pid: int) -> None:
    """Body of one task process: run ``fn(item)`` and send ("ok", result) or ("error", message)."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        message: tuple[str, Any] = ("ok", fn(item))
    except MfError as exc:
        message = ("error", str(exc))
    except Exception as exc:
        message = ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    conn.send(message)
    conn.close()


class LocalPool(Pool):
    """Up to ``workers`` task processes at a time on this machine."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise InputError("the local executor needs at least one worker")
        self.workers = workers
        self._ctx = mp.get_context("spawn")  # a forked child would inherit the parent's threads and LMDB maps

    def map_unordered(self, fn: Callable[[Any], Any], items: Sequence[Any],
                      retries: int = 2) -> Iterator[tuple[int, Any]]:
        queue = deque(range(len(items)))
        tries: Counter[int] = Counter()
        running: dict[int, tuple[Any, Connection]] = {}
        try:
            while queue or running:
                while queue and len(running) < self.workers:
                    i = queue.popleft()
                    receive, send = self._ctx.Pipe(duplex=False)
                    proc = self._ctx.Process(target=_child, args=(send, fn, items[i], os.getpid()), daemon=True)
                    proc.start()
                    send.close()
                    running[i] = (proc, receive)
                ready = set(wait([c for _, c in running.values()] + [p.sentinel for p, _ in running.values()]))
                for i, (proc, receive) in list(running.items()):
                    if receive not in ready and proc.sentinel not in ready:
                        continue
                    message = None
                    try:
                        if receive.poll():
                            message = receive.recv()
                    except (EOFError, OSError):  # died before it could answer
                        message = None
                    del running[i]
                    receive.close()
                    proc.join()
                    if message is None:
                        tries[i] += 1
                        if tries[i] > retries:
                            raise ExecutorError(f"item {i}: its worker process {describe_exit(proc.exitcode)} on "
                                                f"each of {tries[i]} tries")
                        queue.append(i)
                    elif message[0] == "error":
                        raise ExecutorError(f"item {i} failed: {message[1]}")
                    else:
                        yield i, message[1]
        finally:
            for proc, receive in running.values():
                proc.kill()
                proc.join()
                receive.close()

    def close(self) -> None:
        """Nothing outlives :meth:`map_unordered`: its processes are reaped there."""


class LocalExecutor(Executor):
    name = "local"
    package = "mf-core"
    summary = "processes on this machine, one per item"

    def is_available(self) -> Availability:
        return Availability(True)

    def start(self, workers: int, address: str | None = None) -> Pool:
        if address is not None:
            raise InputError("the local executor runs on this machine; --address is for an executor that joins a "
                             "cluster (e.g. ray)")
        return LocalPool(workers)
