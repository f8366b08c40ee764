"""Lanes: FIFO within a class, round robin across strategies, lazy removal."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.core.lanes import ClassQueue, PairQueue, Priority


class Item:
    def __init__(self, strategy: str, n: int) -> None:
        self.strategy = strategy
        self.n = n
        self.live = True


def drain(q: ClassQueue[Item]) -> list[tuple[str, int]]:
    out = []
    while q.peek() is not None:
        i = q.pop()
        out.append((i.strategy, i.n))
    return out


def test_fifo_within_strategy_and_round_robin() -> None:
    q: ClassQueue[Item] = ClassQueue()
    for n in range(3):
        q.push(Item("a", n))
    q.push(Item("b", 0))
    q.push(Item("b", 1))
    assert drain(q) == [("a", 0), ("b", 0), ("a", 1), ("b", 1), ("a", 2)]
    assert len(q) == 0


def test_dead_items_skipped_and_push_front() -> None:
    q: ClassQueue[Item] = ClassQueue()
    items = [Item("a", n) for n in range(4)]
    for i in items:
        q.push(i)
    items[0].live = False
    q.discard()
    items[2].live = False
    q.discard()
    assert len(q) == 2
    first = q.pop()
    q.push_front(first)
    assert drain(q) == [("a", 1), ("a", 3)]


def test_push_front_new_strategy_goes_first() -> None:
    q: ClassQueue[Item] = ClassQueue()
    q.push(Item("a", 0))
    q.push_front(Item("b", 9))
    assert drain(q) == [("b", 9), ("a", 0)]


def test_pair_queue_classes() -> None:
    p: PairQueue[Item] = PairQueue()
    p[Priority.ADD].push(Item("a", 1))
    p[Priority.CANCEL].push(Item("a", 2))
    assert len(p) == 2
    assert [int(x) for x in Priority] == [0, 1, 2]


@given(st.lists(st.sampled_from("abc"), max_size=60))
def test_no_strategy_starves(strategies: list[str]) -> None:
    """Every strategy's k-th item is served before any strategy's (k+2)-th."""
    q: ClassQueue[Item] = ClassQueue()
    counts: dict[str, int] = {}
    for s in strategies:
        q.push(Item(s, counts.get(s, 0)))
        counts[s] = counts.get(s, 0) + 1
    served = drain(q)
    assert sorted(served) == sorted((s, n) for s, c in counts.items() for n in range(c))
    for s in counts:
        mine = [n for (t, n) in served if t == s]
        assert mine == sorted(mine)  # FIFO per strategy
    seen: dict[str, int] = {}
    for s, n in served:
        seen[s] = n
        for other, c in counts.items():
            if other != s and seen.get(other, -1) < min(n - 1, c - 1):
                raise AssertionError(f"{other} starved while {s} reached {n}")
