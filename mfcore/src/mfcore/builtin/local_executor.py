"""The ``local`` executor: ``workers`` processes of this machine, each running one item at a time.

Each worker is a spawned process with a pipe of its own. mf hands it one item,
waits for its answer, then hands it the next, so it always knows which item a
process is running: when one dies (killed, out of memory), mf says how it
ended, starts a fresh worker and reruns only that item, and a crash never takes
another item's result with it. Workers live as long as the pool, so NumPy and
the generator's plugin are imported once per worker, not once per item. They
die with the parent (``PR_SET_PDEATHSIG``), and a worker still busy when the
caller stops early, fails or is interrupted is killed and reaped.

:meth:`LocalPool.hold` starts workers of the same kind, each keeping its share
of the objects in a module-level list between questions (one list per
process). A holder that dies is started again and reloads its share before it
is asked again; one that is mid-question when the caller stops or fails is
killed, so no stale answer is ever read.
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
from ..executor import Executor, ExecutorError, Holders, Pool, ask_held, load_held

#: What this process holds when it is a holder worker: ``(position, object)`` pairs.
_HELD: list[tuple[int, Any]] = []


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


def _hold(job: tuple[Callable[[Any], Any], list[tuple[int, Any]]]) -> None:
    """Run in a holder worker: load its share (the previous one let go first)."""
    _HELD.clear()
    _HELD.extend(load_held(*job))


def _ask(job: tuple[Callable[[Any, Any], Any], Any]) -> list[tuple[int, Any]]:
    """Run in a holder worker: the question put to each object it holds."""
    return ask_held(job[0], job[1], _HELD)


def _send(worker: _Worker, job: tuple[Callable[[Any], Any], Any]) -> None:
    try:
        worker.conn.send(job)
    except (BrokenPipeError, ConnectionResetError):  # it died: its sentinel says so to whoever waits on it
        pass


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
                    _send(worker, (fn, items[worker.item]))  # one that died while idle is noticed below
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

    def hold(self, load: Callable[[Any], Any], items: Sequence[Any], retries: int = 2) -> Holders:
        return LocalHolders(self, load, items, retries)

    def close(self) -> None:
        while self._idle:
            self._idle.pop().stop(kill=False)


class LocalHolders(Holders):
    """Holder workers of a :class:`LocalPool`; worker ``h`` holds items ``h, h + n, h + 2n, ...``."""

    def __init__(self, pool: LocalPool, load: Callable[[Any], Any], items: Sequence[Any], retries: int) -> None:
        if not items:
            raise InputError("nothing to hold")
        count = min(pool.workers, len(items))
        self._loads = [(_hold, (load, [(i, items[i]) for i in range(h, len(items), count)])) for h in range(count)]
        self._spawn = pool._spawn
        self._retries = retries
        self._workers: list[_Worker | None] = [None] * count
        try:
            for _ in self._call(None):  # every holder started and loaded, or one clear error
                pass
        except BaseException:
            self.close()
            raise

    def ask(self, fn: Callable[[Any, Any], Any], arg: Any) -> Iterator[tuple[int, Any]]:
        for answers in self._call((_ask, (fn, arg))):
            yield from answers

    def _call(self, job: tuple[Callable[[Any], Any], Any] | None) -> Iterator[Any]:
        """Run ``job`` on every holder, (re)starting and loading those not running first; yield each answer."""
        steps: dict[int, deque[tuple[Callable[[Any], Any], Any]]] = {}
        for h in range(len(self._workers)):
            steps[h] = deque([] if job is None else [job])
            if self._workers[h] is None:
                self._workers[h] = self._spawn()
                steps[h].appendleft(self._loads[h])
            if steps[h]:
                _send(self._held_by(h), steps[h][0])
            else:
                del steps[h]
        tries: Counter[int] = Counter()
        try:
            while steps:
                handles = {}
                for h in steps:
                    handles[self._held_by(h).conn] = handles[self._held_by(h).proc.sentinel] = h
                for h in {handles[ready] for ready in wait(list(handles))}:
                    worker = self._held_by(h)
                    try:
                        message = worker.conn.recv()
                    except (EOFError, OSError):  # died: start it again, reload, and resend what it was doing
                        worker.stop(kill=True)
                        tries[h] += 1
                        if tries[h] > self._retries:
                            self._workers[h] = None
                            raise ExecutorError(f"holder {h}: its worker process {describe_exit(worker.proc.exitcode)}"
                                                f" on each of {tries[h]} tries") from None
                        self._workers[h] = self._spawn()
                        if steps[h][0] is not self._loads[h]:
                            steps[h].appendleft(self._loads[h])
                        _send(self._held_by(h), steps[h][0])
                        continue
                    if message[0] == "error":
                        raise ExecutorError(message[1])
                    done = steps[h].popleft()
                    if steps[h]:
                        _send(worker, steps[h][0])
                    else:
                        del steps[h]
                    if done is job:
                        yield message[1]
        finally:
            for h in steps:  # mid-step when the caller stopped or a holder failed: its next answer would be stale
                worker = self._workers[h]
                if worker is not None:
                    worker.stop(kill=True)
                    self._workers[h] = None

    def _held_by(self, h: int) -> _Worker:
        worker = self._workers[h]
        assert worker is not None
        return worker

    def close(self) -> None:
        for h, worker in enumerate(self._workers):
            if worker is not None:
                worker.stop(kill=False)
                self._workers[h] = None


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
