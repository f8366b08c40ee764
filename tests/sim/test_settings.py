"""Constructor arguments of the simulated exchange, venue and driver: NaN, infinities and
negatives are refused with a typed error naming the parameter; SystemStatus is served."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.clock import VirtualClock
from engine.exchange import ENDPOINTS, InvalidSimSetting, MarketDriver, SimulatedKraken
from engine.venues.simulated import SimulatedVenue

BAD_NUMBERS = [math.nan, math.inf, -math.inf, -1.0, "2", None, True]


@pytest.mark.parametrize(
    "name", ["decay_step", "decay_phase", "processing_time", "epoch", "price_interval",
             "volatility"],
)
@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_exchange_refuses_bad_numbers(name: str, value: object) -> None:
    with pytest.raises(InvalidSimSetting, match=rf"^SimulatedKraken: {name} must be a finite "
                                                rf"number") as e:
        SimulatedKraken(**{name: value})  # type: ignore[arg-type]
    assert isinstance(e.value, ValueError)
    assert e.value.name == name and e.value.owner == "SimulatedKraken"
    assert repr(value) in str(e.value)


def test_the_audited_case_names_decay_step() -> None:
    with pytest.raises(InvalidSimSetting) as e:
        SimulatedKraken(decay_step=float("nan"))
    assert str(e.value) == ("SimulatedKraken: decay_step must be a finite number >= 0 "
                            "and <= 86400 (seconds), got nan")


def test_price_interval_must_be_positive() -> None:
    with pytest.raises(InvalidSimSetting, match="price_interval must be a finite number > 0"):
        SimulatedKraken(price_interval=0.0)


@pytest.mark.parametrize(
    ("name", "value", "minimum"),
    [
        ("max_concurrent", 0, 1), ("max_concurrent", 2.5, 1), ("max_concurrent", True, 1),
        ("nonce_window", -1, 0), ("nonce_window", math.nan, 0), ("closed_history", -5, 0),
    ],
)
def test_exchange_refuses_bad_integers(name: str, value: object, minimum: int) -> None:
    with pytest.raises(InvalidSimSetting,
                       match=rf"SimulatedKraken: {name} must be an integer >= {minimum}"):
        SimulatedKraken(**{name: value})  # type: ignore[arg-type]


def test_good_settings_are_kept() -> None:
    x = SimulatedKraken(decay_step=2, decay_phase=0.5, processing_time=0.25, max_concurrent=3,
                        nonce_window=10, price_interval=0.5, volatility=0.0)
    assert (x.decay_step, x.decay_phase, x.processing_time, x.max_concurrent) == (
        2.0, 0.5, 0.25, 3)
    assert isinstance(x.decay_step, float)


@pytest.mark.parametrize("name", ["latency", "jitter"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -0.01, 1e308, 86_400.5])
def test_venue_refuses_bad_delays(name: str, value: float) -> None:
    kwargs: dict[str, Any] = {name: value}
    with pytest.raises(InvalidSimSetting, match=rf"^SimulatedVenue: {name} must be a finite "
                                                r"number >= 0 and <= 86400 \(seconds\)"):
        SimulatedVenue(SimulatedKraken(), VirtualClock(), **kwargs)


@pytest.mark.parametrize("value", [0.0, -1.0, math.nan, math.inf])
def test_driver_refuses_a_bad_interval(value: float) -> None:
    with pytest.raises(InvalidSimSetting, match="MarketDriver: max_interval must be a finite "
                                                "number > 0"):
        MarketDriver(SimulatedKraken(), VirtualClock(), max_interval=value)


def test_system_status_is_served_in_process() -> None:
    x = SimulatedKraken(epoch=1_700_000_000.0)
    reply = x.handle("SystemStatus", {}, key=None, now=12.7)
    assert reply == {"error": [], "result": {"status": "online",
                                             "timestamp": "2023-11-14T22:13:32Z"}}
    stamp = datetime.strptime(reply["result"]["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
    assert stamp.replace(tzinfo=UTC).timestamp() == math.floor(1_700_000_000.0 + 12.7)
    assert x.is_public("SystemStatus")


def test_endpoints_lists_public_and_private_ones() -> None:
    assert {"Time", "SystemStatus", "AssetPairs", "Ticker"} <= ENDPOINTS
    assert {"AddOrder", "AmendOrder", "CancelOrder", "CancelAll", "Balance"} <= ENDPOINTS
    assert "Nope" not in ENDPOINTS
