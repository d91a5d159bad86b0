"""Forecast of a project's disbursement (giải ngân) at the plan year's deadline, and milestones (R17).

Pure functions over explicit inputs: no database, no clock. Money is integer đồng; the seasonal shapes
and weights are floats, and every amount returned is rounded with Python's `round` (half to even), so
the same inputs always give the same integers.

Method, as a planner would explain it (deadline = 31/01/Y+1, when plan year Y's capital lapses, R14):

1. *Seasonal* — "if the project keeps its share of the usual year": disbursed so far × curve(deadline)
   ÷ curve(as_of), where the curve is the cumulative fraction of a year's plan usually disbursed by each
   date (DEFAULT_SEASONAL_CURVE: DOMAIN.md §6 national figures). The multiplier is capped, because early
   in the year a tiny base extrapolates wildly.
2. *Pace* — "if it keeps its recent speed, accelerating like everyone does late in the year": what it
   disbursed in the last 90 days × (curve mass still to come ÷ curve mass of those 90 days), capped; when
   the window holds almost no seasonal mass the pace is extrapolated linearly per day instead.
3. *Schedule* — "if it does what it registered, as faithfully as it has so far": disbursed so far + the
   schedule still to come × its adherence (disbursed ÷ scheduled to date, at most 1).
4. The forecast is the weighted mean of the components available (weights renormalised), clamped to
   [disbursed so far, plan]. Seasonal and pace need `min_curve_fraction` of the year behind them; with
   no evidence yet (early January, no schedule) the *typical* outcome plan × curve(deadline) stands in.
   A *stalled* project (nothing for `stalled_days`) keeps only `stalled_factor` of each component's
   remaining amount. The band is the range of the components, widened by `band_pct` of the remaining
   amount. `unconstrained_capacity_vnd` is the seasonal/pace blend without the plan cap: what the
   project could spend by the deadline if it had more capital (R18 able to absorb, R19 pace capacity).
5. *Backed fresh capital* (R18) — a recent supplement covered by a registered need or a revised schedule:
   steps 1–4 run on the plan without it, and it is added on top (capped at plan).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

# ---------------------------------------------------------------- curves (data, not code: R17)


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """A point of a cumulative curve: by this date of the plan-year calendar, this fraction of the plan."""

    year_offset: int  # 0: plan year Y; 1: year Y+1 (the January payment window)
    month: int
    day: int | None  # None: the last day of the month
    fraction: float

    def on(self, plan_year: int) -> date:
        year = plan_year + self.year_offset
        day = self.day if self.day is not None else calendar.monthrange(year, self.month)[1]
        return date(year, self.month, day)


@dataclass(frozen=True, slots=True)
class CumulativeCurve:
    """Cumulative fraction of a plan by date: linear between points, 0 before 1 January, then flat."""

    points: tuple[CurvePoint, ...]

    def __post_init__(self) -> None:
        if not self.points:
            raise ValueError("a curve needs at least one point")
        ref = [p.on(2023) for p in self.points]  # any non-leap year orders the points
        if any(b <= a for a, b in zip(ref, ref[1:], strict=False)):
            raise ValueError("curve points must be in strictly increasing date order")
        fractions = [p.fraction for p in self.points]
        if any(not 0.0 <= f <= 1.0 for f in fractions) or any(
            b < a for a, b in zip(fractions, fractions[1:], strict=False)
        ):
            raise ValueError("curve fractions must be non-decreasing within [0, 1]")

    def fraction_at(self, day: date, plan_year: int) -> float:
        """Fraction reached by the end of `day` (a date of plan year `plan_year` or its January after)."""
        start = date(plan_year, 1, 1)
        t = (day - start).days + 1  # days elapsed at the end of `day`
        if t <= 0:
            return 0.0
        prev_t, prev_f = 0, 0.0
        for point in self.points:
            pt = (point.on(plan_year) - start).days + 1
            if t <= pt:
                return prev_f + (point.fraction - prev_f) * (t - prev_t) / (pt - prev_t)
            prev_t, prev_f = pt, point.fraction
        return prev_f

    @property
    def final(self) -> float:
        return self.points[-1].fraction


def _month_ends(fractions: Sequence[float]) -> tuple[CurvePoint, ...]:
    """Thirteen month-end points: January…December of Y, then January of Y+1."""
    return tuple(
        CurvePoint(0 if m <= 12 else 1, m if m <= 12 else 1, None, f)
        for m, f in enumerate(fractions, start=1)
    )


# DOMAIN.md §6, national: ~10% end-March, ~30% end-June, ~49% end-September, ~75% on 31/12, ~90% on
# 31/01 of Y+1; months in between interpolated linearly (rounded to 4 decimals).
DEFAULT_SEASONAL_CURVE = CumulativeCurve(
    _month_ends(
        (0.0333, 0.0667, 0.10, 0.1667, 0.2333, 0.30, 0.3633, 0.4267, 0.49, 0.5767, 0.6633, 0.75, 0.90)
    )
)

PROVINCE_TARGET = 0.95  # the action programme: at least 95% of the plan by the deadline (DOMAIN.md §1)


def milestone_curve_from_shape(shape: CumulativeCurve, target: float = PROVINCE_TARGET) -> CumulativeCurve:
    """R18: a milestone curve with a year's shape that reaches `target` at the deadline.

    Each point of the shape is scaled by target ÷ the shape's final fraction, so the intermediate milestones
    sit where a year of that shape is when it ends on target (capped at 1).
    """
    if shape.final <= 0:
        raise ValueError("a shape that never disburses cannot set milestones")
    scale = target / shape.final
    return CumulativeCurve(
        tuple(
            CurvePoint(p.year_offset, p.month, p.day, round(min(1.0, p.fraction * scale), 6))
            for p in shape.points
        )
    )


# R18 default without a province history: the national shape (DOMAIN.md §6) brought to 95% at the deadline.
DEFAULT_MILESTONE_CURVE = milestone_curve_from_shape(DEFAULT_SEASONAL_CURVE)


def seasonal_curve_from_history(years: Sequence[tuple[int, Sequence[int]]]) -> CumulativeCurve:
    """Average shape of earlier years: each item is (plan_vnd, 13 month-end cumulative amounts).

    Lets a province use its own history instead of the national default (R17).
    """
    usable = [(plan, cum) for plan, cum in years if plan > 0]
    if not usable:
        raise ValueError("no year with a positive plan")
    if any(len(cum) != 13 for _, cum in usable):
        raise ValueError("each year needs 13 month-end cumulative amounts (January Y … January Y+1)")
    fractions: list[float] = []
    running = 0.0
    for m in range(13):
        mean = sum(min(1.0, max(0.0, cum[m] / plan)) for plan, cum in usable) / len(usable)
        running = max(running, mean)  # a cumulative shape never goes down
        fractions.append(round(running, 6))
    return CumulativeCurve(_month_ends(fractions))


def deadline_for(plan_year: int) -> date:
    """R14: the last value date of plan year Y's capital without an extension (31/01/Y+1)."""
    return date(plan_year + 1, 1, 31)


