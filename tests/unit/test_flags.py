"""R18 flags over a project's indicators (pure)."""

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.monitoring.flags import (
    DEFAULT_THRESHOLDS,
    FlagCode,
    FlagThresholds,
    ProjectIndicators,
    evaluate_flags,
    flag_able_to_absorb,
    flag_at_risk,
    flag_no_schedule,
    flag_overdue_advances,
    flag_slow,
    flag_stalled,
)
from app.monitoring.forecast import CumulativeCurve, CurvePoint, milestone_target

Y = 2024
PLAN = 100_000_000_000
AS_OF = date(Y, 9, 30)  # milestone target 60% on the planner's curve below
# A planner's curve set as data (R17): 40% / 60% / 80% / 95%.
PLANNER = CumulativeCurve(
    (CurvePoint(0, 6, 30, 0.40), CurvePoint(0, 9, 30, 0.60), CurvePoint(0, 12, 31, 0.80), CurvePoint(1, 1, 31, 0.95))
)

HEALTHY = ProjectIndicators(
    plan_year=Y,
    as_of=AS_OF,
    plan_vnd=PLAN,
    disbursed_vnd=65_000_000_000,
    scheduled_to_date_vnd=66_000_000_000,
    last_disbursement_on=date(Y, 9, 20),
    forecast_vnd=97_000_000_000,
    unconstrained_capacity_vnd=99_000_000_000,
    registered_extra_need_vnd=0,
    overdue_advance_vnd=0,
)


def test_r18_healthy_project_raises_no_flag():
    assert evaluate_flags(HEALTHY) == []


def test_r18_slow_behind_schedule():
    ind = replace(HEALTHY, scheduled_to_date_vnd=80_000_000_000)  # 15 pp behind its own schedule
    flag = flag_slow(ind)
    assert flag is not None and flag.code is FlagCode.slow
    assert flag.reason == "behind_schedule"
    assert flag.numbers["schedule_gap_pp"] == 15.0
    assert flag.numbers["scheduled_to_date_vnd"] == 80_000_000_000
    assert "15.0 pp behind its schedule" in flag.detail


def test_r18_slow_behind_milestone_curve():
    ind = replace(HEALTHY, disbursed_vnd=45_000_000_000, scheduled_to_date_vnd=46_000_000_000)
    flag = flag_slow(ind, DEFAULT_THRESHOLDS, PLANNER)
    assert flag is not None and flag.reason == "behind_milestone"
    assert flag.numbers["milestone_target_pct"] == 60.0
    assert flag.numbers["milestone_gap_pp"] == 15.0
    assert flag.numbers["rate_pct"] == 45.0


def test_r18_slow_both_and_margin_boundary_is_inclusive():
    exactly = replace(HEALTHY, disbursed_vnd=50_000_000_000, scheduled_to_date_vnd=60_000_000_000)
    flag = flag_slow(exactly, DEFAULT_THRESHOLDS, PLANNER)  # exactly 10 pp behind both
    assert flag is not None and flag.reason == "behind_schedule_and_milestone"
    just_inside = replace(exactly, disbursed_vnd=50_000_000_001)
    assert flag_slow(just_inside, DEFAULT_THRESHOLDS, PLANNER) is None  # compared exactly, no float slack


def test_r18_slow_margin_is_configurable_and_milestones_are_data():
    ind = replace(HEALTHY, disbursed_vnd=55_000_000_000, scheduled_to_date_vnd=None)
    assert flag_slow(ind, DEFAULT_THRESHOLDS, PLANNER) is None  # 5 pp behind the 60% milestone
    assert flag_slow(ind, FlagThresholds(slow_margin_pp=5), PLANNER) is not None
    strict = CumulativeCurve((CurvePoint(0, 9, 30, 0.9), CurvePoint(1, 1, 31, 1.0)))
    assert flag_slow(ind, DEFAULT_THRESHOLDS, strict).numbers["milestone_target_pct"] == 90.0


def test_r18_default_milestones_follow_the_national_shape_at_95_pct():
    # no history: 49% × 0.95 ÷ 0.90 = 51.72% at 30/09; 40% disbursed is 11.72 pp behind, 42% only 9.72
    ind = replace(HEALTHY, disbursed_vnd=40_000_000_000, scheduled_to_date_vnd=None)
    flag = flag_slow(ind)
    assert flag is not None and flag.numbers["milestone_target_pct"] == 51.72
    assert flag.numbers["milestone_gap_pp"] == 11.72
    assert flag_slow(replace(ind, disbursed_vnd=42_000_000_000)) is None


def test_r18_fresh_capital_is_not_yet_due_by_the_milestones():
    # 50 of a 100 plan disbursed = 10 pp behind 60%; 25 of the plan landed days ago: 50 of 75 = 66.67%
    ind = replace(HEALTHY, disbursed_vnd=50_000_000_000, scheduled_to_date_vnd=None)
    assert flag_slow(ind, DEFAULT_THRESHOLDS, PLANNER) is not None
    assert flag_slow(replace(ind, fresh_capital_vnd=25_000_000_000), DEFAULT_THRESHOLDS, PLANNER) is None
    # 40 of 75 = 53.33%: 6.67 pp behind, still within the 10 pp margin; 30 of 75 = 40%: 20 pp behind
    late = flag_slow(replace(ind, disbursed_vnd=30_000_000_000, fresh_capital_vnd=25_000_000_000),
                     DEFAULT_THRESHOLDS, PLANNER)
    assert late is not None and late.numbers["milestone_gap_pp"] == 20.0
    assert late.numbers["fresh_capital_vnd"] == 25_000_000_000


