"""``python -m engine``: the same program as the ``orderpace`` command."""

from engine.cli import main

raise SystemExit(main())
