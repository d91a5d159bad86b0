"""R18 flags (cảnh báo) over one project's indicators for one plan year and capital source.

Pure functions: each returns a `Flag` (code, machine-readable reason, English sentence, the numbers) or
None. Thresholds live in `FlagThresholds` (data an administrator can change); percentages are compared
exactly (decimal strings → `Fraction`), never through float rounding of money.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from fractions import Fraction

from app.monitoring.forecast import DEFAULT_MILESTONE_CURVE, CumulativeCurve, days_without_disbursement


class FlagCode(StrEnum):
    slow = "slow"  # chậm tiến độ giải ngân
    stalled = "stalled"  # không giải ngân
    at_risk = "at_risk"  # có nguy cơ không giải ngân hết
    able_to_absorb = "able_to_absorb"  # có khả năng giải ngân thêm
    overdue_advances = "overdue_advances"  # tạm ứng quá hạn
    no_schedule = "no_schedule"  # chưa đăng ký kế hoạch giải ngân


@dataclass(frozen=True, slots=True)
class Flag:
    code: FlagCode
    reason: str  # stable machine-readable reason, e.g. "behind_schedule"
    detail: str  # one English sentence for a person
    numbers: dict[str, int | float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FlagThresholds:
    slow_margin_pp: float = 10.0  # percentage points of plan behind schedule or milestone
    stalled_days: int = 60
    at_risk_tolerance_pct: float = 5.0  # shortfall of forecast below plan, % of plan
    absorb_min_vnd: int = 1  # smallest absorbable amount worth a flag


DEFAULT_THRESHOLDS = FlagThresholds()


@dataclass(frozen=True, slots=True)
class ProjectIndicators:
    """What the flags read. Amounts in đồng for `plan_year`; None means "not known" (not zero)."""

    plan_year: int
    as_of: date
    plan_vnd: int
    disbursed_vnd: int
    scheduled_to_date_vnd: int | None = None  # None: no registered schedule
    last_disbursement_on: date | None = None
    forecast_vnd: int | None = None
    unconstrained_capacity_vnd: int | None = None
    registered_extra_need_vnd: int = 0
    overdue_advance_vnd: int = 0
    fresh_capital_vnd: int = 0  # supplements decided in the fresh-capital window: not yet due by the milestones


def _exact(value: float) -> Fraction:
    # why: Fraction(str(x)) is the decimal the administrator typed, so 10 pp compares exactly
    return Fraction(str(value))


def _rate_pct(amount: int, plan: int) -> float:
    return round(100 * amount / plan, 2) if plan > 0 else 0.0


def _vnd(amount: int) -> str:
    return f"{amount:,} đ"


def flag_slow(
    ind: ProjectIndicators,
    thresholds: FlagThresholds = DEFAULT_THRESHOLDS,
    milestones: CumulativeCurve = DEFAULT_MILESTONE_CURVE,
) -> Flag | None:
    """R18 slow: behind its own schedule, or behind the R17 milestone curve, by ≥ the margin (pp of plan).

    The milestone is measured on the plan without fresh capital: money decided days ago cannot be late yet.
    """
    plan = ind.plan_vnd
    if plan <= 0:
        return None
    margin = _exact(thresholds.slow_margin_pp)
    target = _exact(milestones.fraction_at(ind.as_of, ind.plan_year))
    settled_plan = max(1, plan - ind.fresh_capital_vnd)
    # gaps in percentage points, as exact fractions
    milestone_gap = 100 * target - Fraction(100 * ind.disbursed_vnd, settled_plan)
    schedule_gap = (
        Fraction(100 * (ind.scheduled_to_date_vnd - ind.disbursed_vnd), plan)
        if ind.scheduled_to_date_vnd is not None
        else None
    )
    behind_schedule = schedule_gap is not None and schedule_gap >= margin and schedule_gap > 0
    behind_milestone = milestone_gap >= margin and milestone_gap > 0
    if not (behind_schedule or behind_milestone):
        return None
    numbers: dict[str, int | float] = {
        "plan_vnd": plan,
        "disbursed_vnd": ind.disbursed_vnd,
        "rate_pct": _rate_pct(ind.disbursed_vnd, settled_plan),
        "milestone_target_pct": round(float(100 * target), 2),
        "milestone_gap_pp": round(float(milestone_gap), 2),
        "margin_pp": thresholds.slow_margin_pp,
    }
    if ind.fresh_capital_vnd:
        numbers["fresh_capital_vnd"] = ind.fresh_capital_vnd
    parts = []
    if schedule_gap is not None:
        numbers["scheduled_to_date_vnd"] = ind.scheduled_to_date_vnd or 0
        numbers["schedule_gap_pp"] = round(float(schedule_gap), 2)
    if behind_schedule:
        parts.append(
            f"{numbers['schedule_gap_pp']} pp behind its schedule "
            f"({_vnd(ind.disbursed_vnd)} disbursed of {_vnd(ind.scheduled_to_date_vnd or 0)} scheduled)"
        )
    if behind_milestone:
        parts.append(
            f"{numbers['milestone_gap_pp']} pp behind the milestone curve "
            f"({numbers['rate_pct']}% against a target of {numbers['milestone_target_pct']}%)"
        )
    reason = (
        "behind_schedule_and_milestone"
        if behind_schedule and behind_milestone
        else "behind_schedule"
        if behind_schedule
        else "behind_milestone"
    )
    detail = f"Disbursement is {' and '.join(parts)} on {ind.as_of.isoformat()}; margin {margin} pp."
    return Flag(FlagCode.slow, reason, detail, numbers)


def flag_stalled(ind: ProjectIndicators, thresholds: FlagThresholds = DEFAULT_THRESHOLDS) -> Flag | None:
    """R18 stalled: nothing disbursed for `stalled_days`; never disbursed counts from 1 January."""
    if ind.plan_vnd <= 0 or ind.disbursed_vnd >= ind.plan_vnd:
        return None  # nothing to disburse, or nothing left
    idle = days_without_disbursement(ind.last_disbursement_on, ind.as_of, ind.plan_year)
    if idle < thresholds.stalled_days:
        return None
    numbers: dict[str, int | float] = {
        "days_without_disbursement": idle,
        "threshold_days": thresholds.stalled_days,
        "plan_vnd": ind.plan_vnd,
        "disbursed_vnd": ind.disbursed_vnd,
    }
    if ind.last_disbursement_on is None or ind.last_disbursement_on < date(ind.plan_year, 1, 1):
        reason = "never_disbursed"
        detail = (
            f"Nothing disbursed in plan year {ind.plan_year} for {idle} days since 1 January "
            f"(threshold {thresholds.stalled_days} days) against a plan of {_vnd(ind.plan_vnd)}."
        )
    else:
        reason = "no_disbursement_since"
        detail = (
            f"Nothing disbursed for {idle} days since {ind.last_disbursement_on.isoformat()} "
            f"(threshold {thresholds.stalled_days} days); "
            f"{_vnd(ind.plan_vnd - ind.disbursed_vnd)} of the plan remains."
        )
    return Flag(FlagCode.stalled, reason, detail, numbers)


def flag_at_risk(ind: ProjectIndicators, thresholds: FlagThresholds = DEFAULT_THRESHOLDS) -> Flag | None:
    """R18 at risk: the forecast at the deadline falls short of plan by more than the tolerance (%)."""
    if ind.forecast_vnd is None or ind.plan_vnd <= 0:
        return None
    shortfall = ind.plan_vnd - ind.forecast_vnd
    tolerance = _exact(thresholds.at_risk_tolerance_pct)
    if shortfall <= 0 or 100 * shortfall <= tolerance * ind.plan_vnd:
        return None
    numbers: dict[str, int | float] = {
        "plan_vnd": ind.plan_vnd,
        "forecast_vnd": ind.forecast_vnd,
        "at_risk_vnd": shortfall,
        "forecast_rate_pct": _rate_pct(ind.forecast_vnd, ind.plan_vnd),
        "tolerance_pct": thresholds.at_risk_tolerance_pct,
    }
    detail = (
        f"Forecast at the deadline is {_vnd(ind.forecast_vnd)} ({numbers['forecast_rate_pct']}% of the "
        f"{_vnd(ind.plan_vnd)} plan): {_vnd(shortfall)} would lapse (tolerance {tolerance}%)."
    )
    return Flag(FlagCode.at_risk, "forecast_below_plan", detail, numbers)


def flag_able_to_absorb(
    ind: ProjectIndicators, thresholds: FlagThresholds = DEFAULT_THRESHOLDS
) -> Flag | None:
    """R18 able to absorb: its pace could spend more than its plan and it has an open registered extra need."""
    if ind.unconstrained_capacity_vnd is None:
        return None
    beyond_plan = ind.unconstrained_capacity_vnd - ind.plan_vnd
    absorbable = min(beyond_plan, ind.registered_extra_need_vnd)
    if beyond_plan <= 0 or ind.registered_extra_need_vnd <= 0 or absorbable < thresholds.absorb_min_vnd:
        return None
    numbers: dict[str, int | float] = {
        "plan_vnd": ind.plan_vnd,
        "unconstrained_capacity_vnd": ind.unconstrained_capacity_vnd,
        "registered_extra_need_vnd": ind.registered_extra_need_vnd,
        "absorbable_vnd": absorbable,
    }
    detail = (
        f"At its pace it could spend {_vnd(ind.unconstrained_capacity_vnd)} by the deadline, "
        f"{_vnd(beyond_plan)} above its {_vnd(ind.plan_vnd)} plan, and its registered extra need still open "
        f"is {_vnd(ind.registered_extra_need_vnd)}: it can absorb {_vnd(absorbable)}."
    )
    return Flag(FlagCode.able_to_absorb, "capacity_and_need_exceed_plan", detail, numbers)


def flag_overdue_advances(ind: ProjectIndicators) -> Flag | None:
    """R9–R11 surfaced by R18: an overdue outstanding advance (tạm ứng quá hạn) remains."""
    if ind.overdue_advance_vnd <= 0:
        return None
    detail = f"{_vnd(ind.overdue_advance_vnd)} of advances are overdue and not yet recovered."
    return Flag(
        FlagCode.overdue_advances,
        "overdue_outstanding",
        detail,
        {"overdue_advance_vnd": ind.overdue_advance_vnd},
    )


def flag_no_schedule(ind: ProjectIndicators) -> Flag | None:
    """R17: a project with a plan must register a monthly schedule; without one it cannot be compared."""
    if ind.plan_vnd <= 0 or ind.scheduled_to_date_vnd is not None:
        return None
    detail = f"No monthly disbursement schedule is registered for plan year {ind.plan_year}."
    return Flag(FlagCode.no_schedule, "schedule_not_registered", detail, {"plan_vnd": ind.plan_vnd})


def evaluate_flags(
    ind: ProjectIndicators,
    thresholds: FlagThresholds = DEFAULT_THRESHOLDS,
    milestones: CumulativeCurve = DEFAULT_MILESTONE_CURVE,
) -> list[Flag]:
    """All R18 flags raised for the project, in the fixed order of `FlagCode`."""
    candidates = (
        flag_slow(ind, thresholds, milestones),
        flag_stalled(ind, thresholds),
        flag_at_risk(ind, thresholds),
        flag_able_to_absorb(ind, thresholds),
        flag_overdue_advances(ind),
        flag_no_schedule(ind),
    )
    return [flag for flag in candidates if flag is not None]
