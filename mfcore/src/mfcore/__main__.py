"""``python -m mfcore`` is the ``mf`` command."""

from .cli import main

main()
