"""Argument types shared by the command line's subcommands.

Each converts one argument's text or raises :class:`argparse.ArgumentTypeError` naming what
was expected, so argparse reports ``orderpace <command>: error: argument --x: expected ...``
and exits with code 2.

:func:`output_directory` is the one with a side effect: it creates the directory (so that a
run that would write there fails at once, not after the work is done);
:func:`make_directory` is the same check for a path that is not a command-line argument.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from pathlib import Path

__all__ = [
    "BadOutputDirectory",
    "assignment",
    "make_directory",
    "non_negative",
    "output_directory",
    "pairs",
    "port",
    "positive_int",
    "seconds",
    "seed",
]


def seconds(text: str) -> float:
    """A finite number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def non_negative(text: str) -> float:
    """A finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def seed(text: str) -> int:
    """An integer seed."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None


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


def positive_int(text: str) -> int:
    """An integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
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
