"""Property (issue 11, item 5): random intent streams -- adds, amends, cancels on two pairs --
through the engine over a key pool (1 to 3 keys) into the simulated exchange, whose
connections jitter independently: 0 ``EAPI:Invalid nonce`` at the referee, with and without a
nonce window, 0 rate-limit errors, and every intent resolved."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import kraken_errors as ke
from engine.clock import VirtualClock
from engine.core.engine import Engine, EngineSettings
from engine.errors import EngineError
from engine.exchange import SimulatedKraken
from engine.intents import AddOrder, AmendOrder, CancelOrder, Side
from engine.markets import DEFAULT_MARKETS
from engine.outcomes import Outcome
from engine.venues.pooled import pooled_sim_venue
from engine.venues.simulated import SimulatedVenue
from limiters import LimiterSettings

from .simkit import flat

PAIRS = ("XBT/USD", "ETH/USD")
PRICE = {"XBT/USD": Decimal("50000"), "ETH/USD": Decimal("2500")}
VOLUME = {"XBT/USD": Decimal("0.001"), "ETH/USD": Decimal("0.02")}

Op = tuple[str, int, float]  # kind, pair index / order pick, seconds after the previous op
ops = st.lists(st.tuples(st.sampled_from(["add", "add", "amend", "cancel"]),
                         st.integers(0, 50), st.floats(0.0, 0.2)), min_size=1, max_size=30)


def run(seed: int, keys: int, window: int, jitter: float, stream: list[Op]) -> tuple[
        dict[str, int], int, int]:
    clock = VirtualClock()
    labels = tuple(f"key{i + 1}" for i in range(keys))
    markets = DEFAULT_MARKETS.subset(PAIRS)
    prices = {p: path for p, path in flat().items() if p in PAIRS}
    x = SimulatedKraken("intermediate", prices=prices, markets=markets, keys=labels,
                        nonce_window=window, seed=seed)
    venue = pooled_sim_venue(SimulatedVenue(x, clock, latency=0.01, jitter=jitter, seed=seed),
                             labels, window=window)

    async def main() -> tuple[int, int]:
        engine = Engine(venue, tier="intermediate", clock=clock, markets=markets,
                        limits=LimiterSettings.matching(0.0, jitter),
                        settings=EngineSettings(max_inflight=min(8, venue.pool.concurrency),
                                                nonce_window=window))
        handles: list[asyncio.Future[Outcome]] = []
        ids: list[str] = []
        async with engine:
            for kind, pick, gap in stream:
                await clock.sleep_until(clock.now() + gap)
                try:
                    if kind == "add" or not ids:
                        pair = PAIRS[pick % 2]
                        intent = AddOrder(pair, Side.BUY, VOLUME[pair],
                                          PRICE[pair] - pick)
                        ids.append(intent.cl_ord_id)
                        handles.append(engine.submit(intent))
                    elif kind == "amend":
                        handles.append(engine.submit(AmendOrder(ids[pick % len(ids)],
                                                                volume=Decimal("0.03"))))
                    else:
                        handles.append(engine.submit(CancelOrder(ids[pick % len(ids)])))
                except EngineError:
                    pass  # an intent refused at submit (an order already closed): fine
            await engine.drain()
            outcomes = await asyncio.gather(*handles)
        return len(handles), sum(1 for o in outcomes if o.status is not None)

    submitted, resolved = clock.run(main())
    return dict(x.stats.errors), submitted, resolved


@settings(max_examples=max(1, settings.default.max_examples // 2))
@given(seed=st.integers(0, 2**32), keys=st.integers(1, 3),
       window=st.sampled_from([0, 0, 50, 5_000]), jitter=st.sampled_from([0.0, 0.03, 0.15]),
       stream=ops)
def test_random_intent_streams_meet_no_nonce_error(seed: int, keys: int, window: int,
                                                   jitter: float, stream: list[Op]) -> None:
    errors, submitted, resolved = run(seed, keys, window, jitter, stream)
    assert errors.get(ke.INVALID_NONCE, 0) == 0, errors
    assert not [e for e in errors if ke.is_rate_limit_error(e)], errors
    assert resolved == submitted
