"""Key pools (issue 11): several keys of one account from a file or the environment; the
venue spreads requests over them, takes a refused key out (sending the request again on the
next), hands the last key's refusal to the engine; a nonce refusal is retried by the engine
through its queue with a fresh nonce, a bounded number of times; ``EOrder:Unknown order`` on
a change is looked up."""

from __future__ import annotations

import argparse
import asyncio
import base64
from collections import Counter
from collections.abc import Awaitable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine import kraken_errors as ke
from engine.cli import UsageError
from engine.cli.live_keys import load_keys, nonce_window
from engine.clock import RealClock
from engine.core.engine import Engine, EngineSettings
from engine.core.verdicts import NONCE_ATTEMPTS, Action, judge
from engine.intents import AddOrder, CancelOrder, Side
from engine.outcomes import Status
from engine.venues.base import Reply
from engine.venues.kraken_rest.credentials import (
    Credentials,
    InvalidCredentials,
    MissingCredentials,
)
from engine.venues.kraken_rest.gone import GoneOrderLookup
from engine.venues.kraken_rest.public import PublicThrottle
from engine.venues.kraken_rest.rest import KrakenRestVenue

from .support import LEAK_KEY, LEAK_SECRET, leaked, ok

KEY2 = "SecondKey" + "Y" * 40
SECRET2 = base64.b64encode(b"second secret " + bytes(range(30))).decode()
KEY3 = "ThirdKey" + "X" * 40


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


# -- where keys come from ------------------------------------------------------------------


def test_a_file_of_repeated_pairs_is_a_pool(tmp_path: Path) -> None:
    f = write(tmp_path / "keys", f"# two keys\nKRAKEN_API_KEY={LEAK_KEY}\n"
                                 f"KRAKEN_API_SECRET={LEAK_SECRET}\n\n"
                                 f"KRAKEN_API_SECRET={SECRET2}\nKRAKEN_API_KEY={KEY2}\n")
    keys = Credentials.pool_from_file(f)
    assert [k.key for k in keys] == [LEAK_KEY, KEY2]
    assert keys[1].secret == SECRET2
    assert Credentials.from_file(f).key == LEAK_KEY  # the single form: the first key


def test_a_pair_left_half_open_is_named(tmp_path: Path) -> None:
    f = write(tmp_path / "keys", f"KRAKEN_API_KEY={LEAK_KEY}\nKRAKEN_API_SECRET={LEAK_SECRET}\n"
                                 f"KRAKEN_API_KEY={KEY2}\n")
    with pytest.raises(MissingCredentials, match="KRAKEN_API_SECRET for pair 2") as info:
        Credentials.pool_from_file(f)
    assert not leaked(str(info.value))
    g = write(tmp_path / "keys2", f"KRAKEN_API_KEY={LEAK_KEY}\nKRAKEN_API_KEY={KEY2}\n")
    with pytest.raises(MissingCredentials, match="pair 1 does not set KRAKEN_API_SECRET"):
        Credentials.pool_from_file(g)


def test_the_same_key_twice_is_refused(tmp_path: Path) -> None:
    pair = f"KRAKEN_API_KEY={LEAK_KEY}\nKRAKEN_API_SECRET={LEAK_SECRET}\n"
    with pytest.raises(InvalidCredentials, match="given twice") as info:
        Credentials.pool_from_file(write(tmp_path / "keys", pair * 2))
    assert not leaked(str(info.value))


def test_numbered_environment_variables_add_keys() -> None:
    env = {"KRAKEN_API_KEY": LEAK_KEY, "KRAKEN_API_SECRET": LEAK_SECRET,
           "KRAKEN_API_KEY_2": KEY2, "KRAKEN_API_SECRET_2": SECRET2,
           "KRAKEN_API_KEY_4": KEY3, "KRAKEN_API_SECRET_4": SECRET2}  # _3 missing: stops
    assert [k.key for k in Credentials.pool_from_env(env)] == [LEAK_KEY, KEY2]
    with pytest.raises(MissingCredentials, match="KRAKEN_API_SECRET_2"):
        Credentials.pool_from_env({**env, "KRAKEN_API_SECRET_2": ""})


