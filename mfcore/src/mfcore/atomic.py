"""Write files so that a reader never sees half of one: temporary name, then rename.

The temporary file is created exclusively (``mkstemp``: a random name opened
with ``O_CREAT | O_EXCL``), so nobody who can write to the folder can make mf
write through a planted symlink, and the final name is only ever taken over
when it is a regular file: mf never replaces a folder, a device or a link.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError


def check_writable_dir(path: Path) -> None:
    """Fail early, with one line, when ``path`` cannot be written: its folder is missing or
    unwritable, or ``path`` exists and is not a regular file."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {path}: folder {parent} is not writable")
    check_replaceable(path)


def check_replaceable(path: Path) -> None:
    """Refuse to take over ``path`` unless it is absent or a regular file (not a link, folder, device...)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(mode):
        kind = ("a folder" if stat.S_ISDIR(mode) else "a symbolic link" if stat.S_ISLNK(mode)
                else "a device, pipe or socket")
        raise InputError(f"cannot write {path}: it is {kind}, not a regular file; mf will not replace it")


def temporary_beside(path: Path) -> Path:
    """A new, empty file beside ``path`` (same folder, so the final rename is atomic), created exclusively.

    The suffixes of ``path`` are kept so that writers that pick a format by
    extension still work; the file is mode 0600 until :func:`publish`.
    """
    suffixes = "".join(path.suffixes)  # all of them: "x.weights.h5" writers check the whole ending
    stem = path.name[: len(path.name) - len(suffixes)] if suffixes else path.name
    try:
        fd, name = tempfile.mkstemp(prefix=f".{stem}.tmp.", suffix=suffixes, dir=path.parent or ".")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    os.close(fd)
    return Path(name)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish(tmp: Path, path: Path) -> None:
    """Give ``tmp`` the usual file mode and rename it over ``path``; on failure remove ``tmp``.

    An ``OSError`` (full disk, a folder put in the way meanwhile) becomes a one-line
    :class:`InputError`, and ``path`` is left as it was.
    """
    with _removed_on_failure(tmp, path):
        check_replaceable(path)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; outputs get the usual mode
        os.replace(tmp, path)


@contextlib.contextmanager
def _removed_on_failure(tmp: Path, path: Path) -> Iterator[None]:
    """On any exception remove ``tmp``; an ``OSError`` becomes a one-line :class:`InputError` about ``path``."""
    try:
        yield
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is left untouched;
    an ``OSError`` becomes a one-line :class:`InputError`.
    """
    final = Path(path)
    check_writable_dir(final)
    tmp = temporary_beside(final)
    with _removed_on_failure(tmp, final):
        yield tmp
    publish(tmp, final)


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike[str], marker: str, overwrite: bool = False) -> Iterator[Path]:
    """Yield a new, private folder beside ``path``; on success give it the usual mode and rename it to ``path``.

    For outputs made of several files (a sharded dataset or index): a reader
    sees the whole folder or none of it. On any exception the temporary folder
    is removed. An existing ``path`` is replaced only with ``overwrite`` and only
    when it holds ``marker`` (a file mf writes last): mf never replaces a folder
    it did not write.
    """
    final = Path(path)
    if not final.parent.is_dir():
        raise InputError(f"cannot write {final}: folder {final.parent} does not exist")
    replacing = os.path.lexists(final)
    if replacing and not overwrite:
        raise InputError(f"{final} exists; pass --overwrite to replace it")
    if replacing and (final.is_symlink() or not (final / marker).is_file()):
        raise InputError(f"cannot replace {final}: it has no {marker}, so mf did not write it; mf replaces only "
                         "what it wrote")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp.", dir=final.parent))  # 0700, exclusively
    except OSError as exc:
        raise InputError(f"cannot write {final}: {exc.strerror or exc}") from exc
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if replacing:
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old.", dir=final.parent))
            os.replace(final, old / final.name)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, final)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write {final}: {exc.strerror or exc}") from exc
        raise


def output_folder(path: Path, what: str = "output folder") -> Path:
    """Create ``path`` (and its parents) for outputs; a file in the way or no permission is one line."""
    if path.exists() and not path.is_dir():
        raise InputError(f"cannot use {path} as the {what}: it exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the {what} {path}: {exc.strerror or exc}") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError(f"cannot write into the {what} {path}: permission denied")
    return path
