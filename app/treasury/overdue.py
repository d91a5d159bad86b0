"""Overdue advances (tạm ứng quá hạn) and guarantee status: pure rules R6, R9–R12.

Everything here is a function of explicit inputs (facts, a date, a `RuleSet`): no database, no clock.

Boundaries, decided once for the whole service:
- Months are calendar months clamped to the month end (`add_months`): 30/11 + 3 months = 28/02.
- `overdue_date` is the recovery deadline (hạn thu hồi): the LAST day on which an outstanding balance
  is not yet overdue. "Outstanding three months after" means outstanding once that day has passed, so
  an advance is overdue when `as_of > overdue_date`; day 1 overdue is the day after the deadline.
- Due soon (R12): overdue within `due_soon_days`, counted to the first overdue day; on the deadline
  itself one day remains.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from app.enums import AdvanceKind
from app.rulesets.calendar import add_months
from app.rulesets.model import DEFAULT_RULE_SETS, RuleSet, ruleset_for

RULE_BY_KIND: dict[AdvanceKind, str] = {
    AdvanceKind.contract: "R9",
    AdvanceKind.site_clearance: "R10",
    AdvanceKind.other: "R11",
}


class AdvanceStatus(StrEnum):
    current = "current"  # trong hạn
    due_soon = "due_soon"  # sắp đến hạn (R12)
    overdue = "overdue"  # quá hạn (R9–R11)
    recovered = "recovered"  # đã thu hồi hết


class GuaranteeStatus(StrEnum):
    """R6 bảo lãnh tạm ứng."""

    not_required = "not_required"
    covered = "covered"
    insufficient = "insufficient"  # guarantee below the outstanding advance
    expiring = "expiring"  # expires within guarantee_warning_days while a balance remains
    expired = "expired"  # expired with a balance: high risk


@dataclass(frozen=True, slots=True)
class AdvanceFacts:
    """What the overdue and guarantee rules need to know about one advance.

    `advanced_on` is the value date of the advance being assessed. R10 and R11 run their clock from
    it, so callers assess each advance disbursement separately, recoveries applied oldest first (the
    ledger's one FIFO, `app.ledger.fold.allocate_fifo`); for a contract advance (R9) the clock runs from the contract's
    `full_recovery_date` and `advanced_on` is the first advance, kept for reporting.
    `advanced_vnd` is the cumulative amount advanced (R6 compares it with the guarantee threshold).
    """

    kind: AdvanceKind
    advanced_on: date
    advanced_vnd: int
    outstanding_vnd: int
    full_recovery_date: date | None = None  # R9: hạn thu hồi hết tạm ứng recorded in the contract
    held_for_disputes_vnd: int = 0  # R10: held for owners who refuse or dispute compensation
    extended_until: date | None = None  # R11: extension (gia hạn) of a non-contract advance
    marked_misuse: bool = False  # R9: the Treasury marked it overdue for misuse (sử dụng sai mục đích)
    marked_misuse_on: date | None = None
    guarantee_vnd: int = 0
    guarantee_expires_on: date | None = None  # None with an amount: no expiry recorded

    def __post_init__(self) -> None:
        amounts = (self.advanced_vnd, self.outstanding_vnd, self.held_for_disputes_vnd, self.guarantee_vnd)
        if any(amount < 0 for amount in amounts):
            raise ValueError("amounts must not be negative")
        if self.outstanding_vnd > self.advanced_vnd:
            raise ValueError("outstanding advance cannot exceed the amount advanced")
        if self.held_for_disputes_vnd and self.kind is not AdvanceKind.site_clearance:
            raise ValueError("held_for_disputes_vnd applies to site-clearance advances only (R10)")
        if self.extended_until is not None and self.kind is not AdvanceKind.other:
            raise ValueError("extended_until applies to other non-contract advances only (R11)")
        if self.marked_misuse_on is not None and not self.marked_misuse:
            raise ValueError("marked_misuse_on given without marked_misuse")

    @property
    def rule_id(self) -> str:
        return RULE_BY_KIND[self.kind]

    @property
    def overdue_eligible_vnd(self) -> int:
        """The part of the outstanding balance that can be overdue (R10 excludes disputed money)."""
        return max(0, self.outstanding_vnd - self.held_for_disputes_vnd)


@dataclass(frozen=True, slots=True)
class Classification:
    """Result of `classify`: status, how late, how much, and which rule decided it."""

    status: AdvanceStatus
    rule_id: str  # "R9", "R10" or "R11"
    rule_set_code: str
    overdue_date: date | None  # recovery deadline; None: no full-recovery date recorded (R9)
    days_overdue: int  # 0 unless overdue
    days_to_overdue: int | None  # days until the first overdue day (current / due_soon), else None
    overdue_vnd: int  # 0 unless overdue
    misuse: bool = False


def overdue_date(facts: AdvanceFacts, rule_set: RuleSet) -> date | None:
    """The recovery deadline: the last day on which the outstanding balance is not yet overdue.

    R9 contract: full-recovery date + `overdue_contract_months` (None when the contract records no
    full-recovery date). R10 site clearance (GPMB): advance date + `overdue_site_clearance_months`.
    R11 other: advance date + `overdue_other_months`, or the extension date when later (an extension
    never shortens the deadline).
    """
    if facts.kind is AdvanceKind.contract:
        if facts.full_recovery_date is None:
            return None
        return add_months(facts.full_recovery_date, rule_set.overdue_contract_months)
    if facts.kind is AdvanceKind.site_clearance:
        return add_months(facts.advanced_on, rule_set.overdue_site_clearance_months)
    deadline = add_months(facts.advanced_on, rule_set.overdue_other_months)
    if facts.extended_until is not None and facts.extended_until > deadline:
        return facts.extended_until
    return deadline


def first_overdue_day(facts: AdvanceFacts, rule_set: RuleSet) -> date | None:
    """The day after the deadline: the first day an outstanding balance counts as overdue."""
    deadline = overdue_date(facts, rule_set)
    return None if deadline is None else deadline + timedelta(days=1)


def site_clearance_settle_by(facts: AdvanceFacts, rule_set: RuleSet) -> date:
    """R10: a site-clearance advance is expected to be settled within `site_clearance_settle_days`."""
    return facts.advanced_on + timedelta(days=rule_set.site_clearance_settle_days)


def _misuse_effective(facts: AdvanceFacts, as_of: date) -> bool:
    return facts.marked_misuse and (facts.marked_misuse_on is None or facts.marked_misuse_on <= as_of)


def classify(facts: AdvanceFacts, as_of: date, rule_set: RuleSet) -> Classification:
    """Status of an advance on `as_of` under R9–R12.

    - no outstanding balance → recovered;
    - marked for misuse (R9) → overdue for the whole outstanding balance from the marking date;
    - `as_of` after the deadline with an eligible balance → overdue for outstanding − held (R10);
    - first overdue day within `due_soon_days` → due soon (R12); otherwise current.
    """
    deadline = overdue_date(facts, rule_set)

    def result(
        status: AdvanceStatus,
        days_overdue: int = 0,
        days_to_overdue: int | None = None,
        overdue_vnd: int = 0,
        misuse: bool = False,
    ) -> Classification:
        return Classification(
            status, facts.rule_id, rule_set.code, deadline, days_overdue, days_to_overdue, overdue_vnd, misuse
        )

    if facts.outstanding_vnd == 0:
        return result(AdvanceStatus.recovered)
    days_past = max(0, (as_of - deadline).days) if deadline is not None else 0
    if _misuse_effective(facts, as_of):
        since_marking = (as_of - facts.marked_misuse_on).days if facts.marked_misuse_on else 0
        return result(
            AdvanceStatus.overdue,
            max(days_past, since_marking),
            overdue_vnd=facts.outstanding_vnd,
            misuse=True,
        )
    eligible = facts.overdue_eligible_vnd
    if deadline is None or eligible == 0:
        # No deadline recorded, or only disputed money remains (R10 exception): never overdue.
        return result(AdvanceStatus.current)
    if days_past > 0:
        return result(AdvanceStatus.overdue, days_past, overdue_vnd=eligible)
    days_to = (deadline - as_of).days + 1
    status = AdvanceStatus.due_soon if days_to <= rule_set.due_soon_days else AdvanceStatus.current
    return result(status, days_to_overdue=days_to)


def classify_on(
    facts: AdvanceFacts, as_of: date, rule_sets: tuple[RuleSet, ...] = DEFAULT_RULE_SETS
) -> Classification:
    """R9: `classify` under the rule set in force on **the advance's own date** (nd99 before 2025-09-26, nd254
    from then), never the question's date: a 2024 advance stays under nd99 whatever nd254 later says."""
    return classify(facts, as_of, ruleset_for(facts.advanced_on, rule_sets))


