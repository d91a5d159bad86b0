"""Treasury SLA for payment and advance dossiers (hồ sơ thanh toán / tạm ứng): pure rule R15.

The Treasury (Kho bạc Nhà nước) must pay or return a complete dossier within a number of working
days: 3 under nd99; 2 for a payment and 1 for an advance under nd254. The rule set is chosen by the
day the dossier became complete. A dossier past its due date without a recorded reason is "pending
without reason", which the provincial programme forbids.

Dossier lifecycle: submitted → complete → paid, or → returned (with a reason) from submitted or
complete. paid and returned are final: a corrected dossier is filed again as a new one, so its SLA
runs from its own completion.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from app.rulesets.calendar import WorkingCalendar
from app.rulesets.model import DEFAULT_RULE_SETS, RuleSet, ruleset_for


class DossierKind(StrEnum):
    payment = "payment"  # hồ sơ thanh toán
    advance = "advance"  # hồ sơ tạm ứng


class DossierStatus(StrEnum):
    submitted = "submitted"  # đã nộp
    complete = "complete"  # đủ hồ sơ hợp lệ: the SLA clock starts
    paid = "paid"  # đã thanh toán
    returned = "returned"  # trả lại, with reasons


class DossierAction(StrEnum):
    complete = "complete"  # Treasury accepts the dossier as complete
    pay = "pay"
    return_ = "return"  # Treasury returns it (reason required)


PENDING_STATUSES = frozenset({DossierStatus.submitted, DossierStatus.complete})
FINAL_STATUSES = frozenset({DossierStatus.paid, DossierStatus.returned})

_TRANSITIONS: dict[tuple[DossierStatus, DossierAction], DossierStatus] = {
    (DossierStatus.submitted, DossierAction.complete): DossierStatus.complete,
    (DossierStatus.submitted, DossierAction.return_): DossierStatus.returned,
    (DossierStatus.complete, DossierAction.pay): DossierStatus.paid,
    (DossierStatus.complete, DossierAction.return_): DossierStatus.returned,
}


class DossierTransitionError(ValueError):
    """A refused dossier transition; `code` is stable for problem+json."""

    code = "dossier_transition_invalid"

    def __init__(self, current: DossierStatus, action: DossierAction, detail: str) -> None:
        super().__init__(detail)
        self.current = current
        self.action = action
        self.detail = detail


class IllegalTransition(DossierTransitionError):
    code = "illegal_dossier_transition"


class ReturnReasonRequired(DossierTransitionError):
    code = "return_reason_required"


def next_state(current: DossierStatus, action: DossierAction, *, reason: str | None = None) -> DossierStatus:
    """The status after `action`, or raise: `IllegalTransition`, or `ReturnReasonRequired` when a
    dossier is returned without a reason (R15: nothing is returned or held without a stated reason)."""
    target = _TRANSITIONS.get((current, action))
    if target is None:
        raise IllegalTransition(current, action, f"cannot {action.value} a dossier that is {current.value}")
    if target is DossierStatus.returned and not (reason and reason.strip()):
        raise ReturnReasonRequired(current, action, "a returned dossier must state the reason")
    return target


def sla_working_days(dossier_kind: DossierKind, rule_set: RuleSet) -> int:
    """R15: working days the Treasury has for this kind of dossier under `rule_set`."""
    if dossier_kind is DossierKind.advance:
        return rule_set.sla_advance_working_days
    return rule_set.sla_payment_working_days


def sla_due(
    completed_on: date, dossier_kind: DossierKind, rule_set: RuleSet, calendar: WorkingCalendar
) -> date:
    """R15: last day to pay or return a dossier complete on `completed_on`.

    The n-th working day after the completion day (which is not counted); a dossier completed on a
    weekend or holiday counts from the next working day onwards in the same way.
    """
    return calendar.add_working_days(completed_on, sla_working_days(dossier_kind, rule_set))


def sla_due_on(
    completed_on: date,
    dossier_kind: DossierKind,
    calendar: WorkingCalendar,
    rule_sets: tuple[RuleSet, ...] = DEFAULT_RULE_SETS,
) -> date:
    """`sla_due` under the rule set in force on the completion day (nd254 from 2025-09-26)."""
    return sla_due(completed_on, dossier_kind, ruleset_for(completed_on, rule_sets), calendar)


def is_overdue_sla(status: DossierStatus, due: date | None, as_of: date) -> bool:
    """Still pending after its due day (the due day itself is within the SLA)."""
    return status in PENDING_STATUSES and due is not None and as_of > due


def is_pending_without_reason(
    status: DossierStatus, due: date | None, as_of: date, reason: str | None
) -> bool:
    """R15: pending past its SLA with no recorded reason (chậm không nêu lý do). `due` is None until
    the dossier is complete; a blank reason counts as none."""
    return is_overdue_sla(status, due, as_of) and not (reason and reason.strip())


def working_days_late(due: date, as_of: date, calendar: WorkingCalendar) -> int:
    """Working days elapsed after the due day (0 when not late)."""
    return max(0, calendar.working_days_between(due, as_of))
