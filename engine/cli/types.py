"""Argument types shared by the command line's subcommands.

Each converts one argument's text (numbers through :mod:`engine.numbers`) or raises
:class:`argparse.ArgumentTypeError` naming what was expected, so argparse reports
``orderpace <command>: error: argument --x: expected ...`` and exits with code 2.

:func:`output_directory` is the one with a side effect: it creates the directory (so that a
run that would write there fails at once, not after the work is done);
:func:`make_directory` is the same check for a path that is not a command-line argument.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from engine.numbers import BadNumber, parse_real, parse_whole
from limiters import Tier

__all__ = [
    "MAX_JOBS",
    "BadOutputDirectory",
    "assignment",
    "jobs",
    "make_directory",
    "non_negative",
    "output_directory",
    "pairs",
    "port",
    "positive_int",
    "seconds",
    "seed",
    "tier",
]

T = TypeVar("T")

#: Most worker processes ``--jobs`` accepts (each is a whole Python process).
MAX_JOBS = 256


def _argument(convert: Callable[[], T]) -> T:
    """``convert()``, its :class:`~engine.numbers.BadNumber` as argparse's error."""
    try:
        return convert()
    except BadNumber as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def seconds(text: str) -> float:
    """A finite number of seconds > 0."""
    return _argument(lambda: parse_real(text, unit="seconds", gt=0))


def non_negative(text: str) -> float:
    """A finite number >= 0."""
    return _argument(lambda: parse_real(text, ge=0))


def seed(text: str) -> int:
    """An integer seed."""
    return _argument(lambda: parse_whole(text, what="an integer seed"))


def positive_int(text: str) -> int:
    """An integer >= 1."""
    return _argument(lambda: parse_whole(text, ge=1))


def jobs(text: str) -> int:
    """A number of worker processes: 1 to :data:`MAX_JOBS`."""
    return _argument(lambda: parse_whole(text, what="a number of processes", ge=1, le=MAX_JOBS))


def tier(text: str) -> Tier:
    """A Kraken verification tier, any case: ``starter``, ``intermediate`` or ``pro``."""
    try:
        return Tier.parse(text)
    except ValueError:
        names = ", ".join(t.value for t in Tier)
        raise argparse.ArgumentTypeError(f"expected a tier ({names}), got {text!r}") from None


def pairs(text: str) -> tuple[str, ...]:
    """Comma-separated pair names (``XBT/USD,ETH/USD``); checked against the markets later."""
    names = tuple(p.strip() for p in text.split(",") if p.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"expected pairs like XBT/USD,ETH/USD, got {text!r}")
    return names


def assignment(text: str) -> str:
    """``key=value`` (a strategy parameter; its value is parsed by the strategy)."""
    key, sep, _value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    return text


def port(text: str) -> int:
    """A TCP port number, 0 (any free port) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a TCP port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port in 0..65535, got {text!r}")
    return value


class BadOutputDirectory(ValueError):
    """A directory that cannot hold a command's output files: the message says why."""


def make_directory(path: str | os.PathLike[str]) -> Path:
    """``path`` as a :class:`Path`, created with its parents if missing, after checking that
    it is a directory a file can be written to (by creating and removing one).

    Raises :class:`BadOutputDirectory` naming the path and the reason otherwise.
    """
    p = Path(path)
    shown = str(p)
    if p.exists() and not p.is_dir():
        raise BadOutputDirectory(f"{shown!r} exists and is not a directory")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BadOutputDirectory(
            f"cannot create directory {shown!r}: {e.strerror or e}") from None
    try:
        with tempfile.TemporaryFile(dir=p, prefix=".orderpace-write-check-"):
            pass
    except OSError as e:
        raise BadOutputDirectory(
            f"cannot write to directory {shown!r}: {e.strerror or e}") from None
    return p


def output_directory(text: str) -> Path:
    """A directory for output files, created if missing (see :func:`make_directory`)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a directory, got ''")
    try:
        return make_directory(text)
    except BadOutputDirectory as e:
        raise argparse.ArgumentTypeError(str(e)) from None
