"""User-facing errors.

Anything a user can cause (a bad path, a wrong shape, a backend that is not
installed) is raised as an :class:`MfError`. The command line prints its message
as one line on stderr and exits non-zero; every other exception is a bug and is
reported as such (with the traceback under ``--debug``).
"""

from __future__ import annotations


class MfError(Exception):
    """An error whose message is meant for the user, on one line."""

    exit_code: int = 1


class BackendUnavailable(MfError):
    """The requested backend is unknown, unsupported by the task, or not usable here."""


class DatasetError(MfError):
    """An LMDB dataset file is missing, truncated, corrupt or not written by mf."""


class InputError(MfError):
    """User input (files, shapes, parameters) cannot be used."""
