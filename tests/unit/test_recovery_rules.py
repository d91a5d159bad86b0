"""R16 recovery workflow state machine (pure)."""

from __future__ import annotations

from datetime import date

import pytest

from app.treasury.recovery_rules import (
    CaseState,
    IllegalTransition,
    Step,
    StepKind,
    deadline_passed,
    next_deadline,
    next_state,
)

S = CaseState


@pytest.mark.parametrize(("state", "kind", "expected"), [
    (S.open, StepKind.notice_sent, S.notice_sent),
    (S.notice_sent, StepKind.notice_sent, S.notice_sent),
    (S.notice_sent, StepKind.commitment, S.committed),
    (S.committed, StepKind.commitment, S.committed),
    (S.notice_sent, StepKind.escalation, S.escalated),
    (S.committed, StepKind.escalation, S.escalated),
    (S.escalated, StepKind.escalation, S.escalated),
])
def test_r16_legal_transitions(state, kind, expected):
    assert next_state(state, Step(kind)) is expected


@pytest.mark.parametrize(("state", "kind"), [
    (S.open, StepKind.commitment), (S.open, StepKind.escalation), (S.escalated, StepKind.commitment),
    (S.escalated, StepKind.notice_sent), (S.committed, StepKind.notice_sent),
    (S.closed, StepKind.notice_sent), (S.closed, StepKind.commitment), (S.closed, StepKind.escalation),
])
def test_r16_illegal_transitions(state, kind):
    with pytest.raises(IllegalTransition) as error:
        next_state(state, Step(kind, outstanding_after_vnd=0))
    assert error.value.code == "illegal_transition"


@pytest.mark.parametrize("state", [S.open, S.notice_sent, S.committed, S.escalated])
def test_r16_recovery_closes_at_zero_only(state):
    assert next_state(state, Step(StepKind.recovery, outstanding_after_vnd=1)) is state
    assert next_state(state, Step(StepKind.recovery, outstanding_after_vnd=0)) is S.closed


def test_r16_deadlines_and_flag():
    d = date(2024, 11, 10)
    assert next_deadline(None, Step(StepKind.notice_sent, deadline=d)) == d
    assert next_deadline(d, Step(StepKind.escalation)) == d
    assert not deadline_passed(S.notice_sent, d, d)  # the deadline day itself is still in time
    assert deadline_passed(S.notice_sent, d, date(2024, 11, 11))
    assert not deadline_passed(S.closed, d, date(2025, 1, 1))
    assert not deadline_passed(S.open, None, date(2025, 1, 1))


def test_r16_a_ledger_correction_reopens_a_closed_case():
    """A reversal of the recovering payment makes the advance outstanding again: the case is open again."""
    assert next_state(S.closed, Step(StepKind.recovery, outstanding_after_vnd=5)) is S.open
    assert next_state(S.closed, Step(StepKind.recovery, outstanding_after_vnd=0)) is S.closed
