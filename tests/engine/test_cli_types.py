"""Argument types shared by the subcommands: good text converts, bad text names the problem."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import pytest

from engine import cli_types


@pytest.mark.parametrize(
    ("convert", "text", "expected"),
    [
        (cli_types.seconds, "2.5", 2.5),
        (cli_types.non_negative, "0", 0.0),
        (cli_types.seed, "-3", -3),
        (cli_types.pairs, " XBT/USD, ETH/USD ,", ("XBT/USD", "ETH/USD")),
        (cli_types.assignment, "spread_bps=8", "spread_bps=8"),
        (cli_types.port, "0", 0),
        (cli_types.port, "65535", 65535),
    ],
)
def test_converts(convert: Callable[[str], Any], text: str, expected: object) -> None:
    assert convert(text) == expected


@pytest.mark.parametrize(
    ("convert", "text", "message"),
    [
        (cli_types.seconds, "0", "> 0"),
        (cli_types.seconds, "nan", "> 0"),
        (cli_types.seconds, "soon", "number of seconds"),
        (cli_types.non_negative, "-1", ">= 0"),
        (cli_types.non_negative, "inf", ">= 0"),
        (cli_types.seed, "1.5", "integer seed"),
        (cli_types.pairs, " , ", "pairs like"),
        (cli_types.assignment, "novalue", "key=value"),
        (cli_types.assignment, "=1", "key=value"),
        (cli_types.port, "65536", "0..65535"),
        (cli_types.port, "http", "TCP port"),
    ],
)
def test_refuses(convert: Callable[[str], Any], text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        convert(text)
