"""Coalescing: folding a new amend, edit or cancel into what is still queued for its order.

:func:`coalesce` decides; the engine applies the :class:`Resolution`.  The rules:

* the order's add is still queued: a cancel drops the order from the add (both resolve
  ``coalesced``, no request; a batch add keeps its other orders); an amend or edit changes
  the queued add and resolves ``coalesced``;
* a cancel of the order is already queued: an amend, edit or cancel resolves ``coalesced``;
* a cancel retires the queued amends and edits of its order (``coalesced``);
* an amend or edit replaces a queued amend or edit of the same order; fields the newer one
  leaves out carry over from the older.

Nothing here mutates: the functions return new intents and the items to retire.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import NamedTuple

import attrs

from engine.core.items import Item
from engine.core.orders import OrderRecord, OrderState
from engine.intents import AddOrder, AddOrderBatch, AmendOrder, CancelOrder, EditOrder, Intent

__all__ = ["Fold", "Resolution", "coalesce", "drop_from_add", "fold_into_add", "merge_changes"]

Change = AmendOrder | EditOrder


class Fold(enum.Enum):
    """How a new intent about an order is folded."""

    INTO_ADD = "into_add"  # an amend/edit changed the queued add: nothing to send
    DROPS_ADD = "drops_add"  # a cancel removed the order from its queued add
    CANCEL_QUEUED = "cancel_queued"  # a cancel of the order is already queued
    QUEUE = "queue"  # queue it (``retire`` lists what it replaces)


class Resolution(NamedTuple):
    """What to do with a new amend, edit or cancel.

    ``intent``: the new item's intent (a merged amend for ``QUEUE``); ``add_intent``: the
    queued add's new intent for ``INTO_ADD``/``DROPS_ADD`` (None: the add has no order left
    and is coalesced too); ``retire``: queued items made unnecessary, with the reason;
    ``error``: why the new item itself resolves ``coalesced`` (None for ``QUEUE``).
    """

    fold: Fold
    intent: Intent
    add_intent: Intent | None = None
    retire: tuple[tuple[Item, str], ...] = ()
    error: str | None = None

    @property
    def grows(self) -> int:
        """Items the queue gains (may be negative)."""
        if self.fold is Fold.QUEUE:
            return 1 - len(self.retire)
        if self.fold is Fold.DROPS_ADD and self.add_intent is None:
            return -1
        return 0


_CHANGES = (AmendOrder, EditOrder)


def coalesce(intent: AmendOrder | EditOrder | CancelOrder, rec: OrderRecord,
             queued: Sequence[Item], add: Item | None) -> Resolution:
    """Fold ``intent`` about ``rec`` into ``queued`` (the held, unsent items about ``rec``)
    and ``add`` (the queued add of ``rec``, when its state is QUEUED)."""
    if rec.state is OrderState.QUEUED:
        assert add is not None
        if isinstance(intent, CancelOrder):
            rest = drop_from_add(add.intent, rec.cl_ord_id)
            return Resolution(Fold.DROPS_ADD, intent, rest, (), "its order was never sent")
        return Resolution(Fold.INTO_ADD, intent, fold_into_add(add.intent, rec.cl_ord_id, intent),
                          (), "folded into the queued add")
    if rec.cancel_queued:
        return Resolution(Fold.CANCEL_QUEUED, intent, None, (),
                          "a cancel of this order is queued")
    changes = [i for i in queued if isinstance(i.intent, _CHANGES)] if queued else []
    if isinstance(intent, CancelOrder):
        why = "its order is being cancelled"
        return Resolution(Fold.QUEUE, intent, None, tuple((i, why) for i in changes))
    merged: Intent = intent
    for other in changes:
        older = other.intent
        assert isinstance(older, AmendOrder | EditOrder)
        merged = merge_changes(intent, older)
    why = "replaced by a newer amend"
    return Resolution(Fold.QUEUE, merged, None, tuple((i, why) for i in changes))


def merge_changes(newer: Change, older: Change) -> Change:
    """``newer``, with the volume or price it leaves out taken from ``older``."""
    return attrs.evolve(
        newer,
        volume=newer.volume if newer.volume is not None else older.volume,
        price=newer.price if newer.price is not None else older.price,
    )


def fold_into_add(add: Intent, cl_ord_id: str, change: Change) -> Intent:
    """The add ``add`` with order ``cl_ord_id`` changed by ``change`` (a market order keeps
    having no price)."""

    def changed(o: AddOrder) -> AddOrder:
        return attrs.evolve(
            o,
            volume=change.volume if change.volume is not None else o.volume,
            price=change.price if change.price is not None and o.price is not None else o.price,
        )

    if isinstance(add, AddOrderBatch):
        orders = tuple(changed(o) if o.cl_ord_id == cl_ord_id else o for o in add.orders)
        return attrs.evolve(add, orders=orders)
    assert isinstance(add, AddOrder)
    return changed(add)


def drop_from_add(add: Intent, cl_ord_id: str) -> Intent | None:
    """The add ``add`` without order ``cl_ord_id``: a smaller batch, a single AddOrder when
    one order is left, or None when none is."""
    if isinstance(add, AddOrderBatch):
        rest = tuple(o for o in add.orders if o.cl_ord_id != cl_ord_id)
        if len(rest) >= 2:
            return attrs.evolve(add, orders=rest)
        if len(rest) == 1:
            return rest[0]
    return None


def order_in(add: Intent, cl_ord_id: str) -> AddOrder:
    """Order ``cl_ord_id`` of the add ``add``."""
    orders = add.orders if isinstance(add, AddOrderBatch) else (add,)
    return next(o for o in orders if isinstance(o, AddOrder) and o.cl_ord_id == cl_ord_id)