def guarantee_status(facts: AdvanceFacts, as_of: date, rule_set: RuleSet) -> GuaranteeStatus:
    """R6: is a contract advance covered by its guarantee (bảo lãnh tạm ứng) on `as_of`?

    Required only for contract advances whose cumulative amount advanced exceeds
    `guarantee_threshold_vnd` (the decree speaks of the contract's advance value, not its remaining
    balance) while a balance is outstanding. The guarantee is valid through its expiry day. Worst
    first: expired, insufficient, expiring (within `guarantee_warning_days`), covered.
    """
    if (
        facts.kind is not AdvanceKind.contract
        or facts.outstanding_vnd == 0
        or facts.advanced_vnd <= rule_set.guarantee_threshold_vnd
    ):
        return GuaranteeStatus.not_required
    expires = facts.guarantee_expires_on
    if facts.guarantee_vnd > 0 and expires is not None and as_of > expires:
        return GuaranteeStatus.expired
    if facts.guarantee_vnd < facts.outstanding_vnd:
        return GuaranteeStatus.insufficient
    if expires is not None and (expires - as_of).days <= rule_set.guarantee_warning_days:
        return GuaranteeStatus.expiring
    return GuaranteeStatus.covered


def guarantee_shortfall_vnd(facts: AdvanceFacts) -> int:
    """How much more guarantee would cover the outstanding advance (0 when covered)."""
    return max(0, facts.outstanding_vnd - facts.guarantee_vnd)


_BUCKETS: tuple[tuple[int, str], ...] = ((30, "0-30"), (90, "31-90"), (180, "91-180"), (365, "181-365"))


def age_bucket(days_overdue: int) -> str:
    """Ageing bucket of an overdue balance for the quarterly advance report (R20)."""
    if days_overdue < 0:
        raise ValueError("days_overdue must not be negative")
    for upper, label in _BUCKETS:
        if days_overdue <= upper:
            return label
    return ">365"
