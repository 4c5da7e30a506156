"""Child processes that never outlive the run, and how to say how one ended.

Shared by the sample stream's workers and the local executor's tasks.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys


def die_with_parent(parent_pid: int) -> None:
    """Call first in a child: the kernel kills it when the parent dies (``PR_SET_PDEATHSIG`` on Linux)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def describe_exit(code: int | None) -> str:
    """A process's exit code as words: 'was killed by SIGKILL', 'exited with code 1'."""
    if code is None:
        return "is still running"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"
