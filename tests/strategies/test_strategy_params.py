"""Strategy parameters: typed defaults, text conversion, bounds, clear errors."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from engine.intents import Side
from strategies.params import (
    InvalidParameter,
    NoParams,
    ParameterError,
    UnknownParameter,
    describe_params,
    param,
    parse_params,
    split_assignments,
)


@attrs.frozen(slots=True)
class Sample:
    rate: float = param(2.5, "per second", gt=0)
    count: int = param(3, "how many", ge=1, le=10)
    flag: bool = param(False, "a switch")
    name: str = param("x", "a label")
    size: Decimal = param(Decimal("0.5"), "base units", gt=0)  # noqa: RUF009 -- attrs field
    side: Side = param(Side.BUY, "buy or sell")  # noqa: RUF009 -- attrs field
    span: tuple[float, float] = param((1.0, 30.0), "seconds", ge=0)


def test_defaults_when_nothing_is_set() -> None:
    assert parse_params(Sample, []) == Sample()


def test_each_type_converts_from_text() -> None:
    p = parse_params(Sample, [
        "rate=4", "count=7", "flag=yes", "name=hello=world", "size=1.25", "side=SELL",
        "span=2..5.5",
    ])
    assert p == Sample(4.0, 7, True, "hello=world", Decimal("1.25"), Side.SELL, (2.0, 5.5))
    assert isinstance(p.rate, float) and isinstance(p.count, int)


def test_dashes_in_keys_and_comma_ranges() -> None:
    @attrs.frozen
    class Dashed:
        cancel_age: tuple[float, float] = param((1.0, 2.0), "s")

    assert parse_params(Dashed, ["cancel-age=3,4"]).cancel_age == (3.0, 4.0)


def test_later_assignment_wins() -> None:
    assert split_assignments(["a=1", "a=2"]) == {"a": "2"}
    assert parse_params(Sample, ["count=2", "count=4"]).count == 4


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        ("rate=fast", "rate", "a number (float)"),
        ("rate=nan", "rate", "a finite number (float)"),
        ("count=2.5", "count", "an integer (int)"),
        ("flag=maybe", "flag", "a boolean"),
        ("size=abc", "size", "a decimal number"),
        ("side=up", "side", "one of buy|sell"),
        ("span=5", "span", "range of float"),
    ],
)
def test_wrong_type_names_parameter_and_expected_type(text: str, name: str,
                                                       expected: str) -> None:
    with pytest.raises(InvalidParameter) as e:
        parse_params(Sample, [text], strategy="demo")
    assert e.value.name == name
    assert f"parameter {name!r}" in str(e.value)
    assert expected in str(e.value)


@pytest.mark.parametrize(
    ("text", "bound"),
    [("rate=0", "> 0"), ("count=0", ">= 1"), ("count=11", "<= 10"), ("span=-1..3", ">= 0")],
)
def test_out_of_bounds_is_refused(text: str, bound: str) -> None:
    with pytest.raises(InvalidParameter, match=bound):
        parse_params(Sample, [text])


def test_reversed_range_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="LOW <= HIGH"):
        parse_params(Sample, ["span=9..3"])


def test_unknown_parameter_lists_the_known_ones() -> None:
    with pytest.raises(UnknownParameter) as e:
        parse_params(Sample, ["speed=3"], strategy="demo")
    msg = str(e.value)
    assert "strategy 'demo' has no parameter 'speed'" in msg
    assert "rate" in msg and "span" in msg


@pytest.mark.parametrize("bad", ["novalue", "=3", ""])
def test_malformed_assignment(bad: str) -> None:
    with pytest.raises(ParameterError, match="key=value"):
        parse_params(Sample, [bad])


def test_validators_also_guard_direct_construction() -> None:
    with pytest.raises(InvalidParameter):
        Sample(rate=-1.0)
    with pytest.raises(InvalidParameter):
        Sample(rate=float("inf"))


def test_describe_lists_name_type_default_help() -> None:
    info = {p.name: p for p in describe_params(Sample)}
    assert list(info) == ["rate", "count", "flag", "name", "size", "side", "span"]
    assert info["rate"].type_name == "float" and info["rate"].default == 2.5
    assert info["size"].type_name == "decimal"
    assert info["side"].type_name == "buy|sell"
    assert info["span"].type_name.startswith("range of float")
    assert info["count"].help == "how many"
    assert "count: int = 3" in info["count"].render()
    assert describe_params(NoParams) == []


def test_mapping_input_and_no_params() -> None:
    assert parse_params(Sample, {"count": "5"}).count == 5
    with pytest.raises(UnknownParameter, match="none"):
        parse_params(NoParams, ["x=1"], strategy="bare")
