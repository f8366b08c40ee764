"""Lanes: priority classes, FIFO within a class, fair across strategies.

A :class:`PairQueue` holds three :class:`ClassQueue` s, served in order: cancels, then
amends/edits, then adds.  Inside a class each strategy has its own FIFO and strategies
take turns (round robin), so a strategy flooding the engine cannot starve another.

Removal of an arbitrary queued item (coalescing, expiry) is lazy: the item is marked dead
and skipped when it reaches the front, so every operation is O(1) amortised.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar

__all__ = ["ClassQueue", "PairQueue", "Priority", "Queued"]


class Priority(enum.IntEnum):
    """Service order within a pair: lower goes first."""

    CANCEL = 0
    MODIFY = 1
    ADD = 2


class Queued(Protocol):
    """What a queue holds: an item that knows its strategy and whether it is still live."""

    @property
    def strategy(self) -> str: ...

    @property
    def live(self) -> bool: ...


T = TypeVar("T", bound=Queued)


class ClassQueue(Generic[T]):
    """FIFO per strategy, strategies served round robin; dead items skipped lazily."""

    __slots__ = ("_by_strategy", "live")

    def __init__(self) -> None:
        self._by_strategy: dict[str, deque[T]] = {}
        self.live = 0  # live items held

    def push(self, item: T) -> None:
        q = self._by_strategy.get(item.strategy)
        if q is None:
            q = self._by_strategy[item.strategy] = deque()
        q.append(item)
        self.live += 1

    def push_front(self, item: T) -> None:
        """Put ``item`` back at the front of its strategy's FIFO (a retry keeps its place)."""
        q = self._by_strategy.get(item.strategy)
        if q is None:
            # a new strategy key goes last in the rotation; make it first instead
            self._by_strategy = {item.strategy: deque([item]), **self._by_strategy}
        else:
            q.appendleft(item)
        self.live += 1

    def peek(self) -> T | None:
        """The next live item (the first strategy's oldest), or None."""
        by = self._by_strategy
        while by:
            strategy = next(iter(by))
            q = by[strategy]
            while q and not q[0].live:
                q.popleft()
            if q:
                return q[0]
            del by[strategy]
        return None

    def pop(self) -> T:
        """Remove and return :meth:`peek`'s item; its strategy moves to the back of the turn."""
        item = self.peek()
        if item is None:
            raise IndexError("pop from an empty ClassQueue")
        strategy = item.strategy
        q = self._by_strategy.pop(strategy)
        q.popleft()
        if q:
            self._by_strategy[strategy] = q
        self.live -= 1
        return item

    def discard(self) -> None:
        """Account for one item of this queue marked dead in place."""
        self.live -= 1

    def __iter__(self) -> Iterator[T]:
        for q in self._by_strategy.values():
            yield from (i for i in q if i.live)

    def __len__(self) -> int:
        return self.live


class PairQueue(Generic[T]):
    """The three priority classes of one pair."""

    __slots__ = ("classes",)

    def __init__(self) -> None:
        self.classes: tuple[ClassQueue[T], ClassQueue[T], ClassQueue[T]] = (
            ClassQueue(), ClassQueue(), ClassQueue(),
        )

    def __getitem__(self, priority: Priority) -> ClassQueue[T]:
        return self.classes[priority]

    def __len__(self) -> int:
        c = self.classes
        return c[0].live + c[1].live + c[2].live
