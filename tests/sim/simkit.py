"""Helpers for the simulator tests: exchanges on flat prices, terse request builders."""

from __future__ import annotations

from typing import Any

from engine.exchange import SimulatedKraken

#: Flat prices per default pair (the random walk is replaced by one constant tick).
FLAT = {"XBT/USD": 60000.0, "ETH/USD": 3000.0, "SOL/USD": 150.0}

#: Expected penalties (kraken-rate-limits.md s.2), written out here independently of
#: limiters.penalties: (fixed, <5, <10, <15, <45, <90, <300, >=300).
AMEND = (1, 3, 2, 1, 0, 0, 0, 0)
EDIT = (1, 6, 5, 4, 2, 1, 0, 0)
CANCEL = (0, 8, 6, 5, 4, 2, 1, 0)
EDGES = (5.0, 10.0, 15.0, 45.0, 90.0, 300.0)


def expected_penalty(table: tuple[int, ...], age: float) -> int:
    """Fixed part plus the age part of the first bucket whose strict upper edge is > age."""
    bucket = next((i for i, edge in enumerate(EDGES) if age < edge), len(EDGES))
    return table[0] + table[1 + bucket]


def flat(**prices: float) -> dict[str, list[tuple[float, float]]]:
    """Constant price paths: FLAT, overridden by ``XBT_USD=...`` style keywords."""
    out = dict(FLAT)
    for k, v in prices.items():
        out[k.replace("_", "/")] = v
    return {pair: [(0.0, p)] for pair, p in out.items()}


def make(tier: str = "starter", **kw: Any) -> SimulatedKraken:
    """An exchange on flat prices (``prices=`` overrides)."""
    kw.setdefault("prices", flat())
    return SimulatedKraken(tier, **kw)


def add(
    x: SimulatedKraken, now: float, *, pair: str = "XBT/USD", side: str = "buy",
    price: str | None = "50000.0", volume: str = "0.01", ordertype: str = "limit",
    key: str = "sim", **extra: Any,
) -> dict[str, Any]:
    params: dict[str, Any] = {"pair": pair, "type": side, "ordertype": ordertype, "volume": volume}
    if price is not None:
        params["price"] = price
    params.update(extra)
    return x.handle("AddOrder", params, key=key, now=now)


def call(x: SimulatedKraken, endpoint: str, now: float, key: str | None = "sim",
         **params: Any) -> dict[str, Any]:
    return x.handle(endpoint, params, key=key, now=now)


def ok(reply: dict[str, Any]) -> Any:
    """The result of a successful reply (fails the test on an error)."""
    assert reply["error"] == [], reply
    return reply["result"]


def err(reply: dict[str, Any]) -> str:
    """The single error of a refused reply (and no result, as Kraken sends it)."""
    assert len(reply["error"]) == 1 and "result" not in reply, reply
    error: str = reply["error"][0]
    return error


def txid(reply: dict[str, Any]) -> str:
    t: str = ok(reply)["txid"][0]
    return t
