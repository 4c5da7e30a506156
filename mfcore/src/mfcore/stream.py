"""Training samples synthesised by worker processes and streamed over ZeroMQ (thesis 3.2.2).

``SampleStream`` starts N worker processes; each runs a sample generator with
its own seed (spawned from one ``SeedSequence``) and PUSHes encoded samples to
the consumer's PULL socket on the loopback interface. ZeroMQ's high-water marks
give back-pressure: a worker blocks once the consumer is ``hwm`` samples
behind.

The failure modes of earlier pipelines are handled explicitly:

* a worker exception is sent to the consumer and re-raised there as
  :class:`WorkerError` with the worker's traceback;
* a worker that dies without a word (killed, segfault, OOM) is noticed by the
  consumer within ``liveness_s`` seconds and raised as :class:`WorkerDied`;
* workers never outlive the consumer: they die with it through
  ``PR_SET_PDEATHSIG`` on Linux, also watch their parent pid while blocked, and
  the consumer stops and reaps them on exit, Ctrl-C or error.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import msgpack
import numpy as np
import zmq

from . import serialize
from .errors import MfError

Generator = Callable[[np.random.Generator], dict[str, np.ndarray]]

_SAMPLE, _DONE, _ERROR = 0, 1, 2


class WorkerError(MfError):
    """A worker's generator raised; the message carries the worker's traceback."""


class WorkerDied(MfError):
    """A worker process ended without finishing or reporting an error."""


def _die_with_parent(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _worker_main(address: str, worker: int, generator: Generator, seed: np.random.SeedSequence,
                 count: int | None, hwm: int, parent_pid: int, stop: Any) -> None:
    """Body of one worker process."""
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the consumer's to handle

    def parent_gone() -> bool:
        return os.getppid() != parent_pid or stop.is_set()

    ctx = zmq.Context()
    sock = ctx.socket(zmq.PUSH)
    sock.setsockopt(zmq.SNDHWM, hwm)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(address)

    def send(kind: int, seq: int, payload: bytes) -> bool:
        frames = [msgpack.packb((kind, worker, seq)), payload]
        while not parent_gone():
            if sock.poll(200, zmq.POLLOUT):
                sock.send_multipart(frames, copy=False)
                return True
        return False

    try:
        rng = np.random.default_rng(seed)
        seq = 0
        while count is None or seq < count:
            try:
                sample = generator(rng)
                payload = serialize.encode(sample)
            except Exception:
                send(_ERROR, seq, traceback.format_exc().encode())
                break
            if not send(_SAMPLE, seq, payload):
                break
            seq += 1
        else:
            send(_DONE, seq, b"")
        # Stay alive until the consumer is done so queued messages are not dropped on exit.
        while not parent_gone():
            time.sleep(0.05)
    finally:
        sock.close(linger=0)
        ctx.term()


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "is still running"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class SampleStream:
    """Iterate samples produced by ``workers`` processes running ``generator``.

    ``count`` is the total number of samples (split across workers); ``None`` streams
    forever. Use as a context manager so that workers are always reaped.
    """

    def __init__(self, generator: Generator, *, workers: int = 1, seed: int = 0, count: int | None = None,
                 hwm: int = 16, liveness_s: float = 0.5, start_method: str = "spawn") -> None:
        if workers < 1:
            raise MfError("the stream needs at least one worker")
        self.generator = generator
        self.workers = workers
        self.seed = seed
        self.count = count
        self.hwm = hwm
        self.liveness_s = liveness_s
        self._mp = mp.get_context(start_method)
        self._procs: list[Any] = []
        self._done: set[int] = set()
        self._ctx: zmq.Context | None = None
        self._sock: zmq.Socket | None = None
        self._stop: Any = None

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs]

    def start(self) -> SampleStream:
        self._ctx = zmq.Context()
        self._sock = self._ctx.socket(zmq.PULL)
        self._sock.setsockopt(zmq.RCVHWM, self.hwm)
        self._sock.setsockopt(zmq.LINGER, 0)
        port = self._sock.bind_to_random_port("tcp://127.0.0.1")
        address = f"tcp://127.0.0.1:{port}"
        self._stop = self._mp.Event()
        seeds = np.random.SeedSequence(self.seed).spawn(self.workers)
        for i in range(self.workers):
            share = None if self.count is None else self.count // self.workers + (i < self.count % self.workers)
            proc = self._mp.Process(
                target=_worker_main,
                args=(address, i, self.generator, seeds[i], share, self.hwm, os.getpid(), self._stop),
                name=f"mf-worker-{i}",
                daemon=True,
            )
            proc.start()
            self._procs.append(proc)
        return self

    def _check_workers(self) -> None:
        for i, proc in enumerate(self._procs):
            if i not in self._done and proc.exitcode is not None:
                raise WorkerDied(f"stream worker {i} (pid {proc.pid}) {_describe_exit(proc.exitcode)} "
                                 "before finishing its samples")

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        for _, sample in self.indexed():
            yield sample

    def indexed(self) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        """Yield ``(index, sample)``; the index is fixed by worker and sequence number.

        Worker ``w`` produces samples ``w, w + N, w + 2N, ...`` of the stream, so a
        dataset written by index is the same whatever order the samples arrive in.
        """
        if self._sock is None:
            self.start()
        assert self._sock is not None
        last_check = time.monotonic()
        while len(self._done) < self.workers:
            if time.monotonic() - last_check > self.liveness_s:
                self._check_workers()
                last_check = time.monotonic()
            if not self._sock.poll(int(self.liveness_s * 1000)):
                continue
            header, payload = self._sock.recv_multipart(copy=True)
            kind, worker, seq = msgpack.unpackb(header)
            if kind == _SAMPLE:
                yield seq * self.workers + worker, serialize.decode(payload, verify=False)
            elif kind == _DONE:
                self._done.add(worker)
            else:
                raise WorkerError(f"stream worker {worker} raised:\n{payload.decode(errors='replace').rstrip()}")

    def close(self, timeout: float = 2.0) -> None:
        """Stop every worker: ask, then SIGTERM, then SIGKILL; always reap."""
        if self._stop is not None:
            self._stop.set()
        deadline = time.monotonic() + timeout
        for proc in self._procs:
            proc.join(max(0.0, deadline - time.monotonic()))
        for proc in self._procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout)
            if proc.is_alive():
                proc.kill()
                proc.join()
        self._procs.clear()
        if self._sock is not None:
            self._sock.close(linger=0)
            self._sock = None
        if self._ctx is not None:
            self._ctx.term()
            self._ctx = None

    def __enter__(self) -> SampleStream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