def test_r18_slow_ignores_zero_plan():
    assert flag_slow(replace(HEALTHY, plan_vnd=0, disbursed_vnd=0)) is None


def test_r18_stalled_after_threshold_days():
    ind = replace(HEALTHY, last_disbursement_on=date(Y, 8, 1))  # 60 days before 30/09
    flag = flag_stalled(ind)
    assert flag is not None and flag.reason == "no_disbursement_since"
    assert flag.numbers["days_without_disbursement"] == 60
    assert flag_stalled(replace(ind, last_disbursement_on=date(Y, 8, 2))) is None  # 59 days
    assert flag_stalled(ind, FlagThresholds(stalled_days=90)) is None


def test_r18_never_disbursed_counts_from_first_january():
    ind = replace(HEALTHY, as_of=date(Y, 3, 1), disbursed_vnd=0, last_disbursement_on=None)
    flag = flag_stalled(ind)
    assert flag is not None and flag.reason == "never_disbursed"
    assert flag.numbers["days_without_disbursement"] == 60  # 1 January → 1 March 2024 (leap year)
    assert flag_stalled(replace(ind, as_of=date(Y, 2, 29))) is None
    # a disbursement of the previous year does not restart the clock before 1 January
    earlier = replace(ind, last_disbursement_on=date(Y - 1, 12, 20))
    assert flag_stalled(earlier).reason == "never_disbursed"


def test_r18_stalled_not_raised_without_remaining_plan():
    ind = replace(HEALTHY, disbursed_vnd=PLAN, last_disbursement_on=date(Y, 1, 10))
    assert flag_stalled(ind) is None
    assert flag_stalled(replace(HEALTHY, plan_vnd=0, disbursed_vnd=0, last_disbursement_on=None)) is None


def test_r18_at_risk_beyond_tolerance():
    ind = replace(HEALTHY, forecast_vnd=90_000_000_000)
    flag = flag_at_risk(ind)
    assert flag is not None and flag.reason == "forecast_below_plan"
    assert flag.numbers["at_risk_vnd"] == 10_000_000_000
    assert flag.numbers["forecast_rate_pct"] == 90.0
    assert flag_at_risk(replace(ind, forecast_vnd=95_000_000_000)) is None  # exactly 5%: within tolerance
    assert flag_at_risk(replace(ind, forecast_vnd=94_999_999_999)) is not None
    assert flag_at_risk(replace(ind, forecast_vnd=None)) is None  # unknown is not zero


def test_r18_able_to_absorb_needs_capacity_and_need():
    ind = replace(
        HEALTHY, unconstrained_capacity_vnd=130_000_000_000, registered_extra_need_vnd=20_000_000_000
    )
    flag = flag_able_to_absorb(ind)
    assert flag is not None and flag.reason == "capacity_and_need_exceed_plan"
    assert flag.numbers["absorbable_vnd"] == 20_000_000_000
    ind_small_capacity = replace(ind, unconstrained_capacity_vnd=105_000_000_000)
    assert flag_able_to_absorb(ind_small_capacity).numbers["absorbable_vnd"] == 5_000_000_000
    assert flag_able_to_absorb(replace(ind, registered_extra_need_vnd=0)) is None
    assert flag_able_to_absorb(replace(ind, unconstrained_capacity_vnd=PLAN)) is None
    assert flag_able_to_absorb(ind, FlagThresholds(absorb_min_vnd=25_000_000_000)) is None


def test_r18_overdue_advances_and_no_schedule():
    flag = flag_overdue_advances(replace(HEALTHY, overdue_advance_vnd=3_000_000_000))
    assert flag is not None and flag.numbers == {"overdue_advance_vnd": 3_000_000_000}
    assert flag_overdue_advances(HEALTHY) is None
    flag = flag_no_schedule(replace(HEALTHY, scheduled_to_date_vnd=None))
    assert flag is not None and flag.reason == "schedule_not_registered"
    assert flag_no_schedule(replace(HEALTHY, plan_vnd=0, scheduled_to_date_vnd=None)) is None


def test_r18_evaluate_orders_flags_and_says_why():
    bad = replace(
        HEALTHY,
        disbursed_vnd=20_000_000_000,
        scheduled_to_date_vnd=None,
        last_disbursement_on=date(Y, 5, 1),
        forecast_vnd=40_000_000_000,
        overdue_advance_vnd=1,
    )
    flags = evaluate_flags(bad)
    assert [f.code for f in flags] == [
        FlagCode.slow,
        FlagCode.stalled,
        FlagCode.at_risk,
        FlagCode.overdue_advances,
        FlagCode.no_schedule,
    ]
    for flag in flags:
        assert flag.reason and flag.detail.endswith(".")
        assert all(isinstance(v, int | float) for v in flag.numbers.values())


@settings(max_examples=80, deadline=None)
@given(
    plan=st.integers(0, 10**13),
    disbursed=st.integers(0, 10**13),
    day=st.integers(0, 395),
    margin=st.sampled_from([0, 5, 10, 12.5]),
)
def test_r18_slow_agrees_with_the_milestone_definition(plan, disbursed, day, margin):
    as_of = date(Y, 1, 1) + timedelta(days=day)
    ind = ProjectIndicators(Y, as_of, plan, disbursed, scheduled_to_date_vnd=None)
    flag = flag_slow(ind, FlagThresholds(slow_margin_pp=margin))
    if plan == 0:
        assert flag is None
        return
    gap_pp = 100 * milestone_target(as_of, plan_year=Y) - 100 * disbursed / plan
    if gap_pp > margin + 1e-6 and gap_pp > 0:
        assert flag is not None
    elif gap_pp < margin - 1e-6 or gap_pp <= 0:
        assert flag is None
