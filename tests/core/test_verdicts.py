"""judge(reply, attempts): every reply gets exactly one verdict, and the rules hold for any
mix of errors, warnings and attempt counts."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import kraken_errors as ke
from engine.core.verdicts import NONCE_ATTEMPTS, THROTTLED_ATTEMPTS, Action, Effect, judge

from .streams import examples

KNOWN = [ke.API_RATE_LIMIT, ke.ORDER_RATE_LIMIT, ke.ORDERS_LIMIT, "EService:Throttled:1700000000",
         ke.THROTTLED, ke.TEMPORARY_LOCKOUT, ke.INVALID_KEY, ke.INVALID_SIGNATURE,
         ke.PERMISSION_DENIED, ke.UNKNOWN_ORDER, ke.DEADLINE_ELAPSED, ke.INSUFFICIENT_FUNDS,
         ke.INVALID_NONCE, ke.UNAVAILABLE, "EGeneral:Internal error"]
errors = st.lists(st.one_of(st.sampled_from(KNOWN), st.text(max_size=12),
                            st.sampled_from(["WGeneral:Warning", "", "E"])), max_size=3)
replies = st.fixed_dictionaries(
    {"error": st.one_of(errors, st.none())},
    optional={"result": st.one_of(st.none(), st.just({"txid": ["OA-1"]}), st.just([1]))},
)
RETRYABLE = {ke.ErrorKind.ORDER_RATE_LIMIT, ke.ErrorKind.API_RATE_LIMIT, ke.ErrorKind.THROTTLED,
             ke.ErrorKind.ORDERS_LIMIT}


@settings(max_examples=examples(1.0))
@given(reply=replies, attempts=st.integers(1, 12), retry=st.booleans(), nonce=st.booleans())
def test_every_reply_gets_one_verdict_by_the_rules(reply: dict[str, Any], attempts: int,
                                                   retry: bool, nonce: bool) -> None:
    v = judge(reply, attempts, retry_allowed=retry, nonce_retry=nonce)
    es = tuple(e for e in reply.get("error") or () if isinstance(e, str) and e[:1] == "E")
    assert v.errors == es
    result = reply.get("result")
    assert v.result == (result if isinstance(result, dict) else None)
    if not es:
        assert v.action is Action.ACCEPT and v.error is None
        return
    assert v.action is not Action.ACCEPT and v.error == es[0]
    kind = ke.classify(es[0])
    assert v.kind is kind
    if kind is ke.ErrorKind.LOCKOUT or es[0] in (ke.INVALID_KEY, ke.INVALID_SIGNATURE):
        assert v.action is Action.LOCK
        return
    if kind is ke.ErrorKind.NONCE:  # executed nothing: a fresh nonce, whatever retry_allowed
        again = nonce and attempts < NONCE_ATTEMPTS
        assert v.action is (Action.RETRY if again else Action.REJECT)
        assert v.effect is Effect.NONE
        return
    limit = THROTTLED_ATTEMPTS if kind is ke.ErrorKind.THROTTLED else 2
    retries = retry and attempts < limit and kind in RETRYABLE
    assert (v.action is Action.RETRY) is retries
    if not retries:
        expire = kind is ke.ErrorKind.TRANSIENT and es[0] == ke.DEADLINE_ELAPSED
        assert v.action is (Action.EXPIRE if expire else Action.REJECT)
    effect = {ke.ErrorKind.ORDER_RATE_LIMIT: Effect.SATURATE_TRADING,
              ke.ErrorKind.API_RATE_LIMIT: Effect.SATURATE_API,
              ke.ErrorKind.THROTTLED: Effect.PAUSE}.get(kind, Effect.NONE)
    assert v.effect is effect
    if effect is Effect.PAUSE:
        assert v.resume_at == ke.throttled_until(es[0])


def test_worked_cases() -> None:
    assert judge({"error": [], "result": {"txid": ["T"]}}, 1).action is Action.ACCEPT
    v = judge({"error": ["EOrder:Rate limit exceeded"]}, 1)
    assert (v.action, v.effect) == (Action.RETRY, Effect.SATURATE_TRADING)
    assert judge({"error": ["EOrder:Rate limit exceeded"]}, 2).action is Action.REJECT
    t = judge({"error": ["EService:Throttled:1700000123"]}, 9)
    assert (t.action, t.effect, t.resume_at) == (Action.RETRY, Effect.PAUSE, 1700000123.0)
    assert judge({"error": ["EService:Throttled:1"]}, 10).action is Action.REJECT
    assert judge({"error": ["EGeneral:Temporary lockout"]}, 1).action is Action.LOCK
    assert judge({"error": ["EService:Deadline elapsed"]}, 1).action is Action.EXPIRE
    assert judge({"error": ["WGeneral:Danger", "EOrder:Unknown order"]}, 1).error == (
        "EOrder:Unknown order")
    assert judge({"error": ["EAPI:Rate limit exceeded"]}, 1,
                 retry_allowed=False).action is Action.REJECT
