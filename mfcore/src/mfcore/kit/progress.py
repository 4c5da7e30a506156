"""Progress of a long loop (training steps, rendering, writing a dataset) watchable in a terminal *and* a log.

A rich bar redraws itself in place and, being transient, leaves nothing behind;
when stderr is not a terminal (``nohup mf train ... > run.log``, a CI job, a
cluster scheduler) rich draws nothing at all, so an hour-long run would be
silent until it ends. There, :func:`step_progress` writes one plain line at most
every ``interval`` seconds and one at the end instead: the step, the elapsed
and the estimated remaining time, and the caller's status (the loss).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, Protocol, TypeVar

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..output import stderr

T = TypeVar("T")


class StepProgress(Protocol):
    """What a loop reports: how many of the steps are done, and a short status."""

    def update(self, completed: int, status: str = "") -> None: ...


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


class _Bar:
    """The terminal case: a rich bar with the status beside it."""

    def __init__(self, progress: Progress, label: str, total: int, completed: int) -> None:
        self._progress = progress
        self._task = progress.add_task(label, total=total, completed=completed, status="")

    def update(self, completed: int, status: str = "") -> None:
        self._progress.update(self._task, completed=completed, status=status)


class _Lines:
    """The log-file case: a plain line when ``interval`` seconds have passed since the last one."""

    def __init__(self, console: Console, label: str, total: int, completed: int, interval: float) -> None:
        self._console, self._label, self._total, self._interval = console, label, total, interval
        self._first, self._start = completed, time.perf_counter()
        self._last_line = self._start
        self.completed, self.status = completed, ""

    def update(self, completed: int, status: str = "") -> None:
        self.completed, self.status = completed, status or self.status
        if time.perf_counter() - self._last_line >= self._interval:
            self.write()

    def write(self) -> None:
        now = time.perf_counter()
        self._last_line = now
        elapsed, done = now - self._start, self.completed - self._first
        remaining = self._total - self.completed
        left = f", about {_clock(elapsed / done * remaining)} left" if done > 0 and remaining > 0 else ""
        status = f", {self.status}" if self.status else ""
        self._console.print(f"{self._label}: {self.completed}/{self._total}, {_clock(elapsed)} elapsed{left}{status}",
                            highlight=False, markup=False)


@contextmanager
def step_progress(label: str, total: int, *, completed: int = 0, quiet: bool = False,
                  console: Console | None = None, interval: float = 60.0) -> Iterator[StepProgress]:
    """Report ``completed``/``total`` steps of ``label``: a bar in a terminal, timed lines otherwise.

    ``quiet`` (``--json``) reports nothing; ``interval`` is the least time between
    two lines when the console is not a terminal (the last line is always written).
    """
    console = stderr if console is None else console
    if quiet or console.is_terminal:
        # Labels and statuses may hold file names: shown as they are, never read as markup.
        columns = (TextColumn("{task.description}", style="progress.description", markup=False), BarColumn(),
                   TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), TimeRemainingColumn(),
                   TextColumn("{task.fields[status]}", markup=False))
        with Progress(*columns, console=console, disable=quiet, transient=True) as progress:
            yield _Bar(progress, label, total, completed)
        return
    lines = _Lines(console, label, total, completed, interval)
    yield lines
    if lines.completed > completed:  # not on an error: that gets its one line alone
        lines.write()


def tracked(items: Iterable[T], label: str, total: int, *, quiet: bool = False, console: Console | None = None,
            interval: float = 60.0) -> Iterator[T]:
    """Yield ``items`` (``total`` of them) while :func:`step_progress` reports how many have been consumed.

    The drop-in for rich's ``track`` where a long loop (rendering drives,
    writing a dataset) must also show in a log file.
    """
    with step_progress(label, total, quiet=quiet, console=console, interval=interval) as progress:
        for done, item in enumerate(items, start=1):
            yield item
            progress.update(done)


class PhaseProgress:
    """A ``progress(done, total)`` callback for work reported in phases (base vectors, then queries).

    One :func:`step_progress` per phase, labelled from ``labels`` in order and opened at the phase's first
    report: a count that does not grow starts the next phase. A phase may end early (a generator that has
    enough); it still closes with its last line. Use it as a context manager: an error ends the open phase
    without a closing line, as in :func:`step_progress`.
    """

    def __init__(self, labels: list[str], *, quiet: bool = False, console: Console | None = None,
                 interval: float = 60.0) -> None:
        self._labels, self._quiet, self._console, self._interval = labels, quiet, console, interval
        self._phase, self._done = -1, 0
        self._stack = ExitStack()
        self._bar: StepProgress | None = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None or done <= self._done:
            self._stack.close()
            self._phase += 1
            label = self._labels[min(self._phase, len(self._labels) - 1)]
            self._bar = self._stack.enter_context(step_progress(label, total, quiet=self._quiet,
                                                                console=self._console, interval=self._interval))
        self._done = done
        self._bar.update(done)

    def __enter__(self) -> PhaseProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.__exit__(*exc)
