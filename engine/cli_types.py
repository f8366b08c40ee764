"""Argument types shared by the command line's subcommands.

Each converts one argument's text or raises :class:`argparse.ArgumentTypeError` naming what
was expected, so argparse reports ``orderpace <command>: error: argument --x: expected ...``
and exits with code 2.
"""

from __future__ import annotations

import argparse
import math

__all__ = ["assignment", "non_negative", "pairs", "port", "seconds", "seed"]


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
