"""The ``local`` executor: ``workers`` processes of this machine, each running one item at a time.

Each worker is a spawned process with a pipe of its own. mf hands it one item,
waits for its answer, then hands it the next, so it always knows which item a
process is running: when one dies (killed, out of memory), mf says how it
ended, starts a fresh worker and reruns only that item, and a crash never takes
another item's result with it. Workers live as long as the pool, so NumPy and
the generator's plugin are imported once per worker, not once per item. They
die with the parent (``PR_SET_PDEATHSIG``), and a worker still busy when the
caller stops early, fails or is interrupted is killed and reaped.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from ..backend import Availability
from ..data.processes import describe_exit, die_with_parent
from ..errors import InputError, MfError
from ..executor import Executor, ExecutorError, Pool


def _serve(conn: Connection, parent_pid: int) -> None:
    """Body of a worker: answer each (fn, item) with ("ok", result) or ("error", message) until told to stop."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        fn, item = job
        try:
            message: tuple[str, Any] = ("ok", fn(item))
        except MfError as exc:
            message = ("error", str(exc))
        except Exception as exc:
            message = ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        conn.send(message)


@dataclass
class _Worker:
    proc: Any
    conn: Connection
    item: int = -1

    def stop(self, kill: bool) -> None:
        with contextlib.suppress(OSError, ValueError):
            if kill:
                self.proc.kill()
            else:
                self.conn.send(None)
        self.proc.join(None if kill else 5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


class LocalPool(Pool):
    """Up to ``workers`` worker processes on this machine, started as items need them."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise InputError("the local executor needs at least one worker")
        self.workers = workers
        self._ctx = mp.get_context("spawn")  # a forked child would inherit the parent's threads and LMDB maps
        self._idle: list[_Worker] = []

    def _spawn(self) -> _Worker:
        mine, theirs = self._ctx.Pipe()
        proc = self._ctx.Process(target=_serve, args=(theirs, os.getpid()), daemon=True)
        proc.start()
        theirs.close()
        return _Worker(proc, mine)

    def map_unordered(self, fn: Callable[[Any], Any], items: Sequence[Any],
                      retries: int = 2) -> Iterator[tuple[int, Any]]:
        queue = deque(range(len(items)))
        tries: Counter[int] = Counter()
        busy: list[_Worker] = []
        try:
            while queue or busy:
                while queue and len(busy) < self.workers:
                    worker = self._idle.pop() if self._idle else self._spawn()
                    worker.item = queue.popleft()
                    busy.append(worker)
                    try:
                        worker.conn.send((fn, items[worker.item]))
                    except (BrokenPipeError, ConnectionResetError):  # it died while idle: noticed below
                        pass
                ready = set(wait([w.conn for w in busy] + [w.proc.sentinel for w in busy]))
                for worker in [w for w in busy if w.conn in ready or w.proc.sentinel in ready]:
                    busy.remove(worker)
                    try:
                        message = worker.conn.recv()
                    except (EOFError, OSError):  # died before it could answer
                        worker.stop(kill=True)
                        tries[worker.item] += 1
                        if tries[worker.item] > retries:
                            raise ExecutorError(f"item {worker.item}: its worker process "
                                                f"{describe_exit(worker.proc.exitcode)} on each of "
                                                f"{tries[worker.item]} tries") from None
                        queue.append(worker.item)
                        continue
                    self._idle.append(worker)
                    if message[0] == "error":
                        raise ExecutorError(f"item {worker.item} failed: {message[1]}")
                    yield worker.item, message[1]
        finally:
            for worker in busy:  # stopped early or failed: their items are not wanted
                worker.stop(kill=True)

    def close(self) -> None:
        while self._idle:
            self._idle.pop().stop(kill=False)


class LocalExecutor(Executor):
    name = "local"
    package = "mf-core"
    summary = "worker processes on this machine"

    def is_available(self) -> Availability:
        return Availability(True)

    def start(self, workers: int, address: str | None = None) -> Pool:
        if address is not None:
            raise InputError("the local executor runs on this machine; --address is for an executor that joins a "
                             "cluster (e.g. ray)")
        return LocalPool(workers)
