"""Forecast at the deadline and the milestone curve: R17 (and the R18 inputs it produces). Pure."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.monitoring.forecast import (
    DEFAULT_MILESTONE_CURVE,
    DEFAULT_SEASONAL_CURVE,
    CumulativeCurve,
    CurvePoint,
    ForecastInput,
    ForecastParams,
    cumulative_on,
    days_without_disbursement,
    deadline_for,
    forecast,
    last_disbursement_on,
    milestone_target,
    scheduled_to_date,
    seasonal_curve_from_history,
)

Y = 2024
PLAN = 100_000_000_000  # 100 tỷ
CURVE = DEFAULT_SEASONAL_CURVE


def on_curve(plan: int, until: date, share: float = 1.0) -> list[tuple[date, int]]:
    """Weekly cumulative points of a project that follows `share` × the seasonal curve."""
    points, day = [], date(Y, 1, 7)
    while day <= until:
        points.append((day, round(plan * share * CURVE.fraction_at(day, Y))))
        day += timedelta(days=7)
    return points + [(until, round(plan * share * CURVE.fraction_at(until, Y)))]


def test_r17_default_seasonal_curve_matches_domain_figures():
    # DOMAIN.md §6: ~10% end-March, ~30% end-June, ~49% end-September, ~75% at 31/12, ~90% at 31/01
    assert CURVE.fraction_at(date(Y, 3, 31), Y) == pytest.approx(0.10)
    assert CURVE.fraction_at(date(Y, 6, 30), Y) == pytest.approx(0.30)
    assert CURVE.fraction_at(date(Y, 9, 30), Y) == pytest.approx(0.49)
    assert CURVE.fraction_at(date(Y, 12, 31), Y) == pytest.approx(0.75)
    assert CURVE.fraction_at(date(Y + 1, 1, 31), Y) == pytest.approx(0.90)
    assert CURVE.fraction_at(date(Y - 1, 12, 31), Y) == 0.0
    assert CURVE.fraction_at(date(Y + 1, 6, 1), Y) == pytest.approx(0.90)  # flat after the last point


def test_r17_curve_is_monotone_day_by_day():
    day, previous = date(Y, 1, 1), 0.0
    while day <= date(Y + 1, 2, 28):
        value = CURVE.fraction_at(day, Y)
        assert value >= previous
        previous, day = value, day + timedelta(days=1)


def test_r17_curve_rejects_bad_data():
    with pytest.raises(ValueError):
        CumulativeCurve((CurvePoint(0, 6, 30, 0.5), CurvePoint(0, 3, 31, 0.6)))  # dates out of order
    with pytest.raises(ValueError):
        CumulativeCurve((CurvePoint(0, 3, 31, 0.5), CurvePoint(0, 6, 30, 0.4)))  # fraction decreases
    with pytest.raises(ValueError):
        CumulativeCurve(())


def test_r17_milestone_target_defaults_and_interpolation():
    assert milestone_target(date(Y + 1, 1, 31), plan_year=Y) == pytest.approx(0.95)  # the province target
    # R18 without history: the national shape (30% / 49% / 75% / 90%) scaled by 0.95 ÷ 0.90
    assert milestone_target(date(Y, 6, 30)) == pytest.approx(0.30 * 0.95 / 0.90, abs=1e-6)  # 31.67%
    assert milestone_target(date(Y, 9, 30)) == pytest.approx(0.49 * 0.95 / 0.90, abs=1e-6)  # 51.72%
    assert milestone_target(date(Y, 12, 31)) == pytest.approx(0.75 * 0.95 / 0.90, abs=1e-6)  # 79.17%
    mid = milestone_target(date(Y, 8, 15))
    assert 0.3167 < mid < 0.5173
    assert milestone_target(date(Y, 1, 1)) < 0.01
    custom = CumulativeCurve((CurvePoint(1, 1, 31, 1.0),))
    assert milestone_target(date(Y + 1, 1, 31), custom, plan_year=Y) == 1.0
    assert DEFAULT_MILESTONE_CURVE.final == 0.95


def test_r17_seasonal_curve_from_history_averages_shares():
    a = [i * 10 for i in range(1, 14)]  # ends at 130 of a plan of 130
    b = [i * 5 for i in range(1, 14)]  # ends at 65 of 130
    curve = seasonal_curve_from_history([(130, a), (130, b)])
    assert curve.fraction_at(date(Y + 1, 1, 31), Y) == pytest.approx(0.75)
    assert curve.fraction_at(date(Y, 1, 31), Y) == pytest.approx((10 / 130 + 5 / 130) / 2, abs=1e-6)
    with pytest.raises(ValueError):
        seasonal_curve_from_history([(0, a)])


def test_r17_series_helpers():
    series = [(date(Y, 3, 1), 5), (date(Y, 1, 10), 0), (date(Y, 2, 1), 5), (date(Y, 4, 1), 9)]
    assert cumulative_on(series, date(Y, 2, 15)) == 5
    assert cumulative_on(series, date(Y, 1, 1)) == 0
    assert last_disbursement_on(series, date(Y, 3, 15)) == date(Y, 2, 1)  # 1 March added nothing
    assert last_disbursement_on(series, date(Y, 4, 1)) == date(Y, 4, 1)
    assert days_without_disbursement(None, date(Y, 3, 1), Y) == 60  # never disbursed: from 1 January
    assert days_without_disbursement(date(Y - 1, 12, 1), date(Y, 1, 11), Y) == 10


def test_r17_scheduled_to_date_pro_rata():
    schedule = {1: 31_000, 2: 29_000, 13: 10_000}  # 2024 is a leap year: February has 29 days
    assert scheduled_to_date(schedule, Y, date(Y, 1, 31)) == 31_000
    assert scheduled_to_date(schedule, Y, date(Y, 2, 10)) == 31_000 + 10_000
    assert scheduled_to_date(schedule, Y, date(Y + 1, 1, 31)) == 70_000


def test_r17_on_curve_project_forecasts_the_typical_outcome():
    as_of = date(Y, 9, 28)
    result = forecast(ForecastInput(Y, as_of, PLAN, on_curve(PLAN, as_of)))
    # following the curve leads to curve(deadline) = 90% of plan
    assert result.forecast_vnd == pytest.approx(0.90 * PLAN, rel=0.03)
    assert result.low_vnd <= result.forecast_vnd <= result.high_vnd
    assert result.at_risk_vnd == PLAN - result.forecast_vnd
    assert result.deadline == deadline_for(Y) == date(Y + 1, 1, 31)
    assert {c.name for c in result.components} == {"seasonal", "pace"}
    assert sum(c.weight for c in result.components) == pytest.approx(1.0)
    assert not result.stalled


def test_r17_all_amounts_are_integers():
    as_of = date(Y, 7, 15)
    result = forecast(
        ForecastInput(Y, as_of, PLAN, on_curve(PLAN, as_of), {m: PLAN // 12 for m in range(1, 13)})
    )
    for value in (
        result.forecast_vnd,
        result.low_vnd,
        result.high_vnd,
        result.unconstrained_capacity_vnd,
        result.at_risk_vnd,
        *[c.estimate_vnd for c in result.components],
    ):
        assert type(value) is int


def test_r17_forecast_is_capped_at_plan_but_capacity_is_not():
    as_of = date(Y, 10, 31)
    fast = on_curve(PLAN, as_of, share=1.5)  # 1.5× the usual pace: would spend 135% of plan
    result = forecast(ForecastInput(Y, as_of, PLAN, fast))
    assert result.forecast_vnd == PLAN
    assert result.high_vnd == PLAN
    assert result.at_risk_vnd == 0
    assert result.unconstrained_capacity_vnd > PLAN
    assert result.extra_capacity_vnd == result.unconstrained_capacity_vnd - PLAN
    assert result.unconstrained_capacity_vnd == pytest.approx(1.35 * PLAN, rel=0.05)


def test_r18_stalled_project_gets_a_low_forecast():
    as_of = date(Y, 9, 30)
    history = [p for p in on_curve(PLAN, date(Y, 6, 1))]  # nothing after 1 June
    stalled = forecast(ForecastInput(Y, as_of, PLAN, history))
    active = forecast(ForecastInput(Y, as_of, PLAN, history + [(as_of, history[-1][1] + 1)]))
    assert stalled.stalled and not active.stalled
    assert stalled.days_without_disbursement >= 60
    assert stalled.forecast_vnd < 0.5 * PLAN
    assert stalled.forecast_vnd < active.forecast_vnd
    assert all(c.inputs.get("stall_factor") == 0.25 for c in stalled.components)


def test_r18_never_disbursed_counts_from_first_january():
    result = forecast(ForecastInput(Y, date(Y, 3, 15), PLAN, []))
    assert result.stalled
    assert result.days_without_disbursement == (date(Y, 3, 15) - date(Y, 1, 1)).days
    assert result.forecast_vnd == 0 and result.at_risk_vnd == PLAN


def test_r17_schedule_component_discounts_by_adherence():
    as_of = date(Y, 6, 30)
    schedule = {m: PLAN // 12 for m in range(1, 13)}
    half = round(scheduled_to_date(schedule, Y, as_of) * 0.5)  # did half of what it scheduled
    result = forecast(
        ForecastInput(Y, as_of, PLAN, [(date(Y, 3, 1), half // 2), (as_of, half)], schedule),
        params=ForecastParams(seasonal_weight=0.0, pace_weight=0.0, schedule_weight=1.0),
    )
    (component,) = [c for c in result.components if c.weight > 0]
    assert component.name == "schedule"
    assert component.inputs["adherence"] == pytest.approx(0.5)
    remaining = sum(schedule.values()) - scheduled_to_date(schedule, Y, as_of)
    assert result.forecast_vnd == pytest.approx(half + 0.5 * remaining, abs=1)


def test_r17_weights_are_parameters():
    as_of = date(Y, 9, 28)
    series = on_curve(PLAN, as_of, share=0.6)
    only_seasonal = forecast(ForecastInput(Y, as_of, PLAN, series), params=ForecastParams(pace_weight=0.0))
    seasonal = next(c for c in only_seasonal.components if c.name == "seasonal")
    assert seasonal.weight == 1.0
    assert only_seasonal.forecast_vnd == seasonal.estimate_vnd


def test_r17_no_evidence_uses_the_typical_outcome():
    result = forecast(ForecastInput(Y, date(Y, 1, 5), PLAN, []))
    assert [c.name for c in result.components] == ["typical"]
    assert result.forecast_vnd == round(PLAN * CURVE.fraction_at(deadline_for(Y), Y))


def test_r17_after_the_deadline_the_outcome_is_what_was_disbursed():
    result = forecast(ForecastInput(Y, date(Y + 1, 2, 10), PLAN, [(date(Y + 1, 1, 20), 80 * 10**9)]))
    assert result.forecast_vnd == result.low_vnd == result.high_vnd == 80 * 10**9
    assert result.at_risk_vnd == 20 * 10**9
    assert [c.name for c in result.components] == ["actual"]


def test_r17_input_validation():
    with pytest.raises(ValueError):
        ForecastInput(Y, date(Y, 5, 1), -1)
    with pytest.raises(ValueError):
        ForecastInput(Y, date(Y, 5, 1), PLAN, schedule={14: 1})


def test_r17_forecast_is_deterministic():
    as_of = date(Y, 8, 20)
    inp = ForecastInput(Y, as_of, PLAN, on_curve(PLAN, as_of, 0.8), {m: PLAN // 13 for m in range(1, 14)})
    assert forecast(inp) == forecast(inp)
    shuffled = ForecastInput(Y, as_of, PLAN, list(reversed(inp.cumulative)), inp.schedule)
    assert forecast(shuffled) == forecast(inp)


@st.composite
def project_years(draw):
    plan = draw(st.integers(0, 10**13))
    as_of = date(Y, 1, 1) + timedelta(days=draw(st.integers(0, 420)))
    increments = draw(st.lists(st.tuples(st.integers(0, 420), st.integers(-(10**9), 10**12)), max_size=25))
    series, total = [], 0
    for offset, amount in sorted(increments):
        total = max(0, total + amount)
        series.append((date(Y, 1, 1) + timedelta(days=offset), total))
    schedule = draw(st.none() | st.dictionaries(st.integers(1, 13), st.integers(0, 10**12), max_size=13))
    return ForecastInput(Y, as_of, plan, series, schedule)


@settings(max_examples=80, deadline=None)
@given(project_years())
def test_r17_forecast_invariants(inp):
    result = forecast(inp)
    disbursed = result.disbursed_vnd
    upper = max(inp.plan_vnd, disbursed)
    assert disbursed <= result.low_vnd <= result.forecast_vnd <= result.high_vnd <= upper
    assert result.unconstrained_capacity_vnd >= result.forecast_vnd
    assert result.at_risk_vnd == max(0, inp.plan_vnd - result.forecast_vnd)
    assert sum(c.weight for c in result.components) == pytest.approx(1.0)
    assert all(
        type(v) is int
        for v in (
            result.forecast_vnd,
            result.low_vnd,
            result.high_vnd,
            result.unconstrained_capacity_vnd,
            result.at_risk_vnd,
        )
    )


def test_r18_backed_fresh_capital_is_evidence_not_a_shortfall():
    # 2 January, no schedule: the typical outcome is plan × 0.90 (national curve at 31/01).
    day = date(Y, 1, 2)
    plain = forecast(ForecastInput(Y, day, 100_000_000_000))
    assert plain.forecast_vnd == 90_000_000_000 and plain.at_risk_vnd == 10_000_000_000
    # 40 of the 100 just landed, backed by a registered need: 60 × 0.90 = 54, + 40 = 94.
    backed = forecast(ForecastInput(Y, day, 100_000_000_000, backed_fresh_vnd=40_000_000_000))
    assert backed.forecast_vnd == 94_000_000_000 and backed.at_risk_vnd == 6_000_000_000
    assert backed.plan_vnd == 100_000_000_000
    assert backed.components[-1].name == "backed_fresh_capital" and backed.components[-1].estimate_vnd == 40_000_000_000
    # never above plan, and after the deadline the outcome is what was disbursed
    whole = forecast(ForecastInput(Y, day, 100_000_000_000, backed_fresh_vnd=150_000_000_000))
    assert whole.forecast_vnd == 100_000_000_000
    over = forecast(ForecastInput(Y, date(Y + 1, 2, 1), 100_000_000_000, backed_fresh_vnd=40_000_000_000))
    assert over.forecast_vnd == 0
