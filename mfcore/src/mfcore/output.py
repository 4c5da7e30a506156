"""Printing command results: rich text for people, JSON for scripts (``--json``).

Values are never read as rich markup (a file named ``y[red]z.png`` is printed as
it is), and without a terminal (``mf demo > log.txt``) tables are printed plain,
every cell whole, one line per record, instead of squeezed into 80 columns.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, default=_jsonable)


def table(rows: Sequence[Mapping[str, Any]], title: str | None = None) -> Table:
    out = Table(title=title, show_lines=False)
    columns = _columns(rows)
    for column in columns:
        out.add_column(Text(column))
    for row in rows:
        out.add_row(*(Text(_cell(row.get(c))) for c in columns))
    return out


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(k for row in rows for k in row))


def plain_table(rows: Sequence[Mapping[str, Any]], title: str | None = None) -> str:
    """The rows as text columns separated by two spaces, no cell cut short: for files and pipes."""
    columns = _columns(rows)
    cells = [columns] + [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in cells]
    return "\n".join(([f"{title}:"] if title else []) + lines)


def print_table(rows: Sequence[Mapping[str, Any]], title: str | None = None) -> None:
    """A rich table at a terminal, :func:`plain_table` otherwise."""
    if stdout.is_terminal:
        stdout.print(table(rows, title=title))
    else:
        print(plain_table(rows, title=title))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def emit(result: Mapping[str, Any], as_json: bool) -> None:
    """Print a command's result dict; lists of dicts become tables."""
    if as_json:
        if stdout.is_terminal:
            stdout.print_json(to_json(result))  # coloured for people at a terminal
        else:
            print(to_json(result))  # plain for pipes and scripts
        return
    for key, value in result.items():
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            print_table(value, title=key)
        elif stdout.is_terminal:
            stdout.print(Text.assemble((key, "bold"), f": {_cell(value)}"), highlight=False)
        else:
            print(f"{key}: {_cell(value)}")


def warn(message: str) -> None:
    """One line on stderr that does not stop the command: input that is suspicious, not wrong."""
    sys.stderr.write(f"mf: warning: {message}\n")
    sys.stderr.flush()


def error(message: str) -> None:
    """One line on stderr: the whole user-facing error contract.

    Written without rich: after an interrupt a live progress display may still own the
    rich console, and this line must get out regardless.
    """
    sys.stderr.write(f"mf: error: {message}\n")
    sys.stderr.flush()
