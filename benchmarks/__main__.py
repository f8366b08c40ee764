"""``python -m benchmarks [--quick] [--json]``: the same as ``orderpace bench``."""

from __future__ import annotations

import sys

from engine.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
