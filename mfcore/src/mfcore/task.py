"""Tasks: what ``mf run``, ``mf train``, ``mf bench`` and ``mf demo`` dispatch to.

A task names its commands with plain functions. Each command takes a
:class:`RunContext` first and then its own options, declared with Typer
annotations; the core adds ``--backend``, ``--seed`` and ``--json`` to every
command, checks the backend before calling, and prints the returned dict
(as JSON with ``--json``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .backend import Backend

#: The verbs a task may fill. ``demo`` adds a section to the ``mf demo`` report; ``synth`` replaces the
#: generic LMDB writer of ``mf synth TASK`` for tasks whose data are not samples (``mf synth sync`` renders
#: videos with ground truth).
VERBS = ("run", "train", "bench", "demo", "synth")

Command = Callable[..., Mapping[str, Any] | None]


@dataclass
class RunContext:
    """What every task command receives: the chosen, activated backend and options.

    ``keras_backend`` is the Keras backend this run's networks use: resolved once, on
    first need, by :func:`mfcore.kit.keras_backend_for` and kept here, so a command that
    checks, loads and reports a network asks the question once.
    """

    backend: Backend
    seed: int = 0
    json: bool = False
    keras_backend: str | None = None

    @property
    def xp(self) -> Any:
        """The array-API namespace of the backend (numpy, torch or cupy)."""
        return self.backend.namespace()


@dataclass(frozen=True)
class Task:
    """A unit of functionality a plugin exposes on the command line.

    ``backends`` lists the backend names the task's code supports; the core refuses
    any other with one clear line before the command runs. ``subcommands`` are the
    task's own verbs, mounted as ``mf TASK VERB`` (``mf ann build``) with the same
    core options as ``commands``.
    """

    name: str
    summary: str
    backends: tuple[str, ...]
    commands: Mapping[str, Command] = field(default_factory=dict)
    subcommands: Mapping[str, Command] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.commands) - set(VERBS)
        if unknown:
            raise ValueError(f"task {self.name!r}: unknown command verbs {sorted(unknown)}; allowed: {VERBS}")


@dataclass
class DemoSection:
    """One section of the ``mf demo`` HTML report, written by a task's ``demo`` command.

    ``metrics`` maps each demo case (e.g. a photo) to its figures; ``mf demo`` prints them
    as one table row per case.
    """

    title: str
    html: str
    metrics: dict[str, Any] = field(default_factory=dict)
