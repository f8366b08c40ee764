"""Trading-counter penalties by transaction and order age (kraken-rate-limits.md section 2)."""

from __future__ import annotations

import math

import pytest

from limiters.errors import InvalidAmount, UnknownTransaction
from limiters.penalties import (
    AGE_EDGES,
    BATCH_ADD_MAX,
    BATCH_ADD_MIN,
    BATCH_CANCEL_MAX,
    PENALTIES,
    Transaction,
    add_batch_penalty,
    add_penalty,
    cancel_batch_penalty,
    next_cheaper_age,
    penalty,
)

# Documented totals (fixed + age part) per bucket: <5, <10, <15, <45, <90, <300, >=300 s.
TOTALS: dict[Transaction, tuple[int, ...]] = {
    Transaction.AMEND: (4, 3, 2, 1, 1, 1, 1),
    Transaction.EDIT: (7, 6, 5, 3, 2, 1, 1),
    Transaction.CANCEL: (8, 6, 5, 4, 2, 1, 0),
}

# age (s) -> bucket index; edges are strict upper bounds ("exactly 5.0 s is in < 10 s").
AGES: list[tuple[float, int]] = [
    (0.0, 0),
    (3.0, 0),
    (4.999, 0),
    (5.0, 1),
    (9.999, 1),
    (10.0, 2),
    (14.999, 2),
    (15.0, 3),
    (44.999, 3),
    (45.0, 4),
    (89.999, 4),
    (90.0, 5),
    (299.999, 5),
    (300.0, 6),
    (86_400.0, 6),
]

CASES = [
    pytest.param(tx, age, TOTALS[tx][bucket], id=f"{tx.value}-{age:g}s")
    for tx in Transaction
    for age, bucket in AGES
]


@pytest.mark.parametrize(("transaction", "age", "expected"), CASES)
def test_penalty_at_every_bucket_edge(transaction: Transaction, age: float, expected: int) -> None:
    assert penalty(transaction, age) == expected
    assert penalty(transaction.value, age) == expected
    assert PENALTIES[transaction].at(age) == expected


@pytest.mark.parametrize(
    ("transaction", "expected"),
    [(Transaction.AMEND, 4), (Transaction.EDIT, 7), (Transaction.CANCEL, 8)],
)
def test_documented_costs_at_three_seconds(transaction: Transaction, expected: int) -> None:
    assert penalty(transaction, 3) == expected


def test_documented_worked_example() -> None:
    # add (+1), amend after 7 s (+1+2), cancel 36 s after the amend (+4): total 8
    total = add_penalty() + penalty(Transaction.AMEND, 7.0) + penalty(Transaction.CANCEL, 36.0)
    assert add_penalty() == 1
    assert penalty(Transaction.AMEND, 7.0) == 3
    assert penalty(Transaction.CANCEL, 36.0) == 4
    assert total == 8


def test_tables_have_one_entry_per_bucket_and_never_rise_with_age() -> None:
    assert AGE_EDGES == (5.0, 10.0, 15.0, 45.0, 90.0, 300.0)
    for tx, table in PENALTIES.items():
        assert len(table.by_age) == len(AGE_EDGES) + 1
        totals = tuple(table.fixed + part for part in table.by_age)
        assert totals == TOTALS[tx]
        assert list(totals) == sorted(totals, reverse=True)
    assert {tx: t.fixed for tx, t in PENALTIES.items()} == {
        Transaction.AMEND: 1,
        Transaction.EDIT: 1,
        Transaction.CANCEL: 0,
    }


@pytest.mark.parametrize("age", [math.nan, math.inf, -math.inf, -1.0, -0.001, True, "5", None])
@pytest.mark.parametrize("transaction", list(Transaction))
def test_bad_ages_are_refused_naming_age(transaction: Transaction, age: object) -> None:
    with pytest.raises(InvalidAmount, match=r"^age must be"):
        penalty(transaction, age)  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount, match=r"^age must be"):
        next_cheaper_age(transaction, age)  # type: ignore[arg-type]