def test_the_cli_loads_a_pool_and_parses_the_window(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    f = write(tmp_path / "keys", f"KRAKEN_API_KEY={LEAK_KEY}\nKRAKEN_API_SECRET={LEAK_SECRET}\n"
                                 f"KRAKEN_API_KEY={KEY2}\nKRAKEN_API_SECRET={SECRET2}\n")
    assert len(load_keys(str(f))) == 2
    monkeypatch.delenv("KRAKEN_API_KEY", raising=False)
    with pytest.raises(UsageError, match="no usable API credentials"):
        load_keys(None)
    assert nonce_window("250") == 250
    for bad in ("-1", "1.5", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            nonce_window(bad)


# -- the venue over a pool -----------------------------------------------------------------


def pool_venue(refuse: Mapping[str, str], **kwargs: Any) -> tuple[KrakenRestVenue, Counter[str]]:
    """A venue over three keys; ``refuse`` maps a key to the error it always gets."""
    seen: Counter[str] = Counter()

    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers["API-Key"]
        seen[key] += 1
        if key in refuse:
            return httpx.Response(200, json={"error": [refuse[key]]})
        return ok({"key": key})

    keys = [Credentials(LEAK_KEY, LEAK_SECRET), Credentials(KEY2, SECRET2),
            Credentials(KEY3, SECRET2)]
    venue = KrakenRestVenue(keys, transport=httpx.MockTransport(handler),
                            public_throttle=PublicThrottle(1000.0, burst=1000), **kwargs)
    return venue, seen


async def test_requests_spread_over_the_keys() -> None:
    venue, seen = pool_venue({})
    async with venue:
        for _ in range(6):
            await venue.request("Balance", {})
    assert set(seen) == {LEAK_KEY, KEY2, KEY3}
    assert venue.pool is not None and venue.pool.concurrency == 3


async def test_a_refused_key_leaves_the_pool_and_the_request_goes_on_the_next(
        capsys: pytest.CaptureFixture[str]) -> None:
    venue, seen = pool_venue({LEAK_KEY: ke.INVALID_KEY, KEY2: ke.PERMISSION_DENIED})
    async with venue:
        for _ in range(3):
            reply = await venue.request("Balance", {})
            assert reply["error"] == [] and reply["result"]["key"] == KEY3
    assert seen[LEAK_KEY] == 1 and seen[KEY2] == 1  # each refused once, then never used
    assert venue.pool is not None
    report = {r["key"]: r["removed"] for r in venue.pool.report()}
    assert sorted(e for e in report.values() if e) == sorted([ke.PERMISSION_DENIED, ke.INVALID_KEY])
    out = capsys.readouterr().out
    assert "key_removed" in out and not leaked(out)


async def test_the_last_keys_refusal_reaches_the_caller() -> None:
    venue, _seen = pool_venue({LEAK_KEY: ke.INVALID_KEY, KEY2: ke.INVALID_KEY,
                               KEY3: ke.INVALID_SIGNATURE})
    async with venue:
        reply = await venue.request("Balance", {})
    assert reply["error"] == [ke.INVALID_SIGNATURE]
    assert venue.pool is not None and len(venue.pool.live) == 1


# -- nonce refusals through the engine -----------------------------------------------------


def test_a_nonce_refusal_is_retried_a_bounded_number_of_times() -> None:
    refused = {"error": [ke.INVALID_NONCE]}
    assert judge(refused, 1).action is Action.RETRY
    assert judge(refused, 1, retry_allowed=False).action is Action.RETRY  # not a rate limit
    assert judge(refused, NONCE_ATTEMPTS).action is Action.REJECT
    assert judge(refused, 1, nonce_retry=False).action is Action.REJECT  # engine closing


class NonceThenOk:
    """A venue refusing the first ``n`` private requests of each endpoint for their nonce."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.calls: Counter[str] = Counter()

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        self.calls[endpoint] += 1
        if self.calls[endpoint] <= self.n:
            return {"error": [ke.INVALID_NONCE]}
        if endpoint == "AddOrder":
            return {"error": [], "result": {"txid": ["OAAAAA-BBBBB-CCCCCC"]}}
        return {"error": [], "result": {"count": 1}}

    async def aclose(self) -> None:
        return None


async def test_the_engine_resends_after_a_nonce_refusal_and_never_drops_a_cancel() -> None:
    venue = NonceThenOk(1)
    async with Engine(venue, tier="pro", clock=RealClock(),
                      settings=EngineSettings(retry_rate_limited=False)) as engine:
        add = await engine.submit(AddOrder("XBT/USD", Side.BUY, "0.001", "30000"))
        assert add.status is Status.ACCEPTED and add.attempts == 2
        cancel = await engine.submit(CancelOrder(add.intent.cl_ord_id))  # type: ignore[union-attr]
        assert cancel.status is Status.ACCEPTED and cancel.attempts == 2
    hopeless = NonceThenOk(99)
    async with Engine(hopeless, tier="pro", clock=RealClock()) as engine:
        out = await engine.submit(AddOrder("XBT/USD", Side.BUY, "0.001", "30000"))
    assert out.status is Status.REJECTED and out.error == ke.INVALID_NONCE
    assert hopeless.calls["AddOrder"] == NONCE_ATTEMPTS


# -- EOrder:Unknown order on a change --------------------------------------------------------


class Gone:
    def __init__(self, status: str | None) -> None:
        self.status = status
        self.asked: list[tuple[str, dict[str, Any]]] = []

    async def request(self, endpoint: str, params: Mapping[str, Any]) -> Reply:
        self.asked.append((endpoint, dict(params)))
        if endpoint == "QueryOrders":
            if self.status is None:
                return {"error": [ke.UNKNOWN_ORDER]}
            return {"error": [], "result": {"OAAAAA-BBBBB-CCCCCC": {
                "status": self.status, "vol_exec": "0.5", "price": "100.0"}}}
        return {"error": [ke.UNKNOWN_ORDER]}

    async def aclose(self) -> None:
        return None


@pytest.mark.parametrize("status", ["closed", "canceled", None])
async def test_unknown_order_on_an_amend_is_looked_up_paced(status: str | None) -> None:
    inner = Gone(status)
    found: list[tuple[str, Mapping[str, Any]]] = []
    paced: list[tuple[str, float]] = []

    async def pace(endpoint: str, cost: float) -> None:
        paced.append((endpoint, cost))

    venue = GoneOrderLookup(inner, on_gone=lambda ref, info: found.append((ref, info)),
                            pace=pace)
    reply = await venue.request("AmendOrder", {"cl_ord_id": "my-order-1", "limit_price": "1"})
    assert reply["error"] == [ke.UNKNOWN_ORDER]  # the reply itself is unchanged
    assert inner.asked[1] == ("QueryOrders", {"cl_ord_id": "my-order-1"})
    assert paced == [("QueryOrders", 1.0)]
    if status is None:
        assert found == [] and venue.stats["not_found"] == 1
    else:
        assert [(ref, info["status"]) for ref, info in found] == [("my-order-1", status)]
    await venue.request("CancelOrder", {"txid": "OAAAAA-BBBBB-CCCCCC"})
    assert inner.asked[-1] == ("QueryOrders", {"txid": "OAAAAA-BBBBB-CCCCCC"})
    await venue.request("AddOrder", {})  # not a change: no lookup
    assert inner.asked[-1][0] == "AddOrder"


# -- a live run over a pool ------------------------------------------------------------------


async def test_a_live_run_goes_on_when_one_key_of_its_pool_is_refused(
        start_server: Any) -> None:
    from engine.exchange.server import DEMO_KEY, DEMO_SECRET
    from engine.run.live import LiveConfig, run_live

    server = await start_server()
    config = LiveConfig(strategy="burst", duration=2.0, base_url=server.url,
                        decay_step=server.config.decay_step, jitter=server.config.jitter,
                        poll_interval=1.0)
    result = await run_live(config, [Credentials(KEY2, SECRET2),
                                     Credentials(DEMO_KEY, DEMO_SECRET)])
    s = result.summary
    assert s.failure is None and s.unresolved == 0 and s.rate_limit_errors == 0
    keys = result.details["keys"]
    assert [k["removed"] for k in keys] == [ke.INVALID_KEY, None]
    assert keys[0]["requests"] == 1 and keys[1]["requests"] > 5
    assert server.exchange.stats.errors.get(ke.INVALID_NONCE, 0) == 0
    assert "fills" in result.as_dict()


def test_the_human_summary_names_the_fills() -> None:
    from engine.cli.live_keys import render_fills

    assert render_fills({}) == "fills (from the exchange): none"
    line = render_fills({"XBT/USD": {"count": 2, "volume": "0.002"},
                         "ETH/USD": {"count": 1, "volume": "0.5"}})
    assert line == "fills (from the exchange): ETH/USD 1 (0.5), XBT/USD 2 (0.002)"


class LeasedWire:
    """A wire slot whose every step awaits (as a cluster-wide lease in Redis would)."""

    def __init__(self) -> None:
        self.nonce = 1_000
        self.events: list[str] = []
        self.held = False

    @property
    def concurrency(self) -> int:
        return 1

    @property
    def on_wire(self) -> int:
        return int(self.held)

    async def open(self) -> int:
        await asyncio.sleep(0)
        assert not self.held
        self.held = True
        self.nonce += 7
        self.events.append(f"open {self.nonce}")
        return self.nonce

    async def _close(self, nonce: int) -> None:
        await asyncio.sleep(0)
        self.held = False
        self.events.append(f"close {nonce}")

    def close(self, nonce: int) -> Awaitable[None]:
        return self._close(nonce)

    def serialize(self) -> None:
        pass


async def test_a_wire_slot_from_elsewhere_plugs_into_the_venue() -> None:
    wire = LeasedWire()
    nonces: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        nonces.append(int(dict(httpx.QueryParams(request.content.decode()))["nonce"]))
        return ok()

    async with KrakenRestVenue(Credentials(LEAK_KEY, LEAK_SECRET), wires=[wire],
                               transport=httpx.MockTransport(handler)) as venue:
        await asyncio.gather(*(venue.request("Balance", {}) for _ in range(3)))
    assert nonces == [1007, 1014, 1021]
    assert wire.events == ["open 1007", "close 1007", "open 1014", "close 1014",
                           "open 1021", "close 1021"]
