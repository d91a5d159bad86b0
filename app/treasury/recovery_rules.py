"""R16 recovery workflow (quy trình thu hồi tạm ứng quá hạn): the state machine as a pure function.

States: open (case opened by the sweep) → notice_sent (thông báo: number, date, deadline) → committed
(investor commitment: amount, date) → closed (outstanding reached zero, from the ledger); escalated
(report to the People's Committee, guarantee claim, debit of the investor's account) from notice_sent,
committed or escalated. A recovery recorded from the ledger is legal in every state and closes the case at
zero outstanding; only a ledger correction (the reversal of a recovering payment) that makes the advance
outstanding again leaves `closed`, back to `open`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class CaseState(StrEnum):
    open = "open"
    notice_sent = "notice_sent"
    committed = "committed"
    escalated = "escalated"
    closed = "closed"


class StepKind(StrEnum):
    notice_sent = "notice_sent"
    commitment = "commitment"
    recovery = "recovery"
    escalation = "escalation"


class Escalation(StrEnum):
    people_committee_report = "people_committee_report"  # báo cáo UBND tỉnh
    guarantee_claim = "guarantee_claim"  # yêu cầu ngân hàng thực hiện bảo lãnh
    account_debit = "account_debit"  # trích tài khoản của chủ đầu tư


_ALLOWED: dict[StepKind, frozenset[CaseState]] = {
    StepKind.notice_sent: frozenset({CaseState.open, CaseState.notice_sent}),
    StepKind.commitment: frozenset({CaseState.notice_sent, CaseState.committed}),
    StepKind.escalation: frozenset({CaseState.notice_sent, CaseState.committed, CaseState.escalated}),
    StepKind.recovery: frozenset(CaseState),
}
_TARGET = {StepKind.notice_sent: CaseState.notice_sent, StepKind.commitment: CaseState.committed,
           StepKind.escalation: CaseState.escalated}


class IllegalTransition(ValueError):
    code = "illegal_transition"

    def __init__(self, state: CaseState, step: StepKind) -> None:
        super().__init__(f"R16: cannot record {step.value} on a case that is {state.value}")
        self.state, self.step = state, step


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    deadline: date | None = None  # notice: deadline given to the investor; commitment: committed date
    outstanding_after_vnd: int | None = None  # recovery: outstanding once it is applied


def next_state(state: CaseState, step: Step) -> CaseState:
    """The state after `step`, or raise IllegalTransition."""
    if state not in _ALLOWED[step.kind]:
        raise IllegalTransition(state, step.kind)
    if step.kind is StepKind.recovery:
        if step.outstanding_after_vnd == 0:
            return CaseState.closed
        return CaseState.open if state is CaseState.closed else state
    return _TARGET[step.kind]


def next_deadline(current: date | None, step: Step) -> date | None:
    """The date by which the case must move next: a notice's deadline or the committed date."""
    if step.kind in (StepKind.notice_sent, StepKind.commitment) and step.deadline is not None:
        return step.deadline
    return current


def deadline_passed(state: CaseState, deadline: date | None, as_of: date) -> bool:
    """R16: a deadline that passed on an open case is flagged."""
    return state is not CaseState.closed and deadline is not None and as_of > deadline
