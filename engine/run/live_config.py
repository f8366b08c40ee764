"""What a live run is told: :class:`LiveConfig`, checked whole before anything is sent.

* numbers through :mod:`engine.numbers` (finite, in range, in seconds);
* pair names spelled ``BASE/QUOTE`` as in Kraken's ``wsname`` (which pairs exist is the
  exchange's ``AssetPairs`` to say, at start);
* the base URL through :func:`~engine.venues.kraken_rest.rest.check_base_url`;
* the engine's margins (:func:`limiter_settings`) must leave each counter room for its
  costliest request (:mod:`engine.run.margins`): a server decay step or jitter too large for
  the tier is a :class:`MarginTooLarge` naming the largest value the tier allows.

Every refusal is a :class:`LiveError` with a one-line message.
"""

from __future__ import annotations

import math
import re
from typing import Any

import attrs

from engine.core.engine import EngineSettings
from engine.numbers import BadNumber, real, whole
from engine.run.margins import (
    MarginProblem,
    check_decay_step,
    largest_jitter,
    margin_problem,
    room,
)
from engine.run.transport_options import TransportOptions
from engine.venues.kraken_rest.recovery import RecoverySettings
from engine.venues.kraken_rest.rest import DEFAULT_BASE_URL, check_base_url
from limiters import LimiterSettings, Tier

__all__ = [
    "LOOPBACK_JITTER",
    "LiveConfig",
    "LiveError",
    "MarginTooLarge",
    "limiter_settings",
    "limiter_settings_for",
]

#: Seconds of latency spread allowed on top of a local server's own jitter: the client's
#: send lock, the event loops and the sockets between engine and server.
LOOPBACK_JITTER = 0.05

#: A pair's WebSocket name: BASE/QUOTE, asset codes of letters, digits and dots ("XBT/USD").
_PAIR_NAME = re.compile(r"[A-Z0-9][A-Z0-9.]{0,15}/[A-Z0-9][A-Z0-9.]{0,15}")


class LiveError(RuntimeError):
    """A live run that cannot start or proceed (venue unreachable, no prices, bad config)."""


class MarginTooLarge(LiveError):
    """A server ``decay_step`` or ``jitter`` (seconds) that leaves the engine's margins no
    room on the tier.  ``largest`` is the most the tier allows with the other setting as
    given (seconds, rounded down to the millisecond) -- unless the jitter must come down
    too: then ``jitter_largest`` is the most it may be with the step at ``largest``."""

    def __init__(self, setting: str, value: float, largest: float, tier: Tier,
                 problem: MarginProblem, *, jitter_largest: float | None = None) -> None:
        self.setting = setting
        self.value = value
        self.largest = largest
        self.jitter_largest = jitter_largest
        self.tier = tier
        self.problem = problem
        also = ("" if jitter_largest is None else
                f", and jitter at most {jitter_largest:g} s with it")
        super().__init__(f"{setting} {value:g} s is too large for the {tier.value} tier: "
                         f"{problem}; the largest it allows is {largest:g} s{also}")


def _tier(value: str | Tier) -> Tier:
    try:
        return Tier.parse(value)
    except ValueError as e:
        raise LiveError(f"tier: {e}") from None


def _pairs(value: Any) -> tuple[str, ...]:
    """Pair names from ``"XBT/USD,ETH/USD"`` or a sequence, upper-cased as Kraken spells them."""
    if isinstance(value, str):
        value = value.split(",")
    return tuple(str(p).strip().upper() for p in value if str(p).strip())


def _check_pair_names(pairs: tuple[str, ...]) -> None:
    """Each name once, each in Kraken's WebSocket form ``BASE/QUOTE``; else :class:`LiveError`."""
    if not pairs or len(set(pairs)) != len(pairs):
        raise LiveError(f"pairs: give each pair once, got {', '.join(pairs) or 'none'}")
    for name in pairs:
        if not _PAIR_NAME.fullmatch(name):
            raise LiveError(f"pairs: {name!r} is not a pair name like XBT/USD (BASE/QUOTE)")


def _on_exit(_i: object, _a: object, value: str) -> None:
    if value not in ("cancel", "leave"):
        raise LiveError(f"on_exit must be 'cancel' or 'leave', got {value!r}")


def _millis_down(seconds: float) -> float:
    return math.floor(seconds * 1000.0) / 1000.0


