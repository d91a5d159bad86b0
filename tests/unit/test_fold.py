"""The one fold and the one FIFO (docs/rules.md, "Invariants of the books"), as properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.enums import AdvanceKind, BudgetLevel, CapitalSource, DisbursementKind
from app.ledger.fold import AdvanceState, DisbursementInput, LedgerRow, Scope, allocate_fifo, fifo_order, fold_ledger
from app.rulesets.model import DEFAULT_RULE_SETS

amounts = st.lists(st.integers(min_value=0, max_value=10**12), min_size=0, max_size=12)


@given(amounts, st.data())
def test_r13_fifo_recovers_oldest_first_and_exactly(advanced, data):
    recovered = data.draw(st.integers(min_value=0, max_value=sum(advanced)))
    shares = allocate_fifo(advanced, recovered)
    assert sum(shares) == recovered
    assert all(0 <= share <= amount for share, amount in zip(shares, advanced, strict=True))
    # oldest first: an advance is touched only once every older one is fully recovered
    for i, share in enumerate(shares):
        if share:
            assert all(shares[j] == advanced[j] for j in range(i))


@given(amounts, st.integers(min_value=1, max_value=10**6))
def test_r13_fifo_refuses_what_cannot_be_recovered(advanced, excess):
    with pytest.raises(ValueError):
        allocate_fifo(advanced, sum(advanced) + excess)
    with pytest.raises(ValueError):
        allocate_fifo(advanced, -excess)


def test_fifo_order_is_by_date_then_entry():
    scope = Scope(1, 0, AdvanceKind.other)
    later = AdvanceState(3, scope, date(2024, 3, 1), 1)
    earlier, same_day = AdvanceState(5, scope, date(2024, 1, 1), 1), AdvanceState(4, scope, date(2024, 1, 1), 1)
    assert [a.disbursement_id for a in fifo_order([later, earlier, same_day])] == [4, 5, 3]


def _row(i: int, kind: DisbursementKind, amount: int, recovered: int = 0, advance_kind: AdvanceKind | None = None,
         reverses: int | None = None) -> LedgerRow:
    sign = -1 if reverses else 1
    return LedgerRow(i, DisbursementInput(1, 2024, CapitalSource.local_balanced, BudgetLevel.province, kind,
                                          sign * amount, date(2024, 1, 1) + timedelta(days=i), f"D{i}", advance_kind,
                                          sign * recovered, reverses_id=reverses, budget_holder_id=1,
                                          original_value_date=date(2024, 1, 1) + timedelta(days=reverses)
                                          if reverses else None))


@given(st.lists(st.tuples(st.integers(1, 100), st.integers(0, 100)), min_size=1, max_size=8))
def test_r13_one_outstanding_model_after_any_advances_and_recoveries(pairs):
    """Project outstanding = Σ advances' outstanding, whatever the advances and (feasible) recoveries."""
    rows, outstanding, i = [], 0, 0
    for advance, recover in pairs:
        i += 1
        rows.append(_row(i, DisbursementKind.advance, advance, advance_kind=AdvanceKind.other))
        outstanding += advance
        take = min(recover, outstanding)
        if take:
            i += 1
            rows.append(_row(i, DisbursementKind.payment, take, take))
            outstanding -= take
    books = fold_ledger([], rows, DEFAULT_RULE_SETS)
    assert books.project(1).advance_outstanding_vnd == outstanding
    assert sum(a.outstanding_vnd for a in books.advances.values()) == outstanding


def test_a_reversal_folds_to_nothing():
    rows = [_row(1, DisbursementKind.advance, 50, advance_kind=AdvanceKind.other),
            _row(2, DisbursementKind.payment, 80, 20), _row(3, DisbursementKind.payment, 80, 20, reverses=2)]
    books = fold_ledger([], rows, DEFAULT_RULE_SETS)
    pool = next(iter(books.pools.values()))
    assert (pool.disbursed_vnd, pool.paid_vnd, pool.advance_recovered_vnd) == (50, 0, 0)
    assert books.advances[1].outstanding_vnd == 50
