"""Market checks at submit: what the exchange would refuse is refused here, for free.

A request the exchange refuses still costs its fixed penalty (AmendOrder 1 plus the age
part, up to 4; EditOrder up to 7), so adds, amends and edits are checked against the
pair's rules before they are queued (:class:`~engine.markets.Market`):

* a limit price (quote units) must be a whole multiple of ``tick_size``;
* a volume (base units) must be at least ``ordermin``;
* ``volume * price`` (quote units) must be at least ``costmin`` -- for an amend or edit,
  with the order's current volume or price where the change leaves one out.

Each failure raises :class:`~engine.errors.InvalidIntent` naming the field.  Decimal
arithmetic on absurd values (``1e400`` against a tick of ``0.1`` needs 400 digits) is done
under a trap: it also raises ``InvalidIntent``, never a bare ``decimal`` exception.
"""

from __future__ import annotations

from decimal import Decimal, DecimalException

from engine.errors import InvalidIntent
from engine.intents import AddOrder, AmendOrder, EditOrder
from engine.markets import Market

__all__ = ["check_add", "check_change"]


def _multiple(field: str, value: Decimal, m: Market) -> None:
    try:
        off = value % m.tick_size
    except DecimalException:
        raise InvalidIntent(
            field, value, f"a multiple of {m.name} tick {m.tick_size} of a size prices have"
        ) from None
    if off != 0:
        raise InvalidIntent(field, value, f"a multiple of {m.name} tick {m.tick_size}")


def _minimum(value: Decimal, m: Market) -> None:
    if value < m.ordermin:
        raise InvalidIntent("volume", value, f"at least the {m.name} minimum {m.ordermin}")


def _cost(field: str, value: Decimal, volume: Decimal, price: Decimal, m: Market) -> None:
    try:
        small = volume * price < m.costmin
    except DecimalException:
        raise InvalidIntent(field, value, "a volume and price whose product is a number") from None
    if small:
        raise InvalidIntent(field, value, f"an order cost of at least {m.costmin} on {m.name}")


def check_add(o: AddOrder, m: Market) -> None:
    """Tick size, order minimum and cost minimum of one order to place on ``m``."""
    if o.volume < m.ordermin:
        _minimum(o.volume, m)
    price = o.price
    if price is not None:
        try:  # the usual case in one step; any doubt goes through the field-naming checks
            fine = price % m.tick_size == 0 and o.volume * price >= m.costmin
        except DecimalException:
            fine = False
        if not fine:
            _multiple("price", price, m)
            _cost("volume", o.volume, o.volume, price, m)


def check_change(change: AmendOrder | EditOrder, m: Market, volume: Decimal | None,
                 price: Decimal | None) -> None:
    """Tick size, order minimum and cost minimum of an amend or edit of an order on ``m``
    whose current volume and price are ``volume`` and ``price`` (None when unknown)."""
    if change.price is not None:
        _multiple("price", change.price, m)
    if change.volume is not None:
        _minimum(change.volume, m)
    new_volume = change.volume if change.volume is not None else volume
    new_price = change.price if change.price is not None else price
    if new_volume is not None and new_price is not None:
        field = "volume" if change.volume is not None else "price"
        _cost(field, new_volume if field == "volume" else new_price, new_volume, new_price, m)