def milestone_target(
    as_of: date, curve: CumulativeCurve = DEFAULT_MILESTONE_CURVE, *, plan_year: int | None = None
) -> float:
    """R17: the target disbursement rate (fraction of plan) on `as_of` by the milestone curve.

    `plan_year` defaults to `as_of.year`; pass it explicitly for dates in January of Y+1.
    """
    return curve.fraction_at(as_of, as_of.year if plan_year is None else plan_year)


# ---------------------------------------------------------------- series helpers


def cumulative_on(series: Sequence[tuple[date, int]], day: date) -> int:
    """Cumulative disbursed at the end of `day`: the last point on or before it (0 before the first)."""
    value = 0
    for when, amount in sorted(series):
        if when > day:
            break
        value = amount
    return value


def last_disbursement_on(series: Sequence[tuple[date, int]], as_of: date) -> date | None:
    """The last day (≤ as_of) on which the cumulative amount rose."""
    last: date | None = None
    previous = 0
    for when, amount in sorted(series):
        if when > as_of:
            break
        if amount > previous:
            last = when
        previous = amount
    return last


def days_without_disbursement(last: date | None, as_of: date, plan_year: int) -> int:
    """R18: days since the last disbursement; never disbursed (or only before Y) counts from 1/1/Y."""
    start = date(plan_year, 1, 1)
    reference = start if last is None or last < start else last
    return max(0, (as_of - reference).days)


