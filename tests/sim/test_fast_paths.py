"""The referee's per-tick and per-request shortcuts give exactly what the plain code gives.

Each shortcut (a faster constructor, a quick "nothing to fill" test, a cached value) is
checked against the slow, obvious computation it replaces.
"""

from __future__ import annotations

import itertools
import math
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.exchange import PriceTick, SimulatedKraken
from engine.exchange.counters import TICK_ROUNDING, TickCounter
from engine.exchange.events import price_tick
from engine.exchange.markets import DEFAULT_MARKETS
from engine.exchange.matching import MarketTrade
from engine.exchange.orders import Book, IdMaker, Order
from engine.exchange.params import (
    DECIMAL_MAX_EXPONENT,
    DECIMAL_MIN_EXPONENT,
    Reject,
    parse_volume,
)

from .simkit import add, ok


def test_price_tick_builds_the_same_frozen_value() -> None:
    fast = price_tick("XBT/USD", Decimal("60000.1"), 3.0, Decimal("60000.1"), Decimal("60000.2"))
    slow = PriceTick("XBT/USD", Decimal("60000.1"), 3.0, Decimal("60000.1"), Decimal("60000.2"))
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    assert type(fast) is PriceTick
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.price = Decimal(1)  # type: ignore[misc]
    assert price_tick("ETH/USD", Decimal(1), 0.0, None, None) == PriceTick(
        "ETH/USD", Decimal(1), 0.0)


_ids = itertools.count(1)


_XBT = DEFAULT_MARKETS.get("XBT/USD")


def _order(side: str, ticks: int) -> Order:
    m = _XBT
    price = m.tick_size * ticks
    return Order(txid=f"O{next(_ids)}", market=m, side=side, ordertype="limit",
                 volume=Decimal("0.01"), price=price, ticks=ticks, now=0.0)


@given(
    orders=st.lists(st.tuples(st.sampled_from(["buy", "sell"]), st.integers(1, 40)),
                    max_size=12),
    stale=st.sets(st.integers(0, 11)),
    bid=st.integers(1, 40),
    spread=st.integers(0, 3),
)
def test_book_reaches_exactly_when_crossed_finds_something(
    orders: list[tuple[str, int]], stale: set[int], bid: int, spread: int
) -> None:
    """``reaches`` may say yes for a stale top, but never no when ``crossed`` would fill."""
    book = Book(_XBT)
    made = [_order(side, ticks) for side, ticks in orders]
    for o in made:
        book.add(o)
    for i in stale:  # an amend (re-indexed) or a cancel (removed) leaves a stale entry
        if i < len(made):
            if i % 2:
                made[i].ticks += 1
                book.reprice(made[i])
            else:
                book.remove(made[i])
                made[i].status = "canceled"
    ask = bid + spread
    maybe = book.reaches(bid, ask)
    live = [o for o in made if o.status == "open"]
    expected = sorted(
        (o for o in live if (o.side == "buy" and o.ticks >= ask)
         or (o.side == "sell" and o.ticks <= bid)),
        key=lambda o: o.txid)
    got = book.crossed(bid, ask)
    assert sorted(got, key=lambda o: o.txid) == expected
    if got:
        assert maybe


def test_market_trades_are_the_tape_as_value_objects() -> None:
    x = SimulatedKraken("starter", seed=3)
    x.advance(5.0)  # ticks at 0..5 s: six market trades
    ok(add(x, 5.0, price=None, ordertype="market"))
    trades = x.engine.market_trades("XBT/USD")
    assert len(trades) == 7 and all(isinstance(t, MarketTrade) for t in trades)
    assert [t.trade_id for t in trades] == sorted(t.trade_id for t in trades)
    assert trades[-1].ordertype == "m" and trades[-1].volume == Decimal("0.01")
    assert all(t.volume == 1 and t.ordertype == "l" for t in trades[:-1])