@attrs.frozen(slots=True)
class LiveConfig:
    """What to run live.  Times in seconds.

    ``decay_step`` / ``jitter``: the server's decay step and arrival jitter when they are
    known (a local simulated exchange); None against Kraken.  ``poll_interval``: seconds
    between OpenOrders polls; ``price_interval``: between Ticker polls; ``timeout``: per
    request; ``drain_timeout``: how long the shutdown may take.  ``transport``: REST or
    WebSocket orders and the dead-man switch (:mod:`engine.run.transport_options`).
    """

    strategy: str = "market-maker"
    tier: Tier = attrs.field(default=Tier.INTERMEDIATE, converter=_tier)
    pairs: tuple[str, ...] = attrs.field(default=("XBT/USD", "ETH/USD"), converter=_pairs)
    duration: float | None = None
    settings: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    base_url: str = DEFAULT_BASE_URL
    dry_run: bool = False
    on_exit: str = attrs.field(default="cancel", validator=_on_exit)
    decay_step: float | None = None
    jitter: float | None = None
    poll_interval: float = 5.0
    price_interval: float = 1.0
    timeout: float = 10.0
    drain_timeout: float = 30.0
    seed: int = 0
    recovery: RecoverySettings = attrs.field(factory=RecoverySettings)
    engine: EngineSettings = attrs.field(factory=EngineSettings)
    transport: TransportOptions = attrs.field(factory=TransportOptions)
    # the journal (engine.journal): its path (None: none), what to do with a crashed run's
    # open orders, and where counters start without a journal ("max" with --journal off)
    journal: str | None = None
    on_start: str = attrs.field(default="cancel",
                                validator=attrs.validators.in_(("cancel", "adopt")))
    start_levels: str = attrs.field(default="empty",
                                    validator=attrs.validators.in_(("empty", "max")))
    store: str = attrs.field(default="memory", repr=False)  # or redis://... (engine.shared)
    account: str = "default"
    store_lease: float = 5.0  # s: a dead process's open-order slots are free after this

    def __attrs_post_init__(self) -> None:
        from engine.shared.live import check_store_config

        check_store_config(self.store, self.account)
        try:
            for name in ("poll_interval", "price_interval", "timeout", "drain_timeout",
                         "store_lease"):
                real(getattr(self, name), name, unit="seconds", gt=0)
            if self.duration is not None:
                real(self.duration, "duration", unit="seconds", gt=0)
            for name in ("decay_step", "jitter"):
                if getattr(self, name) is not None:
                    real(getattr(self, name), name, unit="seconds", ge=0)
            whole(self.seed, "seed")
        except BadNumber as e:
            raise LiveError(str(e)) from None
        step_problem = None if self.decay_step is None else check_decay_step(self.decay_step)
        if step_problem is not None:
            raise LiveError(step_problem)
        _check_pair_names(self.pairs)
        try:
            check_base_url(self.base_url)
        except ValueError as e:
            raise LiveError(str(e)) from None
        self._check_margins()

    def _check_margins(self) -> None:
        """:class:`MarginTooLarge` when :func:`limiter_settings` leaves a counter no room.

        A decay step above the room is named first (no jitter can make up for it); if the
        jitter must also come down, the error says how far with the largest step.  Else the
        jitter is too large for the step given (or for continuous decay).
        """
        settings = limiter_settings(self)
        problem = margin_problem(self.tier, settings)
        if problem is None:
            return
        r = room(self.tier, margin=settings.margin, unseen_step=settings.unseen_step)
        if self.decay_step is not None and self.decay_step > r:
            step = self._fit("decay_step", r, self.jitter)
            if margin_problem(self.tier, limiter_settings_for(step, self.jitter)) is None:
                raise MarginTooLarge("decay_step", self.decay_step, step, self.tier, problem)
            assert self.jitter is not None  # the live default jitter fits any step <= room
            jitter = self._fit("jitter", self._jitter_bound(step), step)
            raise MarginTooLarge("decay_step", self.decay_step, step, self.tier, problem,
                                 jitter_largest=jitter)
        assert self.jitter is not None  # the step fits: only a given jitter can be too large
        raise MarginTooLarge("jitter", self.jitter,
                             self._fit("jitter", self._jitter_bound(self.decay_step),
                                       self.decay_step),
                             self.tier, problem)

    def _jitter_bound(self, decay_step: float | None) -> float:
        """The largest jitter (s, before rounding) the margins allow with ``decay_step``."""
        s = limiter_settings_for(decay_step, 0.0)
        return largest_jitter(self.tier, decay_step=s.decay_step, margin=s.margin,
                              unseen_step=s.unseen_step) - LOOPBACK_JITTER

    def _fit(self, name: str, bound: float, other: float | None) -> float:
        """``bound`` rounded down to the millisecond, lowered a millisecond at a time (a few
        steps at most) while float rounding still leaves no room with ``other`` (the other
        setting's value)."""
        largest = max(0.0, _millis_down(bound))
        for _ in range(5):
            step, jitter = (largest, other) if name == "decay_step" else (other, largest)
            if largest <= 0 or margin_problem(self.tier,
                                              limiter_settings_for(step, jitter)) is None:
                break
            largest = max(0.0, round(largest - 0.001, 3))
        return largest


def limiter_settings(config: LiveConfig) -> LimiterSettings:
    """The engine's margins for ``config``.

    Against Kraken (nothing known): :meth:`LimiterSettings.live`.  With the server's
    ``decay_step`` known the model steps exactly like it (phase unknown, which the stepped
    model allows for); with its ``jitter`` known the margin allows that plus
    :data:`LOOPBACK_JITTER`.  What is not given keeps the live default.
    """
    return limiter_settings_for(config.decay_step, config.jitter)


def limiter_settings_for(decay_step: float | None, jitter: float | None) -> LimiterSettings:
    """:func:`limiter_settings` for a server decay step and jitter (s; None: unknown)."""
    live = LimiterSettings.live()
    if decay_step is None and jitter is None:
        return live
    if decay_step is None:
        step, unseen = live.decay_step, live.unseen_step
    else:
        step, unseen = decay_step, 0.0
    j = live.jitter if jitter is None else jitter + LOOPBACK_JITTER
    margin = live.margin if decay_step is None else 0.0
    return LimiterSettings(decay_step=step, unseen_step=unseen, jitter=j, margin=margin)
