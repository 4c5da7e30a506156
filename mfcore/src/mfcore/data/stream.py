"""Training samples synthesised by worker processes and streamed over ZeroMQ (thesis 3.2.2).

``SampleStream`` starts N worker processes; each runs a sample generator with
its own seed (spawned from one ``SeedSequence``) and PUSHes encoded samples to
the consumer's PULL socket. ZeroMQ's high-water marks
give back-pressure: a worker blocks once the consumer is ``hwm`` samples
behind.

The failure modes of earlier pipelines are handled explicitly:

* a worker exception is sent to the consumer and re-raised there as
  :class:`WorkerError` with the worker's traceback;
* a worker that dies without a word (killed, segfault, OOM) is noticed by the
  consumer within ``liveness_s`` seconds and raised as :class:`WorkerDied`;
* a worker that stops answering (SIGSTOP, a hung process) is noticed through
  heartbeats: each worker sends one every ``beat_s`` seconds from its own
  thread, and a worker silent for ``stall_s`` seconds of the consumer's waiting
  is raised as :class:`WorkerStalled`;
* workers never outlive the consumer: they die with it through
  ``PR_SET_PDEATHSIG`` on Linux, also watch their parent pid while blocked, and
  the consumer stops and reaps them on exit, Ctrl-C or error.

The channel is private to the run: the consumer binds an ``ipc://`` socket in a
fresh 0700 folder, so no other local user can connect (a loopback TCP port
would take messages from anyone on the machine). Every message is still checked
against the run before it is used (a worker number below N, each worker's
sequence numbers in order and within its share, a size cap, a decodable
sample), so even a buggy generator cannot corrupt a dataset silently: it ends
the run with :class:`StreamError`.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import shutil
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import msgpack
import numpy as np
import zmq

from ..errors import DatasetError, MfError
from . import serialize
from .processes import describe_exit, die_with_parent

Generator = Callable[[np.random.Generator], dict[str, np.ndarray]]

_SAMPLE, _DONE, _ERROR, _BEAT = 0, 1, 2, 3
#: Longest ``ipc://`` socket path Linux accepts (``sun_path`` holds 108 bytes with its NUL).
_IPC_PATH_MAX = 107


class WorkerError(MfError):
    """A worker's generator raised; the message carries the worker's traceback."""


class WorkerDied(MfError):
    """A worker process ended without finishing or reporting an error."""


class WorkerStalled(MfError):
    """A worker process is alive but has sent nothing, not even a heartbeat, for too long."""


class StreamError(MfError):
    """A message on the stream does not fit the run (wrong worker, sequence, size or encoding)."""


def _private_endpoint() -> tuple[str, str]:
    """An ``ipc://`` address inside a new folder only this user can enter: (address, folder)."""
    folder = tempfile.mkdtemp(prefix="mf-stream-")  # created 0700, exclusively
    if len(os.path.join(folder, "s")) > _IPC_PATH_MAX:  # a long TMPDIR: fall back to the system's
        os.rmdir(folder)
        folder = tempfile.mkdtemp(prefix="mf-stream-", dir="/tmp")
    return f"ipc://{os.path.join(folder, 's')}", folder


def _heartbeat(ctx: zmq.Context, address: str, worker: int, beat_s: float, stop: threading.Event) -> None:
    """Send a heartbeat every ``beat_s`` seconds on a socket of its own (sockets are not thread-safe).

    A beat that cannot leave at once (the consumer is far behind) is dropped: the
    consumer only needs to hear from a worker now and then, not every beat.
    """
    sock = ctx.socket(zmq.PUSH)
    sock.setsockopt(zmq.SNDHWM, 2)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(address)
    beat = [msgpack.packb((_BEAT, worker, 0)), b""]
    try:
        while not stop.wait(beat_s):
            with contextlib.suppress(zmq.Again):
                sock.send_multipart(beat, flags=zmq.NOBLOCK)
    finally:
        sock.close(linger=0)


