"""Training progress: a bar in a terminal, timed plain lines in a log file, nothing with --json."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from mfcore.kit import PhaseProgress, step_progress, tracked


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=120), out


def test_a_log_file_gets_a_line_per_interval_with_the_status_and_a_last_line() -> None:
    console, out = _console(terminal=False)
    with step_progress("iteration 0", 10, console=console, interval=0.0) as progress:
        for step in range(1, 4):
            progress.update(step, f"loss {step / 10:.4f}")
    lines = out.getvalue().splitlines()
    assert len(lines) == 4  # one per update (interval 0), then the closing line
    assert lines[0].startswith("iteration 0: 1/10, 0:00:00 elapsed, about 0:00:00 left, loss 0.1000")
    assert lines[-1].startswith("iteration 0: 3/10,") and lines[-1].endswith("loss 0.3000")


def test_lines_are_rate_limited_but_the_last_step_is_always_written() -> None:
    console, out = _console(terminal=False)
    with step_progress("train", 100, completed=40, console=console, interval=3600.0) as progress:
        for step in range(41, 61):
            progress.update(step)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("train: 60/100,") and "left" in lines[0]


def test_a_status_persists_until_replaced_and_no_step_means_no_line() -> None:
    console, out = _console(terminal=False)
    with step_progress("train", 5, console=console, interval=3600.0) as progress:
        progress.update(1, "val 30.00 dB")
        progress.update(2)
    assert out.getvalue().rstrip().endswith("val 30.00 dB")
    console, out = _console(terminal=False)
    with step_progress("train", 5, console=console, interval=3600.0) as progress:
        progress.update(5)
    assert "left" not in out.getvalue()  # finished: no time left to estimate
    console, out = _console(terminal=False)
    with step_progress("train", 5, completed=5, console=console, interval=0.0):
        pass
    assert out.getvalue() == ""


def test_quiet_prints_nothing_and_a_terminal_gets_a_transient_bar_not_lines() -> None:
    console, out = _console(terminal=False)
    with step_progress("train", 5, quiet=True, console=console, interval=0.0) as progress:
        progress.update(5, "loss 1")
    assert out.getvalue() == ""
    console, out = _console(terminal=True)
    with step_progress("train", 5, console=console, interval=0.0) as progress:
        progress.update(5, "loss 1")
    assert "train: 5/5," not in out.getvalue()


def test_tracked_yields_every_item_in_order_and_logs_how_many_were_consumed() -> None:
    console, out = _console(terminal=False)
    items = list(tracked(iter(range(7)), "rendering drives", 7, console=console, interval=3600.0))
    assert items == list(range(7))
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rendering drives: 7/7, ")
    console, out = _console(terminal=False)
    for item in tracked(range(10), "checking", 10, console=console, interval=0.0):
        if item == 3:
            break
    assert out.getvalue().splitlines()[-1].startswith("checking: 3/10, ")  # what was consumed, not the total
    console, out = _console(terminal=False)
    assert list(tracked(range(3), "quiet", 3, quiet=True, console=console, interval=0.0)) == [0, 1, 2]
    assert out.getvalue() == ""


def test_phases_get_a_closing_line_each_and_an_error_leaves_the_open_one_unclosed() -> None:
    console, out = _console(terminal=False)
    with PhaseProgress(["base", "queries"], console=console, interval=3600.0) as progress:
        for done in range(1, 4):
            progress(done, 10)  # the base phase stops early, at 3 of 10
        for done in range(1, 3):
            progress(done, 2)
    assert [line.split(",")[0] for line in out.getvalue().splitlines()] == ["base: 3/10", "queries: 2/2"]

    console, out = _console(terminal=False)
    with pytest.raises(ValueError), PhaseProgress(["base"], console=console, interval=3600.0) as progress:
        progress(1, 5)
        raise ValueError("bad input")
    assert out.getvalue() == ""  # the error gets its one line alone
