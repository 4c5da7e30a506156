"""Write files so that a reader never sees half of one: temporary name, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError


def check_writable_dir(path: Path) -> None:
    """Fail early, with one line, when ``path``'s folder cannot receive the output."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {path}: folder {parent} is not writable")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is left untouched;
    an ``OSError`` (full disk, a folder in the way) becomes a one-line :class:`InputError`.
    The suffixes are kept so that writers that pick a format by extension still work.
    """
    final = Path(path)
    check_writable_dir(final)
    suffixes = "".join(final.suffixes)  # all of them: "x.weights.h5" writers check the whole ending
    stem = final.name[: len(final.name) - len(suffixes)] if suffixes else final.name
    fd, tmp_name = tempfile.mkstemp(prefix=f".{stem}.tmp.", suffix=suffixes, dir=final.parent or ".")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; outputs get the usual mode
        os.replace(tmp, final)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {final}: {exc.strerror or exc}") from exc
        raise