def _month_bounds(plan_year: int, month: int) -> tuple[date, date]:
    """Schedule month 1–12: months of Y; 13: January of Y+1 (the payment window)."""
    year, m = (plan_year, month) if month <= 12 else (plan_year + 1, 1)
    return date(year, m, 1), date(year, m, calendar.monthrange(year, m)[1])


def scheduled_to_date(schedule: Mapping[int, int], plan_year: int, as_of: date) -> int:
    """R17: amount the registered monthly schedule expected by the end of `as_of` (current month pro rata)."""
    total = 0.0
    for month, amount in schedule.items():
        first, last = _month_bounds(plan_year, month)
        if as_of >= last:
            total += amount
        elif as_of >= first:
            total += amount * ((as_of - first).days + 1) / ((last - first).days + 1)
    return round(total)


# ---------------------------------------------------------------- inputs and outputs


@dataclass(frozen=True, slots=True)
class ForecastParams:
    """Weights and limits of the method (module docstring); weights are renormalised over what exists."""

    seasonal_weight: float = 0.35
    pace_weight: float = 0.40
    schedule_weight: float = 0.25
    pace_window_days: int = 90
    max_multiplier: float = 10.0  # cap on any extrapolation ratio
    min_curve_fraction: float = 0.02  # below this share of the year, seasonal extrapolation is noise
    min_window_mass: float = 0.01  # below this, the pace is extrapolated per day instead of seasonally
    unproven_schedule_adherence: float = 0.8  # adherence assumed while nothing was scheduled yet
    stalled_days: int = 60
    stalled_factor: float = 0.25  # share of the remaining amount a stalled project is still credited with
    band_pct: float = 0.10
    fresh_capital_days: int = 60  # R18: how long a backed supplement counts as evidence of its own spending


DEFAULT_FORECAST_PARAMS = ForecastParams()


@dataclass(frozen=True, slots=True)
class ForecastInput:
    """One project, one plan year, one capital source.

    `cumulative` holds (day, cumulative đồng disbursed in the plan year by the end of that day), daily or
    monthly, in any order; points after `as_of` are ignored. `schedule` maps month (1–12 of Y, 13 =
    January of Y+1) to the amount registered for that month. `deadline` defaults to 31/01/Y+1.
    """

    plan_year: int
    as_of: date
    plan_vnd: int
    cumulative: Sequence[tuple[date, int]] = ()
    schedule: Mapping[int, int] | None = None
    deadline: date | None = None
    # R18: part of the plan that is fresh capital (a recent supplement) backed by a registered need or a
    # revised schedule; the investor has shown where it goes, so it is evidence rather than a shortfall
    backed_fresh_vnd: int = 0

    def __post_init__(self) -> None:
        if self.plan_vnd < 0 or self.backed_fresh_vnd < 0:
            raise ValueError("plan_vnd and backed_fresh_vnd must be ≥ 0")
        if self.schedule is not None and any(not 1 <= m <= 13 or a < 0 for m, a in self.schedule.items()):
            raise ValueError("schedule months are 1–13 and amounts ≥ 0")