def _plain_level(level: float, time: float, now: float, decay: float, step: float,
                 phase: float) -> float:
    """The counter's level at ``now`` computed from scratch, both K() evaluated afresh."""
    if now <= time or level == 0.0:
        return level
    if step == 0.0:
        return max(0.0, level - decay * (now - time))

    def k(t: float) -> int:
        return math.floor((t - phase) / step + TICK_ROUNDING)

    ticks = k(now) - k(time)
    return level if ticks <= 0 else max(0.0, level - decay * step * ticks)


@given(
    step=st.sampled_from([0.0, 0.2, 0.5, 1.0, 3.0]),
    phase=st.floats(0.0, 5.0),
    moves=st.lists(st.tuples(st.floats(0.0, 4.0), st.integers(0, 9)), max_size=40),
)
def test_counter_with_cached_tick_index_equals_the_formula_bit_for_bit(
    step: float, phase: float, moves: list[tuple[float, int]]
) -> None:
    c = TickCounter(125.0, 2.34, step=step, phase=phase, start=0.0)
    level, time, now = 0.0, 0.0, 0.0
    for dt, cost in moves:
        now += dt
        assert c.level(now) == _plain_level(level, time, now, 2.34, step, phase)
        if cost:
            level = _plain_level(level, time, now, 2.34, step, phase) + cost
            time = max(time, now)
            c.charge(cost, now)
            assert c.state() == (level, time)


@pytest.mark.parametrize("spread", [0, 1, 2, 3])
def test_price_ticks_quote_exactly_size_times_ticks(spread: int) -> None:
    x = SimulatedKraken("starter", seed=5, spread=spread)
    ticks: list[PriceTick] = []
    x.subscribe(lambda e: ticks.append(e) if isinstance(e, PriceTick) else None)
    x.advance(30.0)
    assert len(ticks) == 3 * 31
    for e in ticks:
        m = x.markets.get(e.pair)
        k = int(e.price / m.tick_size)
        bid = max(1, k - spread // 2)
        want = (m.tick_size * k, m.tick_size * bid, m.tick_size * (bid + spread))
        assert (e.price, e.bid, e.ask) == want
        assert (str(e.price), str(e.bid), str(e.ask)) == tuple(map(str, want))


def _volume_ok_plainly(v: Decimal, lot: int) -> bool:
    if not DECIMAL_MIN_EXPONENT <= v.adjusted() <= DECIMAL_MAX_EXPONENT:
        return False
    exponent = v.normalize().as_tuple().exponent
    return not (isinstance(exponent, int) and exponent < -lot)


@given(
    digits=st.integers(1, 10**35), places=st.integers(-3, 40), zeros=st.integers(0, 12),
    lot=st.integers(0, 10),
)
def test_volume_places_checked_as_the_normalized_exponent(
    digits: int, places: int, zeros: int, lot: int
) -> None:
    text = format(Decimal(digits).scaleb(-places), "f")  # plain digits, never exponent form
    text += "0" * zeros if "." in text else ""
    v = Decimal(text)
    market = attrs.evolve(_XBT, lot_decimals=lot)
    try:
        got = parse_volume(text, market) == v
    except Reject:
        got = False
    assert got == _volume_ok_plainly(v, lot)


@given(seed=st.integers(0, 2**70), n=st.integers(1, 300))
def test_ids_are_the_hex_of_n_times_k_plus_the_seeded_offset(seed: int, n: int) -> None:
    ids = IdMaker(seed)
    offset = (seed * 0x2545F4914F6CDD1D) & 0xFFFFFFFFFFFFFFFF
    for i in range(1, n + 1):
        h = f"{(i * 0x9E3779B97F4A7C15 + offset) & 0xFFFFFFFFFFFFFFFF:016X}"
        prefix = "OT"[i % 2]
        assert ids.next(prefix) == f"{prefix}{h[:5]}-{h[5:10]}-{h[10:]}"
