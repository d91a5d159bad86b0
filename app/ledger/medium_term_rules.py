"""R1c medium-term plan (kế hoạch đầu tư công trung hạn), pure: periods and the ceiling of a project's annual plans.

A period is five plan years, 2021–2025, 2026–2030 …, named by its first year. Per (project, period, capital source)
the ceiling is the sum of its medium-term entries; the annual plans it bounds are the project's pools of that source
over the period's years, across budget levels (the same net plan R2 sums: after adjustments and lapses; an extension
is the same capital again and counts once). No database, no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.enums import CapitalSource, MediumTermKind

FIRST_PERIOD_START = 2021
PERIOD_YEARS = 5


def period_of(plan_year: int) -> int:
    """The first year of the medium-term period holding `plan_year` (2024 → 2021, 2026 → 2026)."""
    return plan_year - (plan_year - FIRST_PERIOD_START) % PERIOD_YEARS


def period_years(period_start: int) -> range:
    return range(period_start, period_start + PERIOD_YEARS)


def period_label(period_start: int) -> str:
    return f"{period_start}-{period_start + PERIOD_YEARS - 1}"


@dataclass(frozen=True, slots=True, order=True)
class MediumTermKey:
    project_id: int
    period_start: int
    capital_source: CapitalSource


@dataclass(slots=True)
class MediumTermState:
    """A project's medium-term ceiling for one period and source, and its annual plans so far (under the project's
    lock). `ceiling_vnd` None: no medium-term plan recorded — the project is not in the plan for that source."""

    key: MediumTermKey
    ceiling_vnd: int | None
    annual_plans_vnd: int = 0

    @property
    def headroom_vnd(self) -> int:
        return max(0, (self.ceiling_vnd or 0) - self.annual_plans_vnd)


@dataclass(frozen=True, slots=True)
class MediumTermInput:
    """One decision's change to a medium-term ceiling; `amount_vnd` positive, the kind gives the sign."""

    project_id: int
    period_start: int
    capital_source: CapitalSource
    kind: MediumTermKind
    amount_vnd: int
    decision_number: str
    decision_date: date
    authority: str
    note: str | None = None

    @property
    def key(self) -> MediumTermKey:
        return MediumTermKey(self.project_id, self.period_start, self.capital_source)

    @property
    def signed_vnd(self) -> int:
        return -self.amount_vnd if self.kind is MediumTermKind.adjustment_out else self.amount_vnd
