"""Strategy discovery through the ``orderpace.strategies`` entry-point group."""

from __future__ import annotations

import importlib.metadata as md
import sys
from pathlib import Path

import pytest

from strategies import Strategy
from strategies.burst import Burst
from strategies.grid import Grid
from strategies.market_maker import MarketMaker
from strategies.registry import (
    BUILTIN_ENTRY_POINTS,
    ENTRY_POINT_GROUP,
    BrokenStrategy,
    UnknownStrategy,
    discover,
)
from strategies.twap import Twap

PLUGIN_ROOT = Path(__file__).resolve().parents[1] / "plugin_pkg"
sys.path.insert(0, str(PLUGIN_ROOT))
from orderpace_example_plugin import dist  # noqa: E402

BUILTINS = {"burst": Burst, "grid": Grid, "market-maker": MarketMaker, "twap": Twap}


def ep(name: str, value: str) -> md.EntryPoint:
    return md.EntryPoint(name, value, ENTRY_POINT_GROUP)


def test_builtins_are_registered_through_installed_entry_points() -> None:
    installed = {e.name: e.value for e in md.entry_points(group=ENTRY_POINT_GROUP)}
    assert {k: v for k, v in installed.items() if k in BUILTINS} == BUILTIN_ENTRY_POINTS
    reg = discover()
    for name, cls in BUILTINS.items():
        info = reg.get(name)
        assert info.strategy is cls and info.builtin and info.error is None
        assert info.description == cls.description and info.params()


def test_builtins_found_even_without_metadata() -> None:
    reg = discover([])
    assert set(reg.names) == set(BUILTINS)
    assert reg.load("grid") is Grid


def test_plugin_installed_as_a_distribution_is_discovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist.install(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = discover()  # the real importlib.metadata machinery
    info = reg.get("example")
    assert info.source == dist.DIST_NAME and not info.builtin
    assert info.strategy is not None and info.strategy.__name__ == "Example"
    assert [p.name for p in info.params()] == ["interval", "distance_bps"]
    assert set(BUILTINS) <= set(reg.names)


def test_injected_entry_points() -> None:
    reg = discover([ep("example", "orderpace_example_plugin:Example")])
    assert issubclass(reg.load("example"), Strategy)


def test_unknown_strategy_names_the_available_ones() -> None:
    with pytest.raises(UnknownStrategy) as e:
        discover().get("market-taker")
    assert "unknown strategy 'market-taker'" in str(e.value)
    assert "market-maker" in str(e.value) and "orderpace strategies" in str(e.value)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("no_such_module_xyz:Thing", "ModuleNotFoundError"),
        ("orderpace_example_plugin:Missing", "AttributeError"),
        ("orderpace_example_plugin:NotAStrategy", "not a subclass of strategies.Strategy"),
    ],
)
def test_broken_plugin_is_listed_with_its_error_and_refused(value: str, why: str) -> None:
    reg = discover([ep("broken", value)])
    info = reg.get("broken")
    assert info.strategy is None and why in (info.error or "")
    assert "cannot be loaded" in info.description and info.params() == []
    with pytest.raises(BrokenStrategy, match="broken"):
        reg.load("broken")
    assert reg.load("twap") is Twap  # the others still load


def test_same_name_two_targets_is_refused() -> None:
    reg = discover([ep("dup", "orderpace_example_plugin:Example"),
                    ep("dup", "strategies.grid:Grid")])
    with pytest.raises(BrokenStrategy, match="registered twice"):
        reg.load("dup")


def test_same_target_twice_is_one_strategy() -> None:
    reg = discover([ep("grid", "strategies.grid:Grid"), ep("grid", "strategies.grid:Grid")])
    assert reg.load("grid") is Grid


def test_bad_name_is_refused() -> None:
    reg = discover([ep("Bad Name", "strategies.grid:Grid")])
    with pytest.raises(BrokenStrategy, match="lower-case"):
        reg.load("Bad Name")
