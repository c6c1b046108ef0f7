"""``python -m osom.cli``: the front doors' commands (``osom`` without ``dev`` and ``worker``,
which the composition root adds: ``python -m main``)."""

from osom.cli import main

main()
