"""The strategy interface: a few hooks, called by a runner, acting through a context.

A strategy is a subclass of :class:`Strategy` with a ``name``, a one-line ``description``
and a parameter class ``params_type`` (see :mod:`strategies.params`).  A runner (the
backtest, later the live runner) builds a :class:`~strategies.context.StrategyContext`,
instantiates the strategy with it and calls, all synchronously on the event loop:

* :meth:`Strategy.start` once, after the first price of every pair is known;
* :meth:`Strategy.on_tick` on every price update of one of the run's pairs;
* :meth:`Strategy.on_order_update` when an intent the strategy submitted reaches its
  terminal outcome, or when the exchange closes one of its orders without a fill;
* :meth:`Strategy.on_fill` when one of its orders executed;
* :meth:`Strategy.stop` once at the end of the run (default: cancel every open order).

Hooks must not block; they submit intents (``self.ctx.submit``) and arm timers
(``self.ctx.call_later``).  The value objects they receive are defined here: prices in
quote units, volumes in base units (exact :class:`~decimal.Decimal`), times in seconds on
the engine's clock.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import attrs

from engine.intents import CancelOrder, Side
from engine.outcomes import Outcome
from strategies.params import NoParams

if TYPE_CHECKING:
    from strategies.context import StrategyContext

__all__ = ["Fill", "OrderEvent", "OrderUpdate", "P", "Strategy", "Tick"]

P = TypeVar("P")


@attrs.frozen(slots=True)
class Tick:
    """The price of ``pair`` moved to ``price`` (quote units) at ``time`` (seconds)."""

    pair: str
    price: Decimal
    time: float


@attrs.frozen(slots=True)
class Fill:
    """One of the strategy's orders executed in full: ``volume`` at ``price``.

    ``maker`` is True when the order rested and the price came to it.
    """

    cl_ord_id: str
    txid: str
    pair: str
    side: Side
    price: Decimal
    volume: Decimal
    time: float
    maker: bool = True


class OrderEvent(enum.StrEnum):
    """What an :class:`OrderUpdate` reports."""

    OUTCOME = "outcome"  # an intent reached its terminal outcome (see ``outcome``)
    CLOSED = "closed"  # the exchange closed the order without a fill (expiry, dead man)


@attrs.frozen(slots=True)
class OrderUpdate:
    """A change about one of the strategy's orders.

    ``cl_ord_id`` names the order (None for an intent not about one order, e.g. a query);
    ``outcome`` is the engine's terminal outcome for ``OUTCOME`` events; ``reason`` says
    why a ``CLOSED`` order left the book.
    """

    event: OrderEvent
    cl_ord_id: str | None
    pair: str | None
    time: float
    outcome: Outcome | None = None
    reason: str | None = None


class Strategy(Generic[P]):
    """Base class of every strategy (built-in or plugin).

    Subclasses set the class attributes ``name`` (the registry name, kebab-case),
    ``description`` (one line) and ``params_type`` (an attrs class; :class:`NoParams` if
    none), and override the hooks they need.  ``self.ctx`` is the context, and
    ``self.params`` the validated parameters.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    params_type: ClassVar[type[Any]] = NoParams

    def __init__(self, ctx: StrategyContext[P]) -> None:
        self.ctx = ctx

    @property
    def params(self) -> P:
        """This run's parameters (an instance of ``params_type``)."""
        return self.ctx.params

    def start(self) -> None:
        """Called once at the start of the run; every pair's price is known."""

    def on_tick(self, tick: Tick) -> None:
        """Called on every price update of one of the run's pairs."""

    def on_order_update(self, update: OrderUpdate) -> None:
        """Called when one of the strategy's intents resolves or an order is closed."""

    def on_fill(self, fill: Fill) -> None:
        """Called when one of the strategy's orders executed."""

    def stop(self) -> None:
        """Called once at the end of the run.  By default cancels every open order."""
        for order in self.ctx.open_orders():
            # re-checked: a submit runs the engine's pump, which may expire queued adds
            if not order.closing and self.ctx.owns(order.cl_ord_id):
                self.ctx.submit(CancelOrder(order.cl_ord_id))