@dataclass(frozen=True, slots=True)
class ForecastComponent:
    """One line of the "why": an estimate at the deadline, its weight in the blend and what it came from."""

    name: str  # seasonal | pace | schedule | typical | actual | backed_fresh_capital (added, weight 0)
    estimate_vnd: int  # after the stall adjustment, before the plan cap
    weight: float  # normalised: the weights of a forecast sum to 1
    inputs: dict[str, int | float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Forecast:
    plan_vnd: int
    disbursed_vnd: int
    deadline: date
    forecast_vnd: int
    low_vnd: int
    high_vnd: int
    unconstrained_capacity_vnd: int
    at_risk_vnd: int  # plan − forecast, ≥ 0: what would lapse
    stalled: bool
    days_without_disbursement: int
    last_disbursement_on: date | None
    components: tuple[ForecastComponent, ...]

    @property
    def extra_capacity_vnd(self) -> int:
        """What the project could spend beyond its plan by the deadline (R19 pace capacity)."""
        return max(0, self.unconstrained_capacity_vnd - self.plan_vnd)


# ---------------------------------------------------------------- the forecast


def forecast(
    inp: ForecastInput,
    curve: CumulativeCurve = DEFAULT_SEASONAL_CURVE,
    params: ForecastParams = DEFAULT_FORECAST_PARAMS,
) -> Forecast:
    """R17/R18: the project's disbursement at the deadline with a band (method: module docstring)."""
    year, as_of, plan = inp.plan_year, inp.as_of, inp.plan_vnd
    deadline = inp.deadline or deadline_for(year)
    backed = min(inp.backed_fresh_vnd, plan)
    if backed > 0 and as_of < deadline:
        base = forecast(replace(inp, plan_vnd=plan - backed, backed_fresh_vnd=0), curve, params)
        return _with_backed_fresh_capital(base, backed)
    disbursed = max(0, cumulative_on(inp.cumulative, as_of))
    upper = max(plan, disbursed)  # a disbursed amount above plan (bad data) is not hidden
    last = last_disbursement_on(inp.cumulative, as_of)
    idle = days_without_disbursement(last, as_of, year)
    stalled = plan > 0 and disbursed < plan and idle >= params.stalled_days

    def result(components: list[ForecastComponent], raw: float, capacity: float) -> Forecast:
        estimates = [c.estimate_vnd for c in components]
        spread = params.band_pct * max(0.0, raw - disbursed)

        def clamp(x: float) -> int:
            return min(upper, max(disbursed, round(x)))

        point = clamp(raw)
        return Forecast(
            plan_vnd=plan,
            disbursed_vnd=disbursed,
            deadline=deadline,
            forecast_vnd=point,
            low_vnd=min(point, clamp(min([raw - spread, *estimates]))),
            high_vnd=max(point, clamp(max([raw + spread, *estimates]))),
            unconstrained_capacity_vnd=max(point, round(capacity)),
            at_risk_vnd=max(0, plan - point),
            stalled=stalled,
            days_without_disbursement=idle,
            last_disbursement_on=last,
            components=tuple(components),
        )

    if as_of >= deadline:  # the year is over: what was disbursed is the outcome
        actual = ForecastComponent("actual", disbursed, 1.0, {"disbursed_vnd": disbursed})
        return result([actual], disbursed, disbursed)

    f_now = curve.fraction_at(as_of, year)
    f_end = curve.fraction_at(deadline, year)
    remaining_mass = max(0.0, f_end - f_now)
    # name → (raw estimate, weight parameter, inputs)
    raw: dict[str, tuple[float, float, dict[str, int | float]]] = {}

    if f_now >= params.min_curve_fraction:  # (a) seasonal share
        multiplier = min(f_end / f_now, params.max_multiplier)
        raw["seasonal"] = (
            disbursed * multiplier,
            params.seasonal_weight,
            {
                "curve_fraction_as_of": round(f_now, 4),
                "curve_fraction_deadline": round(f_end, 4),
                "multiplier": round(multiplier, 4),
            },
        )

    window_start = max(as_of - timedelta(days=params.pace_window_days), date(year, 1, 1) - timedelta(days=1))
    window_days = (as_of - window_start).days
    if window_days > 0 and f_now >= params.min_curve_fraction:  # (b) recent pace, seasonally accelerated
        recent = max(0, disbursed - cumulative_on(inp.cumulative, window_start))
        window_mass = f_now - curve.fraction_at(window_start, year)
        if window_mass >= params.min_window_mass:
            ratio = min(remaining_mass / window_mass, params.max_multiplier)
            how = "seasonal"
        else:  # too little seasonal mass in the window to scale by: per-day pace
            ratio = min((deadline - as_of).days / window_days, params.max_multiplier)
            how = "linear"
        raw["pace"] = (
            disbursed + recent * ratio,
            params.pace_weight,
            {
                "recent_vnd": recent,
                "window_days": window_days,
                "ratio": round(ratio, 4),
                "seasonal_scaling": 1 if how == "seasonal" else 0,
            },
        )

    if inp.schedule and sum(inp.schedule.values()) > 0:  # (c) remaining schedule × adherence
        due = scheduled_to_date(inp.schedule, year, as_of)
        still_scheduled = max(0, sum(inp.schedule.values()) - due)
        adherence = min(1.0, disbursed / due) if due > 0 else params.unproven_schedule_adherence
        raw["schedule"] = (
            disbursed + still_scheduled * adherence,
            params.schedule_weight,
            {
                "scheduled_to_date_vnd": due,
                "remaining_scheduled_vnd": still_scheduled,
                "adherence": round(adherence, 4),
            },
        )

    if not raw:  # no evidence yet: the typical outcome of a year
        raw["typical"] = (plan * f_end, 1.0, {"curve_fraction_deadline": round(f_end, 4)})

    def adjust(estimate: float) -> float:
        # why: a stalled project is credited with only part of what its history or schedule suggests
        return disbursed + params.stalled_factor * (estimate - disbursed) if stalled else estimate

    total_weight = sum(w for _, w, _ in raw.values()) or 1.0
    components = []
    for name, (estimate, weight, inputs) in raw.items():
        extra: dict[str, int | float] = {"stall_factor": params.stalled_factor} if stalled else {}
        components.append(
            ForecastComponent(
                name, max(disbursed, round(adjust(estimate))), weight / total_weight, {**inputs, **extra}
            )
        )
    blend = sum(adjust(e) * w for e, w, _ in raw.values()) / total_weight

    paced = {k: v for k, v in raw.items() if k in ("seasonal", "pace")}
    paced_weight = sum(w for _, w, _ in paced.values())
    capacity = sum(adjust(e) * w for e, w, _ in paced.values()) / paced_weight if paced_weight > 0 else blend
    return result(components, max(float(disbursed), blend), max(float(disbursed), capacity))


def _with_backed_fresh_capital(base: Forecast, backed: int) -> Forecast:
    """R18: the forecast on the plan without the backed fresh capital, plus that capital (capped at plan).

    Until its window closes, the fresh capital counts as spent by the deadline: the project's own history
    says nothing about money it received days ago, while its registered need or revised schedule does.
    """
    plan = base.plan_vnd + backed

    def add(amount: int) -> int:
        return min(max(plan, base.disbursed_vnd), amount + backed)

    point = add(base.forecast_vnd)
    fresh = ForecastComponent("backed_fresh_capital", backed, 0.0, {"backed_fresh_vnd": backed})
    return replace(
        base,
        plan_vnd=plan,
        forecast_vnd=point,
        low_vnd=add(base.low_vnd),
        high_vnd=add(base.high_vnd),
        unconstrained_capacity_vnd=max(point, base.unconstrained_capacity_vnd + backed),
        at_risk_vnd=max(0, plan - point),
        components=(*base.components, fresh),
    )
