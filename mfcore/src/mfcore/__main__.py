"""``python -m mfcore`` is the ``mf`` command."""

from .cli import main

if __name__ == "__main__":
    main()
