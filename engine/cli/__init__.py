"""The ``orderpace`` command line (also ``python -m engine``): see :mod:`engine.cli.command`."""

from engine.cli.command import PROVIDERS, Subcommand, UsageError, build_parser, main, register

__all__ = ["PROVIDERS", "Subcommand", "UsageError", "build_parser", "main", "register"]
