"""Importing libraries whose native start-up writes to stderr, without breaking one-line errors.

TensorFlow prints oneDNN and CPU-feature notices from C++ when it is imported,
before its logging is set up, so ``TF_CPP_MIN_LOG_LEVEL`` does not silence them.
mf promises one line on stderr for an error; importing such a module with file
descriptor 2 pointed at ``/dev/null`` keeps that promise. Python exceptions are
unaffected: they are raised after stderr is restored.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType


def quiet_import(name: str) -> ModuleType:
    """``importlib.import_module(name)`` with the process's stderr (fd 2) muted during the import."""
    if name in sys.modules:
        return sys.modules[name]
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            return importlib.import_module(name)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
