"""The ``ray`` executor: each item a Ray task, on a local cluster or one joined with ``--address``.

Ray (not a home-made scheduler) because it already does what mf needs past one
machine: tasks scheduled over every node's cores, a task rerun when its worker
or node dies, actors to hold state such as index shards, and the same code on a
laptop and on a cluster.

Without ``--address`` a private local cluster is started for the run and shut
down after it: its services listen on the loopback interface only, and Ray
(2.59 and later) protects a local cluster with a token of its own. With
``--address HOST:PORT`` (or ``auto``) an existing cluster is joined; every node
must have the same mf packages installed, and outputs must go to a file system
every node sees.

:meth:`RayPool.hold` keeps objects (index shards) in Ray actors, spread over
the nodes, one CPU each; an actor that dies is restarted by Ray, which reloads
its objects, and the question it was asked is asked again.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import socket
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from mfcore import Availability, Executor, ExecutorError, Holders, InputError, Pool, ask_held, load_held

#: How long joining a cluster may take before mf says it cannot be reached.
CONNECT_TIMEOUT_S = 10.0


def _check_reachable(address: str) -> None:
    """Fail in one line, and fast, when a HOST:PORT address does not answer (Ray itself retries for minutes)."""
    if address == "auto" or "://" in address:
        return
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise InputError(f"--address {address!r}: expected HOST:PORT of a Ray cluster's head node, or 'auto'")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise ExecutorError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from exc


class RayPool(Pool):
    """Ray tasks of one cluster; shuts down the local cluster it started, and only that."""

    def __init__(self, workers: int, address: str | None) -> None:
        import ray

        if workers < 1:
            raise InputError("the ray executor needs at least one worker")
        self.workers = workers
        self._ray = ray
        self._started = False
        if ray.is_initialized():  # a caller (a notebook, a test) already chose the cluster
            return
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                   "logging_level": logging.ERROR, "configure_logging": False}
        if address is None:
            options |= {"num_cpus": workers, "_node_ip_address": "127.0.0.1"}
        else:
            _check_reachable(address)
            options["address"] = address
        try:
            ray.init(**options)
        except Exception as exc:  # ConnectionError, RuntimeError, ValueError: all mean "no cluster"
            where = f"join the Ray cluster at {address}" if address else "start a local Ray cluster"
            raise ExecutorError(f"cannot {where}: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}")
        self._started = True

    def map_unordered(self, fn: Callable[[Any], Any], items: Sequence[Any],
                      retries: int = 2) -> Iterator[tuple[int, Any]]:
        ray = self._ray
        remote = ray.remote(num_cpus=1, max_retries=retries, retry_exceptions=False)(fn)
        refs = {remote.remote(item): i for i, item in enumerate(items)}
        try:
            while refs:
                done, _ = ray.wait(list(refs), num_returns=1)
                i = refs.pop(done[0])
                try:
                    result = ray.get(done[0])
                except ray.exceptions.RayTaskError as exc:  # the function raised: deterministic, not retried
                    cause = exc.cause if exc.cause is not None else exc
                    raise ExecutorError(f"item {i} failed: {type(cause).__name__}: {cause}") from exc
                except ray.exceptions.RayError as exc:  # its worker or node died on every try
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    raise ExecutorError(f"item {i}: its Ray worker died on each of {retries + 1} tries ({first})"
                                        ) from exc
                yield i, result
        finally:
            for ref in refs:  # stopped early or failed: the rest is not wanted
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)

    def hold(self, load: Callable[[Any], Any], items: Sequence[Any], retries: int = 2) -> Holders:
        return RayHolders(self._ray, self.workers, load, items, retries)

    def close(self) -> None:
        if self._started:
            self._started = False
            self._ray.shutdown()


class Holder:
    """A Ray actor's body: its share of the objects, loaded when the actor starts (and again when Ray restarts it).

    A failed load is kept, not raised, so that the actor stays up to say which item failed.
    """

    def __init__(self, load: Callable[[Any], Any], group: list[tuple[int, Any]]) -> None:
        self.held: list[tuple[int, Any]] = []
        self.error: str | None = None
        try:
            self.held = load_held(load, group)
        except ExecutorError as exc:
            self.error = str(exc)

    def ready(self) -> str | None:
        return self.error

    def ask(self, fn: Callable[[Any, Any], Any], arg: Any) -> list[tuple[int, Any]]:
        if self.error is not None:
            raise ExecutorError(self.error)
        return ask_held(fn, arg, self.held)


class RayHolders(Holders):
    """Holder actors, actor ``h`` holding items ``h, h + n, h + 2n, ...``, spread over the cluster's nodes."""

    def __init__(self, ray: Any, workers: int, load: Callable[[Any], Any], items: Sequence[Any],
                 retries: int) -> None:
        if not items:
            raise InputError("nothing to hold")
        count = min(workers, len(items))
        self._ray = ray
        self._retries = retries
        actor = ray.remote(num_cpus=1, max_restarts=retries, max_task_retries=retries,
                           scheduling_strategy="SPREAD")(Holder)
        self._actors = [actor.remote(load, [(i, items[i]) for i in range(h, len(items), count)])
                        for h in range(count)]
        try:
            for error in self._gather([a.ready.remote() for a in self._actors]):
                if error is not None:
                    raise ExecutorError(error)
        except BaseException:
            self.close()
            raise

    def _gather(self, refs: list[Any]) -> Iterator[Any]:
        """Each answer as it comes, Ray's failures as one clear line; what is still running is cancelled."""
        ray = self._ray
        which = {ref: h for h, ref in enumerate(refs)}
        try:
            while which:
                done, _ = ray.wait(list(which), num_returns=1)
                h = which.pop(done[0])
                try:
                    yield ray.get(done[0])
                except ray.exceptions.RayTaskError as exc:
                    cause = exc.cause if exc.cause is not None else exc
                    raise ExecutorError(str(cause) if isinstance(cause, ExecutorError)
                                        else f"holder {h} failed: {type(cause).__name__}: {cause}") from exc
                except ray.exceptions.RayError as exc:
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    raise ExecutorError(f"holder {h}: its Ray actor died on each of {self._retries + 1} tries "
                                        f"({first})") from exc
        finally:
            for ref in which:
                with contextlib.suppress(Exception):
                    ray.cancel(ref)

    def ask(self, fn: Callable[[Any, Any], Any], arg: Any) -> Iterator[tuple[int, Any]]:
        shared = self._ray.put(arg)  # sent to each node once, not once per actor
        for answers in self._gather([a.ask.remote(fn, shared) for a in self._actors]):
            yield from answers

    def close(self) -> None:
        for actor in self._actors:
            with contextlib.suppress(Exception):
                self._ray.kill(actor, no_restart=True)
        self._actors = []


class RayExecutor(Executor):
    name = "ray"
    package = "ray"
    summary = "Ray tasks on a local cluster, or on the cluster at --address"

    def is_available(self) -> Availability:
        if importlib.util.find_spec("ray") is None:
            return Availability(False, "Ray is not installed: pip install mf-executor-ray")
        return Availability(True)

    def start(self, workers: int, address: str | None = None) -> Pool:
        return RayPool(workers, address)