@pytest.mark.parametrize("transaction", ["add", "Amend", "", "cancel_all", "frob"])
def test_unknown_transaction_is_a_typed_error_naming_it(transaction: str) -> None:
    with pytest.raises(UnknownTransaction, match=f"unknown transaction {transaction!r}"):
        penalty(transaction, 1.0)
    with pytest.raises(UnknownTransaction, match="expected one of: amend, edit, cancel"):
        next_cheaper_age(transaction, 1.0)


def test_transaction_names_and_members_are_both_accepted() -> None:
    assert penalty("cancel", 0.0) == penalty(Transaction.CANCEL, 0.0) == 8


@pytest.mark.parametrize("n", range(BATCH_ADD_MIN, BATCH_ADD_MAX + 1))
def test_add_batch_penalty_rounds_half_up(n: int) -> None:
    expected = {2: 1, 3: 2, 4: 2, 5: 3, 6: 3, 7: 4, 8: 4, 9: 5, 10: 5, 11: 6, 12: 6, 13: 7, 14: 7}
    expected |= {15: 8}
    assert add_batch_penalty(n) == expected[n] == math.ceil(n / 2)


@pytest.mark.parametrize("n", [1, 16, 0, -2, True, False, 2.0, 4.5, "4", None])
def test_add_batch_refuses_bad_sizes(n: object) -> None:
    with pytest.raises(InvalidAmount, match=r"^batch size must be an integer from 2 to 15"):
        add_batch_penalty(n)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ages", "expected"),
    [
        ([], 0),
        ([3.0], 8),
        ([3.0, 3.0], 16),
        ([0.0, 5.0, 10.0, 15.0, 45.0, 90.0, 300.0], 8 + 6 + 5 + 4 + 2 + 1 + 0),
        ([4.999, 9.999, 14.999, 44.999, 89.999, 299.999], 8 + 6 + 5 + 4 + 2 + 1),
        ([1000.0] * BATCH_CANCEL_MAX, 0),
        ([1.0] * BATCH_CANCEL_MAX, 8 * BATCH_CANCEL_MAX),
    ],
)
def test_cancel_batch_is_the_sum_of_cancels(ages: list[float], expected: int) -> None:
    assert cancel_batch_penalty(ages) == expected
    assert cancel_batch_penalty(iter(ages)) == expected
    assert expected == sum(penalty(Transaction.CANCEL, a) for a in ages)


def test_cancel_batch_refuses_a_bad_age() -> None:
    with pytest.raises(InvalidAmount, match=r"^age must be finite"):
        cancel_batch_penalty([1.0, math.nan])


@pytest.mark.parametrize(
    ("transaction", "age", "expected"),
    [
        (Transaction.CANCEL, 0.0, 5.0),
        (Transaction.CANCEL, 4.999, 5.0),
        (Transaction.CANCEL, 5.0, 10.0),
        (Transaction.CANCEL, 12.0, 15.0),
        (Transaction.CANCEL, 15.0, 45.0),
        (Transaction.CANCEL, 60.0, 90.0),
        (Transaction.CANCEL, 90.0, 300.0),
        (Transaction.CANCEL, 299.999, 300.0),
        (Transaction.CANCEL, 300.0, None),
        (Transaction.CANCEL, 5000.0, None),
        (Transaction.AMEND, 0.0, 5.0),
        (Transaction.AMEND, 7.0, 10.0),
        (Transaction.AMEND, 10.0, 15.0),
        (Transaction.AMEND, 14.999, 15.0),
        (Transaction.AMEND, 15.0, None),
        (Transaction.AMEND, 100.0, None),
        (Transaction.EDIT, 1.0, 5.0),
        (Transaction.EDIT, 5.0, 10.0),
        (Transaction.EDIT, 10.0, 15.0),
        (Transaction.EDIT, 15.0, 45.0),
        (Transaction.EDIT, 45.0, 90.0),
        (Transaction.EDIT, 90.0, None),  # <300 and >=300 both cost 1
        (Transaction.EDIT, 400.0, None),
    ],
)
def test_next_cheaper_age(transaction: Transaction, age: float, expected: float | None) -> None:
    assert next_cheaper_age(transaction, age) == expected
    assert next_cheaper_age(transaction.value, age) == expected
    if expected is not None:
        assert penalty(transaction, expected) < penalty(transaction, age)
        # nothing between age and the returned edge is cheaper
        assert penalty(transaction, math.nextafter(expected, 0.0)) == penalty(transaction, age)
