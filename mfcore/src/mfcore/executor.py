"""The executor contract: where independent pieces of work run.

An executor runs one picklable function over a list of items, a few at a time,
and hands back each result as it finishes. ``local`` (in mf-core) runs items in
worker processes of this machine; ``mf-executor-ray`` runs them as Ray tasks
on a local or remote cluster. Executors are separate entry points
(``mf.executors``) like backends, so work written once against a
:class:`Pool` (``mf synth --shards``) runs on either.

Every executor fails the same way. A task whose worker dies (killed, out of
memory, its node lost) runs again, up to ``retries`` more times. A task whose
function raises is not retried, because mf's work is deterministic (a
generator given the same seed fails again): the run ends at once with one
:class:`ExecutorError` naming the item. Either way the caller learns which
item failed; nothing is silently missing.

Some work is asked many times of the same large objects (the shards of an
index, searched batch after batch). :meth:`Pool.hold` loads each object once
into a long-lived worker (a process of ``local``, a Ray actor of ``ray``) and
:meth:`Holders.ask` puts one question to all of them. A holder that dies is
started again, reloads its objects and is asked again, up to ``retries`` times.
"""

from __future__ import annotations

import importlib.metadata
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Annotated, Any

import typer

from .backend import Availability
from .errors import MfError

#: The options every command that runs work on an executor shares (``mf synth --shards``, ``mf ann build --shards``).
ExecutorOption = Annotated[str, typer.Option("--executor", "-e", help="Where the shards' work runs (see `mf executors "
                                             "list`).")]
AddressOption = Annotated[str | None, typer.Option("--address", help="Cluster to join, in the executor's own form "
                                                   "(Ray: HOST:PORT or auto); default: this machine.")]
ExecutorWorkersOption = Annotated[int, typer.Option("--workers", "-w", min=1, help="Items run at the same time.")]


class ExecutorError(MfError):
    """Work on an executor failed: a task raised, its worker died too often, or the cluster cannot be reached."""


class Holders(ABC):
    """Objects loaded once into long-lived workers and asked the same question; close (or use ``with``) to free."""

    @abstractmethod
    def ask(self, fn: Callable[[Any, Any], Any], arg: Any) -> Iterator[tuple[int, Any]]:
        """Run ``fn(held, arg)`` on every held object (all of one worker's in turn, the workers in parallel) and
        yield ``(position, result)``, position being the object's place in the items given to :meth:`Pool.hold`.

        ``fn`` must be a module-level function and ``arg`` and the results picklable.
        """

    @abstractmethod
    def close(self) -> None:
        """Let the objects go and stop their workers; idempotent."""

    def __enter__(self) -> Holders:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Pool(ABC):
    """Workers started by an executor; use as a context manager so they are always stopped."""

    #: How many items run at the same time (on a cluster: the tasks asked for at once).
    workers: int

    @abstractmethod
    def map_unordered(self, fn: Callable[[Any], Any], items: Sequence[Any],
                      retries: int = 2) -> Iterator[tuple[int, Any]]:
        """Run ``fn(item)`` for every item and yield ``(position, result)`` as each finishes.

        ``fn`` must be a module-level function and items and results picklable:
        they travel to other processes, possibly other machines.
        """

    @abstractmethod
    def hold(self, load: Callable[[Any], Any], items: Sequence[Any], retries: int = 2) -> Holders:
        """Load ``load(item)`` for every item into ``min(workers, len(items))`` long-lived workers, item ``i``
        into worker ``i % workers``, and keep them there until the :class:`Holders` close.

        A worker whose ``load`` raises ends the call with one :class:`ExecutorError` naming the item.
        """

    @abstractmethod
    def close(self) -> None:
        """Stop the workers (and a cluster this pool started); idempotent."""

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Executor(ABC):
    """One place work can run. Subclasses must be cheap to construct: imports happen in :meth:`start`."""

    #: Short name used on the command line (``--executor NAME``).
    name: str
    #: The distribution whose version ``mf executors list`` shows.
    package: str
    #: One line for listings.
    summary: str

    @abstractmethod
    def is_available(self) -> Availability:
        """Check, without raising and without starting anything, whether the executor can run here."""

    @abstractmethod
    def start(self, workers: int, address: str | None = None) -> Pool:
        """Start ``workers`` workers, on the cluster at ``address`` where the executor joins one."""

    def version(self) -> str | None:
        try:
            return importlib.metadata.version(self.package)
        except importlib.metadata.PackageNotFoundError:
            return None


def load_held(load: Callable[[Any], Any], group: Sequence[tuple[int, Any]]) -> list[tuple[int, Any]]:
    """A holder's objects, ``(position, load(item))`` for each of its items; for executors' holder workers.

    The error names the item whose load failed, in the one form every executor reports.
    """
    held = []
    for position, item in group:
        try:
            held.append((position, load(item)))
        except Exception as exc:
            raise ExecutorError(f"item {position} failed to load: {_describe(exc)}") from exc
    return held


def ask_held(fn: Callable[[Any, Any], Any], arg: Any, held: Sequence[tuple[int, Any]]) -> list[tuple[int, Any]]:
    """``(position, fn(object, arg))`` for each held object; for executors' holder workers."""
    answers = []
    for position, obj in held:
        try:
            answers.append((position, fn(obj, arg)))
        except Exception as exc:
            raise ExecutorError(f"item {position} failed: {_describe(exc)}") from exc
    return answers


def _describe(exc: Exception) -> str:
    return str(exc) if isinstance(exc, MfError) else f"{type(exc).__name__}: {exc}"