def _worker_main(address: str, worker: int, generator: Generator, seed: np.random.SeedSequence,
                 count: int | None, hwm: int, parent_pid: int, stop: Any, beat_s: float,
                 max_bytes: int) -> None:
    """Body of one worker process."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the consumer's to handle

    def parent_gone() -> bool:
        return os.getppid() != parent_pid or stop.is_set()

    ctx = zmq.Context()
    sock = ctx.socket(zmq.PUSH)
    sock.setsockopt(zmq.SNDHWM, hwm)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(address)
    beating = threading.Event()
    beats = threading.Thread(target=_heartbeat, args=(ctx, address, worker, beat_s, beating), daemon=True)
    beats.start()

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
                if len(payload) > max_bytes:
                    raise StreamError(f"a sample of {len(payload)} bytes exceeds the stream's cap of {max_bytes} "
                                      "bytes (raise max_message_bytes)")
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
        beating.set()
        beats.join()
        sock.close(linger=0)
        ctx.term()


class SampleStream:
    """Iterate samples produced by ``workers`` processes running ``generator``.

    ``count`` is the total number of samples (split across workers); ``None`` streams
    forever. Use as a context manager so that workers are always reaped. A worker
    silent for ``stall_s`` seconds while the consumer waits is reported as stalled; a
    generator slower than that per sample still beats, so only a stopped or hung
    process trips it. ``max_message_bytes`` caps one encoded sample.
    """

    def __init__(self, generator: Generator, *, workers: int = 1, seed: int = 0, count: int | None = None,
                 hwm: int = 16, liveness_s: float = 0.5, start_method: str = "spawn", beat_s: float = 1.0,
                 stall_s: float = 120.0, max_message_bytes: int = 1 << 30) -> None:
        if workers < 1:
            raise MfError("the stream needs at least one worker")
        if stall_s <= beat_s:
            raise MfError(f"stall_s ({stall_s:g} s) must exceed the heartbeat interval beat_s ({beat_s:g} s)")
        self.generator = generator
        self.workers = workers
        self.seed = seed
        self.count = count
        self.hwm = hwm
        self.liveness_s = liveness_s
        self.beat_s = beat_s
        self.stall_s = stall_s
        self.max_message_bytes = max_message_bytes
        self.address = ""
        self._mp = mp.get_context(start_method)
        self._procs: list[Any] = []
        self._done: set[int] = set()
        self._next_seq = [0] * workers
        self._silent_s = [0.0] * workers
        self._folder: str | None = None
        self._ctx: zmq.Context | None = None
        self._sock: zmq.Socket | None = None
        self._stop: Any = None

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs]

    def share(self, worker: int) -> int | None:
        """How many samples ``worker`` produces (``None``: endless)."""
        if self.count is None:
            return None
        return self.count // self.workers + (worker < self.count % self.workers)

    def start(self) -> SampleStream:
        self.address, self._folder = _private_endpoint()
        self._ctx = zmq.Context()
        self._sock = self._ctx.socket(zmq.PULL)
        self._sock.setsockopt(zmq.RCVHWM, self.hwm)
        self._sock.setsockopt(zmq.LINGER, 0)
        # The payload plus a header of a few bytes; a larger message drops its sender's connection.
        self._sock.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes + 64)
        self._sock.bind(self.address)
        self._stop = self._mp.Event()
        seeds = np.random.SeedSequence(self.seed).spawn(self.workers)
        for i in range(self.workers):
            proc = self._mp.Process(
                target=_worker_main,
                args=(self.address, i, self.generator, seeds[i], self.share(i), self.hwm, os.getpid(), self._stop,
                      self.beat_s, self.max_message_bytes),
                name=f"mf-worker-{i}",
                daemon=True,
            )
            proc.start()
            self._procs.append(proc)
        return self

    def _check_workers(self) -> None:
        for i, proc in enumerate(self._procs):
            if i in self._done:
                continue
            if proc.exitcode is not None:
                raise WorkerDied(f"stream worker {i} (pid {proc.pid}) {describe_exit(proc.exitcode)} "
                                 "before finishing its samples")
            if self._silent_s[i] > self.stall_s:
                raise WorkerStalled(f"stream worker {i} (pid {proc.pid}) has sent nothing, not even a heartbeat, "
                                    f"for {self._silent_s[i]:.0f} s: it is stopped or hung")

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        for _, sample in self.indexed():
            yield sample

    def _message(self, frames: list[bytes]) -> tuple[int, int, int, bytes]:
        """Check a message against the run: (kind, worker, seq, payload), or :class:`StreamError`."""
        if len(frames) != 2:
            raise StreamError(f"stream message of {len(frames)} frames (expected a header and a payload)")
        header, payload = frames
        try:
            fields = msgpack.unpackb(header)
        except (ValueError, msgpack.UnpackException) as exc:
            raise StreamError(f"stream message with an unreadable header ({exc})") from exc
        if (not isinstance(fields, (list, tuple)) or len(fields) != 3
                or not all(type(f) is int for f in fields)):
            raise StreamError(f"stream message with a malformed header {fields!r:.80}")
        kind, worker, seq = fields
        if kind not in (_SAMPLE, _DONE, _ERROR, _BEAT):
            raise StreamError(f"stream message of unknown kind {kind}")
        if not 0 <= worker < self.workers:
            raise StreamError(f"stream message from worker {worker}, but this run has {self.workers} worker(s)")
        if worker in self._done and kind != _BEAT:  # a finished worker still beats until the run ends
            raise StreamError(f"stream message from worker {worker} after it reported done")
        if kind in (_SAMPLE, _DONE) and seq != self._next_seq[worker]:
            raise StreamError(f"stream worker {worker} sent sequence number {seq}, expected "
                              f"{self._next_seq[worker]}")
        share = self.share(worker)
        if kind == _SAMPLE and share is not None and seq >= share:
            raise StreamError(f"stream worker {worker} sent sample {seq} beyond its share of {share}")
        if kind == _DONE and seq != share:
            raise StreamError(f"stream worker {worker} reported done after {seq} of its {share} samples")
        return kind, worker, seq, payload

    def indexed(self) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        """Yield ``(index, sample)``; the index is fixed by worker and sequence number.

        Worker ``w`` produces samples ``w, w + N, w + 2N, ...`` of the stream, so a
        dataset written by index is the same whatever order the samples arrive in.
        """
        if self._sock is None:
            self.start()
        assert self._sock is not None
        last_check = waiting_since = time.monotonic()

        def waited() -> float:
            # Only time spent waiting here counts as silence: a slow consumer is not a stalled worker.
            nonlocal waiting_since
            now = time.monotonic()
            self._silent_s = [s + now - waiting_since for s in self._silent_s]
            waiting_since = now
            return now

        while len(self._done) < self.workers:
            now = waited()
            if now - last_check > self.liveness_s:
                self._check_workers()
                last_check = now
            if not self._sock.poll(int(self.liveness_s * 1000)):
                continue
            kind, worker, seq, payload = self._message(self._sock.recv_multipart(copy=True))
            self._silent_s[worker] = 0.0
            if kind == _SAMPLE:
                try:
                    sample = serialize.decode(payload, verify=False)
                except DatasetError as exc:
                    raise StreamError(f"stream worker {worker} sent an undecodable sample {seq}: {exc}") from exc
                self._next_seq[worker] += 1
                waited()
                yield seq * self.workers + worker, sample
                waiting_since = time.monotonic()
            elif kind == _DONE:
                self._done.add(worker)
            elif kind == _ERROR:
                raise WorkerError(f"stream worker {worker} raised:\n{payload.decode(errors='replace').rstrip()}")

    def close(self, timeout: float = 2.0) -> None:
        """Stop every worker: ask, then SIGTERM, then SIGKILL; always reap and remove the socket's folder."""
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
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> SampleStream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
