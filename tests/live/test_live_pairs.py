"""Live pairs come from the exchange's AssetPairs: any pair it lists can be traded.

Names are checked for their ``BASE/QUOTE`` spelling up front; which pairs exist is asked of
the exchange once (every pair it lists, matched on their names).  Also: the base URL is
checked at the boundary, and an open-ended run's JSON ``duration`` is null.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

import httpx
import pytest

from engine.cli import command as cli
from engine.exchange.server import DEMO_KEY, DEMO_SECRET, ExchangeServer
from engine.markets import DEFAULT_MARKETS, Market, Markets
from engine.run.live import LiveConfig, LiveError, run_live
from engine.run.live_start import load_markets
from engine.venues.base import Reply
from engine.venues.kraken_rest.credentials import Credentials

Start = Callable[..., Awaitable[ExchangeServer]]
CREDS = Credentials(DEMO_KEY, DEMO_SECRET)

XBT_EUR = Market(
    name="XBT/EUR", altname="XBTEUR", rest_name="XXBTZEUR", base="XXBT", quote="ZEUR",
    tick_size="0.1", ordermin="0.0001", costmin="0.5", pair_decimals=1, lot_decimals=8,
    start_price=55_000.0,
)
DOGE_USD = Market(
    name="DOGE/USD", altname="XDGUSD", rest_name="XDGUSD", base="XXDG", quote="ZUSD",
    tick_size="0.0000001", ordermin="13", costmin="0.5", pair_decimals=7, lot_decimals=8,
    start_price=0.15,
)
#: The built-in three and two more: a server that lists pairs the simulator's defaults lack.
WIDER = Markets((*DEFAULT_MARKETS, XBT_EUR, DOGE_USD))
BALANCES = {"ZUSD": "1000000000", "ZEUR": "1000000000", "XXBT": "100000",
            "XETH": "1000000", "SOL": "100000000", "XXDG": "1000000000"}

#: Kraken's AssetPairs entry for XBT/EUR, with Kraken's own field names (abridged).
KRAKEN_XBT_EUR: dict[str, Any] = {
    "altname": "XBTEUR", "wsname": "XBT/EUR", "aclass_base": "currency", "base": "XXBT",
    "aclass_quote": "currency", "quote": "ZEUR", "lot": "unit", "cost_decimals": 5,
    "pair_decimals": 1, "lot_decimals": 8, "lot_multiplier": 1, "fees": [[0, 0.4]],
    "fees_maker": [[0, 0.25]], "fee_volume_currency": "ZUSD", "margin_call": 80,
    "margin_stop": 40, "ordermin": "0.00005", "costmin": "0.5", "tick_size": "0.1",
    "status": "online",
}


class FakeVenue:
    """Answers AssetPairs with ``result`` (or ``error``); records each request's params."""

    def __init__(self, result: Mapping[str, Any] | None = None,
                 error: tuple[str, ...] = ()) -> None:
        self.result = result
        self.error = error
        self.asked: list[Mapping[str, Any]] = []

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        assert endpoint == "AssetPairs"
        self.asked.append(dict(params))
        if self.error:
            return {"error": list(self.error)}
        return {"error": [], "result": dict(self.result or {})}

    async def aclose(self) -> None:
        pass


# -- pair names ---------------------------------------------------------------------------


@pytest.mark.parametrize("pairs", [("XBT/EUR", "DOGE/USD"), ("ETH2.S/ETH",), ("XBT/USD",)])
def test_any_well_formed_pair_is_accepted_up_front(pairs: tuple[str, ...]) -> None:
    assert LiveConfig(pairs=pairs).pairs == pairs


def test_pair_names_are_upper_cased_as_kraken_spells_them() -> None:
    assert LiveConfig(pairs="xbt/eur, doge/usd").pairs == ("XBT/EUR", "DOGE/USD")
    with pytest.raises(LiveError, match="give each pair once"):
        LiveConfig(pairs=("XBT/EUR", "xbt/eur"))


@pytest.mark.parametrize("name", ["XBTUSD", "XBT/", "/USD", "XBT/USD/EUR", "XBT-USD", "X B/T",
                                  "XBT/USD;DROP"])
def test_a_malformed_pair_name_is_a_clear_live_error(name: str) -> None:
    with pytest.raises(LiveError, match=r"is not a pair name like XBT/USD \(BASE/QUOTE\)"):
        LiveConfig(pairs=("ETH/USD", name))


# -- AssetPairs ---------------------------------------------------------------------------


async def test_markets_are_built_from_a_kraken_shaped_asset_pairs_reply() -> None:
    venue = FakeVenue({"XXBTZEUR": KRAKEN_XBT_EUR})
    markets = await load_markets(venue, ("XBT/EUR",))
    assert venue.asked == [{}]  # every pair, matched on its wsname
    m = markets.get("XBT/EUR")
    assert markets.names == ("XBT/EUR",)
    assert (m.altname, m.rest_name, m.base, m.quote) == ("XBTEUR", "XXBTZEUR", "XXBT", "ZEUR")
    assert m.tick_size == Decimal("0.1") and m.ordermin == Decimal("0.00005")
    assert m.costmin == Decimal("0.5") and (m.pair_decimals, m.lot_decimals) == (1, 8)


