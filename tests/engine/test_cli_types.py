"""Argument types shared by the subcommands: good text converts, bad text names the problem."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.cli import types as cli_types
from limiters import Tier


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
        (cli_types.positive_int, "1", 1),
        (cli_types.positive_int, "15", 15),
        (cli_types.jobs, "1", 1),
        (cli_types.jobs, "256", 256),
        (cli_types.tier, "Pro", Tier.PRO),
        (cli_types.tier, " starter ", Tier.STARTER),
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
        (cli_types.positive_int, "0", "integer >= 1"),
        (cli_types.positive_int, "1.5", "integer >= 1"),
        (cli_types.output_directory, " ", "expected a directory"),
        (cli_types.jobs, "0", r"processes >= 1 and <= 256"),
        (cli_types.jobs, "100000000", r"processes >= 1 and <= 256"),
        (cli_types.tier, "gold", r"expected a tier \(starter, intermediate, pro\)"),
    ],
)
def test_refuses(convert: Callable[[str], Any], text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        convert(text)


def test_output_directory_is_created_with_its_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    assert cli_types.output_directory(str(target)) == target and target.is_dir()
    assert cli_types.output_directory(str(target)) == target  # existing: fine
    assert list(target.iterdir()) == []  # the write check leaves nothing behind


def test_output_directory_refuses_a_file_and_a_path_under_one(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("")
    with pytest.raises(argparse.ArgumentTypeError, match="exists and is not a directory"):
        cli_types.output_directory(str(afile))
    with pytest.raises(argparse.ArgumentTypeError, match="cannot create directory"):
        cli_types.output_directory(str(afile / "sub"))
    with pytest.raises(cli_types.BadOutputDirectory, match="cannot create directory"):
        cli_types.make_directory(afile / "sub")


def test_output_directory_refuses_one_it_cannot_write(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def read_only(*_a: object, **_k: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli_types.tempfile, "TemporaryFile", read_only)
    with pytest.raises(argparse.ArgumentTypeError,
                       match=r"cannot write to directory .*: Permission denied"):
        cli_types.output_directory(str(tmp_path))
