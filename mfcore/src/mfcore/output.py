"""Printing command results: rich text for people, JSON for scripts (``--json``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

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
    columns = list(dict.fromkeys(k for row in rows for k in row))
    for column in columns:
        out.add_column(column)
    for row in rows:
        out.add_row(*(_cell(row.get(c)) for c in columns))
    return out


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
            stdout.print(table(value, title=key))
        else:
            stdout.print(f"[bold]{key}[/bold]: {_cell(value)}", highlight=False)


def error(message: str) -> None:
    """One line on stderr: the whole user-facing error contract.

    Written without rich: after an interrupt a live progress display may still own the
    rich console, and this line must get out regardless.
    """
    sys.stderr.write(f"mf: error: {message}\n")
    sys.stderr.flush()
