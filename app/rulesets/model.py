"""Effective-dated rule sets (bộ quy tắc) as data: DOMAIN.md §4.

`nd99` applies to events dated before 2025-09-26 (Decree 99/2021/NĐ-CP), `nd254` from then on
(Decree 254/2025/NĐ-CP). The defaults below are the values read from the decrees; an administrator
may override any field through the API (stored in the database, audited) without a release, so
code must read thresholds from a `RuleSet` instance, never from literals.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from app.kernel.errors import RuleViolation

ND254_EFFECTIVE = date(2025, 9, 26)


# Types with their ranges: the one model that defines a rule set also validates an administrator's overrides.
Percent = Annotated[int, Field(ge=0, le=100)]
Days = Annotated[int, Field(ge=0, le=366)]
Months = Annotated[int, Field(ge=0, le=60)]
WorkingDays = Annotated[int, Field(ge=0, le=60)]
Month = Annotated[int, Field(ge=1, le=12)]
DayOfMonth = Annotated[int, Field(ge=1, le=31)]
YearDay = tuple[Annotated[int, Field(ge=0, le=2)], Month, DayOfMonth]  # (year offset from the plan year, month, day)
MonthDay = tuple[Month, DayOfMonth]


@dataclass(frozen=True, slots=True)
class AdvanceFloorBand:
    """R5: minimum advance rate for a contract type up to (and including) a value bound."""

    contract_type: Annotated[str, Field(min_length=1, max_length=20)]
    up_to_vnd: Annotated[int, Field(ge=0, le=10**15)] | None  # None: no upper bound
    min_rate_pct: Percent
    upper_inclusive: bool = True


@dataclass(frozen=True, slots=True)
class RuleSet:
    code: str
    effective_from: date
    effective_to: date | None
    # R4 advance ceiling (% of contract value at signing)
    advance_ceiling_pct: Annotated[int, Field(ge=1, le=100)] = 30
    # R5 floor table
    advance_floor: tuple[AdvanceFloorBand, ...] = ()
    # R6 guarantee
    guarantee_threshold_vnd: Annotated[int, Field(ge=0, le=10**15)] = 1_000_000_000
    guarantee_warning_days: Days = 30
    # R8: the advance is recovered in full once the value disbursed (giá trị giải ngân) reaches this share of the
    # contract value. Which value: `gross_payments` (completed work paid, before the recovery deducted from it) or
    # `net_disbursed` (the cash the Treasury paid under the contract: advances and payments net of recoveries, the
    # glossary's giải ngân). Contracts of the `supply_recovery_contract_types` (equipment supply that is not
    # construction) are recovered when the supplied volume is complete instead, not at this share.
    completion_recovery_pct: Annotated[int, Field(ge=1, le=100)] = 80
    completion_recovery_base: Literal["gross_payments", "net_disbursed"] = "gross_payments"
    supply_recovery_contract_types: tuple[Annotated[str, Field(min_length=1, max_length=20)], ...] = ("equipment",)
    # R9–R11 overdue delays (months after the reference date)
    overdue_contract_months: Months = 3
    overdue_site_clearance_months: Months = 3
    overdue_other_months: Months = 6
    site_clearance_settle_days: Days = 30
    # R12
    due_soon_days: Days = 30
    # R14 windows, as (month, day) offsets within plan year Y or Y+1
    advance_deadline: YearDay = (0, 12, 31)  # (year offset, month, day)
    site_clearance_advance_deadline: YearDay = (1, 1, 31)
    payment_deadline: YearDay = (1, 1, 31)
    extension_max: YearDay = (1, 12, 31)
    # nd254: capital added after this day of year Y may be spent until extension_max
    late_capital_after: MonthDay | None = None
    # R15 Treasury SLA in working days from a complete dossier
    sla_payment_working_days: WorkingDays = 3
    sla_advance_working_days: WorkingDays = 3
    notes: dict[str, str] = field(default_factory=dict)

    def applies_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    @staticmethod
    def _on(plan_year: int, spec: tuple[int, int, int]) -> date:
        offset, month, day = spec
        return date(plan_year + offset, month, day)

    def advance_deadline_for(self, plan_year: int, site_clearance: bool = False) -> date:
        """R14: last value date of an advance from plan year Y."""
        return self._on(plan_year, self.site_clearance_advance_deadline if site_clearance else self.advance_deadline)

    def payment_deadline_for(self, plan_year: int) -> date:
        """R14: last value date of a payment from plan year Y without an extension."""
        return self._on(plan_year, self.payment_deadline)

    def extension_limit_for(self, plan_year: int) -> date:
        """R14: no extension of plan year Y capital goes beyond this date."""
        return self._on(plan_year, self.extension_max)

    def is_late_capital(self, plan_year: int, decided_on: date) -> bool:
        """R14 (nd254): capital added after 30/09/Y may be spent until 31/12/Y+1."""
        if self.late_capital_after is None:
            return False
        month, day = self.late_capital_after
        return decided_on > date(plan_year, month, day)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["effective_from"] = self.effective_from.isoformat()
        data["effective_to"] = self.effective_to.isoformat() if self.effective_to else None
        return data

    def with_overrides(self, overrides: dict[str, Any]) -> RuleSet:
        """This rule set with an administrator's overrides, validated by type and range with this very model
        (strict: "30%" is not a percentage); ValueError says what is wrong."""
        fixed = {"code", "effective_from", "effective_to"}
        unknown = set(overrides) - ({f.name for f in fields(self)} - fixed)
        if unknown:
            raise ValueError(f"unknown rule set fields: {sorted(unknown)}")
        merged = {**self.to_dict(), **overrides}
        result = _ADAPTER.validate_json(json.dumps(merged), strict=True)
        for spec in (result.advance_deadline, result.site_clearance_advance_deadline, result.payment_deadline,
                     result.extension_max):
            result._on(2024, spec)  # a real calendar day (ValueError for 31/02)
        if result.late_capital_after is not None:
            date(2024, *result.late_capital_after)
        return result


_FLOOR = (
    AdvanceFloorBand("consulting", 10_000_000_000, 20),
    AdvanceFloorBand("consulting", None, 15),
    AdvanceFloorBand("construction", 10_000_000_000, 20, upper_inclusive=False),
    AdvanceFloorBand("construction", 50_000_000_000, 15),
    AdvanceFloorBand("construction", None, 10),
    AdvanceFloorBand("equipment", None, 10),
    AdvanceFloorBand("epc", None, 10),
    AdvanceFloorBand("turnkey", None, 10),
    AdvanceFloorBand("other", None, 10),
)

ND99 = RuleSet(
    code="nd99",
    effective_from=date(2021, 1, 1),
    effective_to=ND254_EFFECTIVE,
    advance_floor=_FLOOR,
    sla_payment_working_days=3,
    sla_advance_working_days=3,
    # R8's base stays what every nd99 movement was decided under (docs/rules.md, R8).
    completion_recovery_base="gross_payments",
    notes={"source": "Decree 99/2021/NĐ-CP; Law on Public Investment 39/2019/QH14"},
)

ND254 = RuleSet(
    code="nd254",
    effective_from=ND254_EFFECTIVE,
    effective_to=None,
    advance_floor=_FLOOR,
    late_capital_after=(9, 30),
    sla_payment_working_days=2,
    sla_advance_working_days=1,
    # R8 (Đ9 k5): "giá trị giải ngân" read as the glossary's disbursement, net of recoveries (docs/rules.md, R8).
    completion_recovery_base="net_disbursed",
    notes={"source": "Decree 254/2025/NĐ-CP; Law on Public Investment 58/2024/QH15"},
)

DEFAULT_RULE_SETS: tuple[RuleSet, ...] = (ND99, ND254)
_ADAPTER = TypeAdapter(RuleSet)


class NoRuleSet(RuleViolation, LookupError):
    """A date before (or after) every rule set: a 422 for the client, never a 500."""


def ruleset_for(event_date: date, rule_sets: tuple[RuleSet, ...] = DEFAULT_RULE_SETS) -> RuleSet:
    """The rule set that governs an event dated `event_date` (chosen by the event's date)."""
    for rule_set in rule_sets:
        if rule_set.applies_on(event_date):
            return rule_set
    first = min((r.effective_from for r in rule_sets), default=event_date)
    raise NoRuleSet("no_rule_set_for_date", f"No rule set covers {event_date.isoformat()}; dates before "
                    f"{first.isoformat()} are outside this service's rules.", date=event_date.isoformat())
