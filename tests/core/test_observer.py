"""The observer seam (a journal): the engine decides a pass, tells the observer what it is
about to send, and writes to the wire only after the observer is done -- so requests can
be recorded durably, in groups, before they leave."""

from __future__ import annotations

import asyncio

import pytest

from engine.clock import VirtualClock
from engine.core import Engine, OrderState
from engine.errors import EngineLocked
from engine.intents import AmendOrder, CancelOrder, QueryBalance
from engine.outcomes import Status

from .doubles import RecordingObserver, ScriptedVenue, add, run


def test_a_pass_is_recorded_before_anything_is_written() -> None:
    obs = RecordingObserver(hold=True)

    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        hs = [e.submit(add(59000.0 + i)) for i in range(3)]
        hs.append(e.submit(QueryBalance()))
        await asyncio.sleep(0.5)
        assert v.log == []  # decided, but the commit has not finished
        ready = [b for k, b in obs.events if k == "ready"]
        assert [o.endpoint for batch in ready for o in batch] == ["AddOrder"] * 3 + ["Balance"]
        assert all(o.attempt == 1 for batch in ready for o in batch)
        for f in obs.commits:
            f.set_result(None)
        outs = await asyncio.gather(*hs)
        assert all(o.status is Status.ACCEPTED for o in outs)
        assert v.endpoints() == ["AddOrder"] * 3 + ["Balance"]
        assert e.requests["AddOrder"] == 3  # counted when decided

    run(body, observer=obs)


def test_the_observer_sees_every_intent_reply_outcome_and_order_change() -> None:
    obs = RecordingObserver()

    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        a = add()
        await e.submit(a)
        await e.submit(AmendOrder(a.cl_ord_id, price="59990.0"))
        await e.submit(CancelOrder(a.cl_ord_id))

    run(body, observer=obs)
    kinds = obs.kinds()
    assert kinds.count("intent") == 3 and kinds.count("reply") == 3
    assert kinds.count("outcome") == 3
    # each request was announced before its reply
    assert kinds.index("ready") < kinds.index("reply")
    states = [vw.state for k, views in obs.events if k == "orders" for vw in views]
    assert states[0] in (OrderState.QUEUED, OrderState.PENDING)  # current view when told
    assert OrderState.OPEN in states
    assert states[-1] is OrderState.CLOSED


def test_a_failing_commit_sends_nothing_resolves_everything_and_stops_sending() -> None:
    obs = RecordingObserver(hold=True)

    async def body(e: Engine, v: ScriptedVenue, c: VirtualClock) -> None:
        h = e.submit(add())
        await asyncio.sleep(0)
        obs.commits[0].set_exception(OSError("disk full"))
        out = await h
        assert out.status is Status.FAILED and not out.sent  # never a request unrecorded
        assert out.error is not None and "disk full" in out.error
        assert v.log == [] and e.metrics().locked
        with pytest.raises(EngineLocked, match="journal write failed"):
            e.submit(add(59000.0))

    run(body, observer=obs)
