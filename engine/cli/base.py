"""What every ``orderpace`` subcommand module shares: :class:`Subcommand`, :class:`UsageError`."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import attrs

__all__ = ["PROG", "Subcommand", "UsageError"]

PROG = "orderpace"


@attrs.frozen(slots=True)
class Subcommand:
    """One ``orderpace`` subcommand: ``configure(parser)`` adds its arguments,
    ``run(args)`` carries it out and returns the exit code."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """Bad arguments found after parsing: reported as ``orderpace CMD: error: ...``, exit 2."""
