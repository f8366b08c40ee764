"""The referee shares nothing with what it referees (issue 9, item 3).

1. Importing the simulated exchange and its server in a fresh interpreter loads no module of
   ``limiters``, the engine's core, its venues, or the client-side vocabulary.
2. Its own tables and the engine's -- two independent readings of
   ``kraken-rate-limits.md`` -- agree on every documented value: tier numbers, every age
   bucket edge, batch rounding, API costs, error strings, markets, and the documented
   worked example that costs 8.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from engine import kraken_errors as client_errors
from engine import markets as client_markets
from engine import timefmt
from engine.clock import DEFAULT_EPOCH as CLIENT_EPOCH
from engine.exchange import ENDPOINTS, PUBLIC_ENDPOINTS, SimulatedKraken
from engine.exchange import costs as ex_costs
from engine.exchange import markets as ex_markets
from engine.exchange import penalties as ex_pen
from engine.exchange import replies as ex_errors
from engine.exchange import tiers as ex_tiers
from engine.exchange import times as ex_times
from limiters import costs as lim_costs
from limiters import penalties as lim_pen
from limiters import tiers as lim_tiers

from .simkit import call, flat, ok, txid

FORBIDDEN = ("limiters", "engine.core", "engine.venues", "engine.kraken_errors",
             "engine.markets", "engine.intents", "engine.clock", "engine.timefmt",
             "engine.run", "engine.errors", "engine.outcomes")


def test_the_exchange_and_its_server_import_nothing_they_referee() -> None:
    code = (
        "import json, sys\n"
        "import engine.exchange, engine.exchange.server\n"
        "import engine.exchange.server.app, engine.exchange.server.runner\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    loaded = json.loads(out)
    assert "engine.exchange.server.runner" in loaded  # the check really ran
    leaked = [m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert leaked == []


# -- two readings of the rules ---------------------------------------------------------------


@pytest.mark.parametrize("tier", ["starter", "intermediate", "pro"])
def test_tier_tables_agree(tier: str) -> None:
    mine, theirs = ex_tiers.tier_rules(tier), lim_tiers.tier_limits(tier)
    assert (mine.api_max, mine.api_decay, mine.trading_max, mine.trading_decay,
            mine.max_open_orders) == (theirs.api_max, theirs.api_decay, theirs.trading_max,
                                      theirs.trading_decay, theirs.max_open_orders)


def test_tier_numbers_are_the_documented_ones() -> None:
    documented = {  # kraken-rate-limits.md s.1 and s.2
        "starter": (15, 0.33, 60, 1.0, 60),
        "intermediate": (20, 0.5, 125, 2.34, 80),
        "pro": (20, 1.0, 180, 3.75, 225),
    }
    for name, row in documented.items():
        r = ex_tiers.tier_rules(name)
        assert (r.api_max, r.api_decay, r.trading_max, r.trading_decay, r.max_open_orders) == row


def _ages() -> list[float]:
    """Every bucket edge, just below and just above it, and ages inside each bucket."""
    ages = [0.0, 1.0, 4.0, 7.5, 12.0, 30.0, 60.0, 200.0, 299.0, 301.0, 10_000.0]
    for edge in ex_pen.AGE_EDGES:
        ages += [edge - 1e-6, edge, edge + 1e-6]
    return ages


@pytest.mark.parametrize("name", ["amend", "edit", "cancel"])
def test_penalty_tables_agree_at_every_bucket_edge(name: str) -> None:
    mine = {"amend": ex_pen.AMEND, "edit": ex_pen.EDIT, "cancel": ex_pen.CANCEL}[name]
    for age in _ages():
        assert mine.at(age) == lim_pen.penalty(name, age), (name, age)


def test_bucket_edges_are_strict_in_both_readings() -> None:
    # an order exactly 5.0 s old is in the "< 10 s" bucket
    assert ex_pen.CANCEL.at(5.0) == lim_pen.penalty("cancel", 5.0) == 6
    assert ex_pen.CANCEL.at(4.999) == lim_pen.penalty("cancel", 4.999) == 8
    assert ex_pen.AMEND.at(3.0) == 4 and ex_pen.EDIT.at(3.0) == 7 and ex_pen.CANCEL.at(3.0) == 8
    assert ex_pen.AGE_EDGES == lim_pen.AGE_EDGES == (5.0, 10.0, 15.0, 45.0, 90.0, 300.0)


def test_batch_rules_agree() -> None:
    for n in range(ex_pen.BATCH_ADD_MIN, ex_pen.BATCH_ADD_MAX + 1):
        assert ex_pen.batch_add_penalty(n) == lim_pen.add_batch_penalty(n) == -(-n // 2)
    assert (ex_pen.BATCH_ADD_MIN, ex_pen.BATCH_ADD_MAX, ex_pen.BATCH_CANCEL_MAX) == (
        lim_pen.BATCH_ADD_MIN, lim_pen.BATCH_ADD_MAX, lim_pen.BATCH_CANCEL_MAX)
    assert ex_pen.ADD.fixed == lim_pen.ADD_PENALTY == 1


def test_the_documented_worked_example_costs_8_in_both_readings() -> None:
    # add (+1), amend after 7 s (+1 +2), cancel 36 s after the amend (+4): total 8
    engine_total = lim_pen.add_penalty() + lim_pen.penalty("amend", 7.0) + lim_pen.penalty(
        "cancel", 36.0)
    exchange_total = ex_pen.ADD.at(0.0) + ex_pen.AMEND.at(7.0) + ex_pen.CANCEL.at(36.0)
    assert engine_total == exchange_total == 8
    # and the exchange charges exactly that when the requests arrive at those times
    x = SimulatedKraken("starter", prices=flat())
    t = txid(call(x, "AddOrder", 0.0, pair="XBT/USD", type="buy", ordertype="limit",
                  volume="0.01", price="50000.0"))
    ok(call(x, "AmendOrder", 7.0, txid=t, limit_price="50001.0"))
    ok(call(x, "CancelOrder", 43.0, txid=t))
    assert x.stats.penalty["XBT/USD"] == 8


def test_api_costs_agree_for_every_private_endpoint_served() -> None:
    for endpoint in sorted(ENDPOINTS - PUBLIC_ENDPOINTS):
        assert ex_costs.api_cost(endpoint) == lim_costs.api_cost(endpoint), endpoint
    assert PUBLIC_ENDPOINTS <= lim_costs.PUBLIC_ENDPOINTS


def test_error_strings_agree() -> None:
    shared = [n for n in ex_errors.__all__ if n.isupper() and hasattr(client_errors, n)]
    assert len(shared) >= 18
    for name in shared:
        assert getattr(ex_errors, name) == getattr(client_errors, name), name
    assert ex_errors.throttled(17) == client_errors.throttled(17)


def test_market_tables_agree() -> None:
    for theirs in client_markets.DEFAULT_MARKETS:
        mine = ex_markets.DEFAULT_MARKETS.get(theirs.name)
        for field in ("name", "altname", "rest_name", "base", "quote", "tick_size", "ordermin",
                      "costmin", "pair_decimals", "lot_decimals", "cost_decimals",
                      "start_price"):
            assert getattr(mine, field) == getattr(theirs, field), (theirs.name, field)
        assert mine.asset_pair_info() == theirs.asset_pair_info()
    assert len(ex_markets.DEFAULT_MARKETS) == len(client_markets.DEFAULT_MARKETS)


def test_client_markets_are_adopted_structurally() -> None:
    adopted = ex_markets.exchange_markets(client_markets.DEFAULT_MARKETS)
    assert adopted.names == client_markets.DEFAULT_MARKETS.names
    assert adopted.find("BTC/USD") is adopted.get("XBTUSD")  # Kraken's BTC spelling kept


def test_time_conventions_agree() -> None:
    assert ex_times.DEFAULT_EPOCH == CLIENT_EPOCH
    for t in (0.0, 1_704_067_200.0, 1_704_067_200.999, 2_000_000_000.5):
        # the client reads what the exchange prints (whole seconds, rounded down)
        assert timefmt.parse_rfc3339(ex_times.rfc3339(t)) == math.floor(t)