async def test_a_pair_missing_from_the_reply_is_named() -> None:
    venue = FakeVenue({"XXBTZEUR": KRAKEN_XBT_EUR})
    with pytest.raises(LiveError, match=r"does not list DOGE/USD \(pairs are named as in"):
        await load_markets(venue, ("XBT/EUR", "DOGE/USD"))


async def test_an_error_reply_is_a_live_error_naming_it() -> None:
    venue = FakeVenue(error=("EGeneral:Internal error",))
    with pytest.raises(LiveError, match=r"AssetPairs failed: EGeneral:Internal error$"):
        await load_markets(venue, ("XBT/EUR",))


@pytest.mark.parametrize("result", [{"XXBTZEUR": "online"}, {"XXBTZEUR": {"altname": "X"}},
                                    {"XXBTZEUR": {**KRAKEN_XBT_EUR, "tick_size": "-1"}}])
async def test_an_unusable_reply_is_a_live_error(result: Mapping[str, Any]) -> None:
    with pytest.raises(LiveError, match="AssetPairs reply not understood"):
        await load_markets(FakeVenue(result), ("XBT/EUR",))


def _recording(requests: list[httpx.Request]) -> httpx.AsyncBaseTransport:
    class Recording(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            requests.append(request)
            return await super().handle_async_request(request)

    return Recording()


async def test_burst_trades_pairs_the_server_lists_beyond_the_builtin_three(
    start_server: Start,
) -> None:
    server = await start_server(markets=WIDER, exchange_options={"balances": BALANCES})
    requests: list[httpx.Request] = []
    config = LiveConfig(strategy="burst", pairs="XBT/EUR,DOGE/USD", duration=2.0,
                        base_url=server.url, decay_step=server.config.decay_step,
                        jitter=server.config.jitter, poll_interval=1.0)
    result = await run_live(config, CREDS, transport=_recording(requests))
    s = result.summary
    assert s.failure is None and s.unresolved == 0 and s.rate_limit_errors == 0
    asset_pairs = [r for r in requests if r.url.path == "/0/public/AssetPairs"]
    assert len(asset_pairs) == 1 and "pair" not in asset_pairs[0].url.params  # all, once
    assert s.pairs == ("XBT/EUR", "DOGE/USD")
    assert s.requests.get("AddOrder", 0) > 0 and "EOrder:Tick size check failed" not in s.errors
    assert set(server.exchange.stats.penalty) == {"XBT/EUR", "DOGE/USD"}  # both traded
    assert not [e for e in s.errors if e.startswith("EOrder:")]  # the server's rules were met


async def test_a_pair_the_server_does_not_list_is_named(start_server: Start) -> None:
    server = await start_server(markets=WIDER)
    config = LiveConfig(strategy="burst", pairs="XBT/EUR,FOO/BAR,ETH/USD", duration=1.0,
                        base_url=server.url)
    with pytest.raises(LiveError) as info:
        await run_live(config, CREDS)
    message = str(info.value)
    assert "does not list FOO/BAR (" in message, message
    assert server.stats.requests.get("AddOrder", 0) == 0


# -- base URL ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["ftp://x", "http://", "x", "127.0.0.1:8080", "http://[::1",
                                 "https://api.kraken.com/0/public", "http://h?x=1"])
def test_a_bad_base_url_is_a_live_error(url: str) -> None:
    with pytest.raises(LiveError, match="base URL"):
        LiveConfig(base_url=url)


def test_a_base_url_with_a_password_is_refused_without_repeating_it() -> None:
    with pytest.raises(LiveError, match="must not contain a user name or password") as info:
        LiveConfig(base_url="https://me:hunter2@api.kraken.com")
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "https://api.kraken.com/",
                                 "HTTPS://API.KRAKEN.COM"])
def test_good_base_urls_pass(url: str) -> None:
    assert LiveConfig(base_url=url).base_url == url


@pytest.mark.parametrize(("args", "message"), [
    (["--base-url", "ftp://x"], "base URL must be http:// or https://"),
    (["--pairs", "XBT/EUR,DOGEUSD"], "'DOGEUSD' is not a pair name like XBT/USD"),
])
def test_the_command_reports_bad_input_as_a_usage_error(
    args: list[str], message: str,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_KEY)
    monkeypatch.setenv("KRAKEN_API_SECRET", DEMO_SECRET)
    code = cli.main(["live", "--strategy", "burst", *args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "orderpace live: error: " in err and message in err
    assert "Traceback" not in err and "ValueError" not in err


# -- duration -----------------------------------------------------------------------------


async def test_an_open_ended_run_reports_a_null_duration(start_server: Start) -> None:
    server = await start_server()
    stop = asyncio.Event()
    config = LiveConfig(strategy="burst", base_url=server.url, pairs=("XBT/USD",),
                        decay_step=server.config.decay_step, jitter=server.config.jitter)
    loop = asyncio.get_running_loop()
    loop.call_later(1.5, stop.set)
    result = await run_live(config, CREDS, stop=stop)
    assert result.interrupted and result.summary.duration is None
    d = result.as_dict()
    assert d["duration"] is None and list(d)[-1] == "live"
    assert d["simulated_seconds"] > 0.0 and result.summary.intents > 0
