"""What every scaling benchmark (``mf bench scale``, ``mf bench ann-shards``) shares: which executors and worker
counts to measure, and each run's speed-up over one worker of the same executor."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..errors import InputError
from ..executor import Executor
from ..executors import all_executors, get_executor

#: ``--executor`` of a scaling benchmark: repeatable; default every available executor.
BenchExecutorsOption = Annotated[list[str] | None, typer.Option(
    "--executor", "-e", help="Executors to measure (repeatable; default: every available one).")]
#: ``--workers`` of a scaling benchmark: the worker counts to measure.
BenchWorkersOption = Annotated[str, typer.Option(help="Comma-separated worker counts.")]


def bench_executors(names: list[str] | None) -> list[Executor]:
    """The named executors (one clear error for an unknown or unavailable one), or every available one."""
    return [get_executor(name) for name in names or [n for n, e in all_executors().items() if e.is_available()]]


def positive_ints(text: str, option: str = "--workers") -> list[int]:
    """``"1,2"`` as ``[1, 2]`` (worker counts, bin budgets); anything but positive integers is one clear error."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise InputError(f"{option} {text!r}: expected comma-separated positive integers such as 1,2")
    return values


def add_speedups(rows: list[dict[str, Any]], value: str, key: str) -> None:
    """Set ``row[key]``: ``row[value]`` over the 1-worker run of the same executor (when there is one)."""
    for row in rows:
        one = next((r[value] for r in rows if r["executor"] == row["executor"] and r["workers"] == 1), None)
        if one:
            row[key] = round(row[value] / one, 2)
