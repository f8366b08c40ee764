"""The ``orderpace`` command line (also ``python -m engine``).

Subcommands are :class:`Subcommand` objects: a name, a one-line help, a function that adds
its arguments to an :mod:`argparse` sub-parser, and a function that runs it and returns
the exit code.  This module defines ``strategies`` and registers ``backtest`` (its own
module, :mod:`engine.cli.backtest`, sweeps included).  Others live in their own modules,
listed in :data:`PROVIDERS`: such a module defines ``COMMAND = Subcommand(...)`` and is
imported when the parser is built.  Until it exists, its subcommand answers
"not available yet" with exit code 2.

Exit codes: 0 success; 1 the run itself failed (a strategy raised -- in a sweep, any run
--, or the report could not be written after all); 2 bad usage (unknown strategy, bad
``--set`` or ``--sweep``, bad pair, duration or tier, a ``--report`` directory that cannot
be created or written, checked before the run) or a subcommand not available yet; 130
interrupted; 141 output pipe closed (``| head``).  Usage errors are one line on stderr,
``orderpace CMD: error: ...``.
``backtest --report DIR`` without the ``report`` extra (matplotlib) writes
``summary.json`` and ``requests.csv``, says on stderr how to install the extra for the
charts, and still exits 0: the run and its data are complete.

``-v`` (warnings) and ``-vv`` (debug) go before or after the subcommand (the counts add
up); at debug level ``backtest`` also logs the engine's per-decision events
(``EngineSettings.log_decisions``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Sequence

import structlog

from engine.cli.backtest import COMMAND as BACKTEST_COMMAND
from engine.cli.base import PROG, Subcommand, UsageError

__all__ = ["PROG", "PROVIDERS", "Subcommand", "UsageError", "build_parser", "main", "register"]

#: Subcommands defined in other modules: name -> (module defining ``COMMAND``, help).
PROVIDERS: dict[str, tuple[str, str]] = {
    "live": ("engine.cli.live", "run a strategy against Kraken or a Kraken-compatible server"),
    "simulate-exchange": (
        "engine.cli.simulate", "serve the simulated exchange over HTTP on 127.0.0.1",
    ),
    "bench": ("benchmarks.cli", "run the bench suite"),
    "journal": ("engine.cli.journal", "what a journal holds, for a human after a crash"),
}

_REGISTERED: dict[str, Subcommand] = {}


def register(command: Subcommand) -> Subcommand:
    """Add ``command`` to every parser built from now on (a later one replaces it)."""
    _REGISTERED[command.name] = command
    return command


# -- placeholders for subcommands implemented elsewhere ---------------------------------


def _unavailable(name: str, help_text: str, why: str) -> Subcommand:
    def configure(parser: argparse.ArgumentParser) -> None:
        parser.set_defaults(accepts_any_arguments=True)

    def run(_args: argparse.Namespace) -> int:
        print(f"{PROG} {name}: not available yet ({why})", file=sys.stderr)
        return 2

    return Subcommand(name, f"{help_text} (not available yet)", configure, run)


def _provided(name: str, module: str, help_text: str) -> Subcommand:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        missing = e.name or ""
        if missing and (module == missing or module.startswith(missing + ".")):
            return _unavailable(name, help_text, f"to be provided by {module}")
        raise
    command = getattr(mod, "COMMAND", None)
    if not isinstance(command, Subcommand):
        return _unavailable(name, help_text, f"{module} defines no COMMAND")
    return command


def _commands() -> list[Subcommand]:
    found = dict(_REGISTERED)
    for name, (module, help_text) in PROVIDERS.items():
        if name not in found:
            found[name] = _provided(name, module, help_text)
    order = ["backtest", "live", "simulate-exchange", "strategies", "bench"]
    return sorted(found.values(), key=lambda c: (order.index(c.name) if c.name in order
                                                 else len(order), c.name))


# -- the parser -------------------------------------------------------------------------


_VERBOSE_HELP = ("log engine warnings (-v) or everything (-vv: debug, with backtest's "
                 "per-decision events) to stderr")


def build_parser() -> argparse.ArgumentParser:
    """The ``orderpace`` parser with every known subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Rate-limit-aware order execution engine for Kraken: backtests, "
                    "live runs, the simulated exchange and the bench suite.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help=_VERBOSE_HELP)
    # -v after the subcommand too: counted apart (a subparser's defaults would overwrite the
    # main parser's count) and added up in main()
    after = argparse.ArgumentParser(add_help=False)
    after.add_argument("-v", "--verbose", dest="sub_verbose", action="count", default=0,
                       help=_VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command_name", metavar="COMMAND", required=True)
    for cmd in _commands():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help, parents=[after])
        cmd.configure(p)
        p.set_defaults(command=cmd)
    return parser


def _configure_logging(verbosity: int) -> None:
    level = logging.ERROR if verbosity <= 0 else logging.WARNING if verbosity == 1 else (
        logging.DEBUG
    )
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``orderpace`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "accepts_any_arguments", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.verbose += getattr(args, "sub_verbose", 0)  # before and after the subcommand
    _configure_logging(args.verbose)
    command: Subcommand = args.command
    try:
        return command.run(args)
    except UsageError as e:
        print(f"{PROG} {command.name}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG} {command.name}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into ``head``: stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout
        return 141


# -- backtest ---------------------------------------------------------------------------


BACKTEST = register(BACKTEST_COMMAND)


# -- strategies -------------------------------------------------------------------------


def _configure_strategies(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the list as one JSON object")


def _run_strategies(args: argparse.Namespace) -> int:
    from strategies.registry import discover

    registry = discover()
    if args.json:
        print(json.dumps({
            info.name: {
                "source": info.source,
                "target": info.target,
                "description": info.description,
                "error": info.error,
                "params": [
                    {"name": p.name, "type": p.type_name, "default": _plain(p.default),
                     "help": p.help}
                    for p in info.params()
                ],
            }
            for info in registry
        }))
        return 0
    for info in registry:
        origin = "built-in" if info.builtin else f"plugin from {info.source}"
        print(f"{info.name}  ({origin})")
        print(f"    {info.description}")
        params = info.params()
        width = max((len(p.name) + 1 + len(_shown(p.default)) for p in params), default=0)
        for p in params:
            setting = f"{p.name}={_shown(p.default)}"
            print(f"      {setting:<{width}}  [{p.type_name}] {p.help}")
    return 0


def _shown(value: object) -> str:
    plain = _plain(value)
    if isinstance(plain, list):
        return "..".join(str(v) for v in plain)
    if isinstance(plain, bool):
        return "true" if plain else "false"
    return str(plain)


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(getattr(value, "value", value))


STRATEGIES = register(Subcommand(
    "strategies", "list the built-in and installed strategies and their parameters",
    _configure_strategies, _run_strategies,
))
