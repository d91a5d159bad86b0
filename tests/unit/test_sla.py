"""Treasury SLA for dossiers: R15 (pure)."""

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.rulesets.calendar import WorkingCalendar, default_calendar
from app.rulesets.model import ND99, ND254
from app.treasury.sla import (
    DossierAction,
    DossierKind,
    DossierStatus,
    DossierTransitionError,
    IllegalTransition,
    ReturnReasonRequired,
    is_overdue_sla,
    is_pending_without_reason,
    next_state,
    sla_due,
    sla_due_on,
    sla_working_days,
    working_days_late,
)

CAL = default_calendar()


# --- due dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(DossierKind))
def test_r15_nd99_three_working_days_on_2025_09_25(kind):
    # Thursday 25/09 is the last day of nd99: Fri 26, Mon 29, Tue 30.
    assert sla_due_on(date(2025, 9, 25), kind, CAL) == date(2025, 9, 30)


def test_r15_nd254_payment_two_working_days_from_2025_09_26():
    assert sla_due_on(date(2025, 9, 26), DossierKind.payment, CAL) == date(2025, 9, 30)


def test_r15_nd254_advance_one_working_day_from_2025_09_26():
    assert sla_due_on(date(2025, 9, 26), DossierKind.advance, CAL) == date(2025, 9, 29)


def test_r15_working_days_per_rule_set():
    assert sla_working_days(DossierKind.payment, ND99) == 3
    assert sla_working_days(DossierKind.advance, ND99) == 3
    assert sla_working_days(DossierKind.payment, ND254) == 2
    assert sla_working_days(DossierKind.advance, ND254) == 1


def test_r15_nd99_payment_over_tet_2024():
    # Complete Wednesday 07/02/2024; Tết 08–14/02 off: Thu 15, Fri 16, Mon 19.
    assert sla_due(date(2024, 2, 7), DossierKind.payment, ND99, CAL) == date(2024, 2, 19)


def test_r15_nd254_advance_over_tet_2026():
    assert sla_due(date(2026, 2, 13), DossierKind.advance, ND254, CAL) == date(2026, 2, 23)


def test_r15_nd99_over_national_day_2025():
    # Complete Friday 29/08/2025; 01–02/09 off: Wed 3, Thu 4, Fri 5.
    assert sla_due_on(date(2025, 8, 29), DossierKind.payment, CAL) == date(2025, 9, 5)


def test_r15_dossier_complete_on_a_weekend_counts_from_monday():
    assert sla_due(date(2025, 9, 27), DossierKind.payment, ND254, CAL) == date(2025, 9, 30)
    assert sla_due(date(2025, 9, 27), DossierKind.advance, ND254, CAL) == date(2025, 9, 29)


def test_r15_make_up_saturday_counts_as_a_working_day():
    # Friday 25/04/2025; Saturday 26/04 is a make-up working day.
    assert sla_due(date(2025, 4, 25), DossierKind.advance, ND254, CAL) == date(2025, 4, 26)


def test_r15_administrator_day_off_extends_the_deadline():
    cal = WorkingCalendar(extra_days_off=[date(2025, 9, 29)])
    assert sla_due(date(2025, 9, 26), DossierKind.advance, ND254, cal) == date(2025, 9, 30)


def test_r15_sla_days_are_data():
    slow = replace(ND254, sla_payment_working_days=5)
    assert sla_due(date(2025, 10, 1), DossierKind.payment, slow, CAL) == date(2025, 10, 8)


# --- pending without reason -----------------------------------------------------------------------


def test_r15_pending_on_its_due_day_is_within_the_sla():
    assert not is_pending_without_reason(DossierStatus.complete, date(2025, 9, 30), date(2025, 9, 30), None)


def test_r15_pending_the_day_after_without_reason_is_flagged():
    assert is_pending_without_reason(DossierStatus.complete, date(2025, 9, 30), date(2025, 10, 1), None)
    assert is_pending_without_reason(DossierStatus.complete, date(2025, 9, 30), date(2025, 10, 1), "  ")


def test_r15_pending_past_due_with_a_reason_is_not_flagged():
    reason = "awaiting the investor's corrected acceptance record"
    assert is_overdue_sla(DossierStatus.complete, date(2025, 9, 30), date(2025, 10, 1))
    assert not is_pending_without_reason(DossierStatus.complete, date(2025, 9, 30), date(2025, 10, 1), reason)


@pytest.mark.parametrize("status", [DossierStatus.paid, DossierStatus.returned])
def test_r15_final_dossiers_are_never_pending(status):
    assert not is_pending_without_reason(status, date(2025, 9, 30), date(2025, 12, 1), None)


def test_r15_dossier_not_yet_complete_has_no_sla():
    assert not is_pending_without_reason(DossierStatus.submitted, None, date(2025, 12, 1), None)


def test_r15_working_days_late():
    assert working_days_late(date(2025, 9, 30), date(2025, 10, 3), CAL) == 3
    assert working_days_late(date(2025, 9, 30), date(2025, 9, 29), CAL) == 0
    assert working_days_late(date(2025, 8, 29), date(2025, 9, 2), CAL) == 0  # 1–2/09 are holidays


# --- state machine --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "action", "target"),
    [
        (DossierStatus.submitted, DossierAction.complete, DossierStatus.complete),
        (DossierStatus.complete, DossierAction.pay, DossierStatus.paid),
        (DossierStatus.complete, DossierAction.return_, DossierStatus.returned),
        (DossierStatus.submitted, DossierAction.return_, DossierStatus.returned),
    ],
)
def test_r15_legal_transitions(current, action, target):
    assert next_state(current, action, reason="missing acceptance record") is target


@pytest.mark.parametrize(
    ("current", "action"),
    [
        (DossierStatus.submitted, DossierAction.pay),  # pay only a complete dossier
        (DossierStatus.complete, DossierAction.complete),
        (DossierStatus.paid, DossierAction.return_),
        (DossierStatus.paid, DossierAction.pay),
        (DossierStatus.returned, DossierAction.complete),
    ],
)
def test_r15_illegal_transitions_raise_a_typed_error(current, action):
    with pytest.raises(IllegalTransition) as caught:
        next_state(current, action, reason="x")
    assert caught.value.code == "illegal_dossier_transition"
    assert caught.value.current is current


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_r15_return_requires_a_reason(reason):
    with pytest.raises(ReturnReasonRequired) as caught:
        next_state(DossierStatus.complete, DossierAction.return_, reason=reason)
    assert caught.value.code == "return_reason_required"
    assert isinstance(caught.value, DossierTransitionError)


@given(
    actions=st.lists(st.sampled_from(list(DossierAction)), max_size=6),
    reason=st.one_of(st.none(), st.text(max_size=5)),
)
def test_r15_any_action_sequence_stays_in_the_state_machine(actions, reason):
    status = DossierStatus.submitted
    for action in actions:
        try:
            new = next_state(status, action, reason=reason)
        except DossierTransitionError:
            continue
        assert status not in (DossierStatus.paid, DossierStatus.returned)  # final states never move
        status = new


@given(
    day=st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)),
    kind=st.sampled_from(list(DossierKind)),
)
def test_r15_due_date_is_a_working_day_after_completion(day, kind):
    due = sla_due_on(day, kind, CAL)
    assert due > day
    assert CAL.is_working_day(due)
