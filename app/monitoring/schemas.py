"""Monitoring schemas (R17–R18): schedules, milestone curves, extra needs, indicators, flags, summaries."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from app.enums import BudgetLevel, CapitalSource
from app.kernel.schemas import Id, IsoDate, NonNegativeVnd, PlanYear, PositiveVnd, Schema


class ScheduleMonthIn(Schema):
    month: int = Field(ge=1, le=13, description="1–12: month of the plan year; 13: January of the next year")
    amount_vnd: NonNegativeVnd


class ScheduleCreate(Schema):
    """A monthly disbursement schedule (kế hoạch giải ngân theo tháng, R17); a new one is a new revision."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "plan_year": 2024,
                    "months": [{"month": 3, "amount_vnd": 5_000_000_000}, {"month": 9, "amount_vnd": 10_000_000_000}],
                    "note": "Theo tiến độ hợp đồng",
                }
            ]
        }
    }

    plan_year: PlanYear
    months: list[ScheduleMonthIn] = Field(min_length=1, max_length=13)
    note: str | None = Field(None, max_length=1000)


class ScheduleOut(Schema):
    id: int
    project_id: int
    plan_year: int
    revision: int = Field(description="1 = the first registered schedule; it stays visible after revisions")
    is_current: bool
    total_vnd: int
    months: list[ScheduleMonthIn]
    note: str | None
    known_on: IsoDate
    created_at: datetime


class MilestonePointIn(Schema):
    on_date: IsoDate
    target_pct: float = Field(ge=0, le=100, strict=True,  # strict: `false` is not 0 %
                              description="Target cumulative disbursement rate (% of plan)")


class MilestoneCurveIn(Schema):
    points: list[MilestonePointIn] = Field(min_length=1, max_length=24)


class MilestonePointOut(Schema):
    on_date: date  # the server's own date: the 31/01 of plan year 2100 is in 2101, past what a client may send
    target_pct: float = Field(description="Target cumulative disbursement rate (% of plan)")


class MilestoneCurveOut(Schema):
    plan_year: int
    is_default: bool = Field(description="True while no curve was set: DOMAIN.md §6 defaults, 95% at 31/01")
    points: list[MilestonePointOut]


class ExtraNeedCreate(Schema):
    """Extra-need request (đăng ký nhu cầu bổ sung vốn) for a project, pool and plan year."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "plan_year": 2024,
                    "capital_source": "local_balanced",
                    "budget_level": "province",
                    "amount_vnd": 20_000_000_000,
                    "justification": "Khối lượng hoàn thành chờ thanh toán",
                    "spend_by": "2024-12-31",
                }
            ]
        }
    }

    plan_year: PlanYear
    capital_source: CapitalSource = Field(description="Capital source (nguồn vốn)")
    budget_level: BudgetLevel = Field(description="Budget level (cấp ngân sách)")
    budget_holder_id: Id | None = Field(None, description="R1 budget holder (organisation id) of the pool; omitted: "
                                        "the default of the capital plan (see `AllocationCreate`)")
    amount_vnd: PositiveVnd
    justification: str = Field(min_length=1, max_length=2000, description="Why, e.g. completed work awaiting payment")
    spend_by: IsoDate = Field(description="Date by which the extra capital could be disbursed")


class ExtraNeedOut(ExtraNeedCreate):
    budget_holder_id: int = Field(description="R1 budget holder (organisation id) of the pool")
    id: int
    project_id: int
    status: str
    known_on: IsoDate
    created_at: datetime


class FlagOut(Schema):
    code: str = Field(description="slow | stalled | at_risk | able_to_absorb | overdue_advances | no_schedule")
    reason: str = Field(description="Stable machine-readable reason, e.g. behind_schedule")
    detail: str
    numbers: dict[str, int | float]


class ForecastComponentOut(Schema):
    pool: str
    name: str
    estimate_vnd: int
    weight: float
    inputs: dict[str, int | float]


class ForecastOut(Schema):
    deadline: date  # 31/01 of the next year: past 2100 for plan year 2100, so not an input date
    forecast_vnd: int
    low_vnd: int
    high_vnd: int
    forecast_rate_pct: float
    unconstrained_capacity_vnd: int = Field(
        description="What its pace could spend by the deadline, without the plan cap"
    )
    components: list[ForecastComponentOut]


class ProvenanceFigures(Schema):
    """R1b: the plan by who assigned it, and the rate against the Prime Minister's plan beside `rate_pct` (the rate
    of the province's whole plan): one disbursed figure over two plans."""

    assigned_plan_vnd: int = Field(description="Of plan_vnd, the plan assigned by the Prime Minister (giao theo kế "
                                   "hoạch Thủ tướng)")
    added_plan_vnd: int = Field(description="Of plan_vnd, the capital added by the province (giao tăng)")
    rate_of_assigned_plan_pct: float | None = Field(
        description="Disbursed ÷ assigned_plan_vnd, % (tỷ lệ so với kế hoạch Thủ tướng giao); null without such a "
        "plan. rate_pct is the rate of the province's plan (tỷ lệ so với kế hoạch tỉnh giao)")


class IndicatorsOut(ProvenanceFigures):
    """R17/R18 indicators of one project for one plan year on `as_of`."""

    project_id: int
    code: str
    name: str
    plan_year: int
    as_of: IsoDate
    plan_vnd: int
    disbursed_vnd: int
    rate_pct: float = Field(description="Disbursement rate (tỷ lệ giải ngân) = disbursed ÷ plan, %: the rate of "
                            "the province's plan (R1b)")
    scheduled_to_date_vnd: int | None = Field(description="Amount its schedule expected by as_of; null: none")
    vs_schedule_pp: float | None = Field(description="(disbursed − scheduled) ÷ plan, percentage points")
    milestone_target_pct: float
    vs_milestone_pp: float = Field(description="rate − milestone target, percentage points")
    last_disbursement_on: IsoDate | None
    days_since_last_disbursement: int
    advance_outstanding_vnd: int = Field(description="Outstanding advance (dư tạm ứng) of this plan year's pools")
    overdue_advance_vnd: int | None = Field(description="Overdue advance (tạm ứng quá hạn); null if unavailable")
    forecast: ForecastOut
    at_risk_vnd: int = Field(description="Plan − forecast: capital that would lapse")
    registered_extra_need_vnd: int = Field(
        description="Extra needs registered and still open: not withdrawn, less the supplements decided for the "
        "project since its first need (a tranche answers the need it was given for)")
    absorbable_extra_vnd: int = Field(description="min(open registered need, capacity beyond plan), per pool")
    flags: list[FlagOut]


class IndicatorRow(ProvenanceFigures):
    """A row of the indicator list: the figures and flags without the forecast's components."""

    project_id: int
    code: str
    name: str
    investor_id: int
    sector: str
    location: str
    working_group_id: int | None
    watch_lists: list[str] = Field(description="Codes of the watch-lists it is on (R21)")
    plan_vnd: int
    disbursed_vnd: int
    rate_pct: float
    forecast_vnd: int
    low_vnd: int
    high_vnd: int
    at_risk_vnd: int
    absorbable_extra_vnd: int
    days_since_last_disbursement: int
    flags: list[FlagOut]


class GroupBy(StrEnum):
    investor = "investor"
    sector = "sector"
    location = "location"
    capital_source = "capital_source"
    budget_level = "budget_level"
    budget_holder = "budget_holder"  # R1: the province, or one district's or commune's government
    working_group = "working_group"
    watch_list = "watch_list"
    lead_official = "lead_official"


class SummaryFigures(ProvenanceFigures):
    projects: int
    plan_vnd: int
    disbursed_vnd: int
    rate_pct: float
    forecast_vnd: int
    forecast_rate_pct: float
    at_risk_vnd: int
    absorbable_extra_vnd: int
    flag_counts: dict[str, int]


class SummaryGroup(SummaryFigures):
    key: str | None = Field(description="Group value (id or name); null: not assigned")
    label: str | None = None


class Freshness(Schema):
    """Where the figures come from: today's stored indicators, or a past `as_of` computed on the fly."""

    computed_for: IsoDate | None = Field(
        None,
        description="Business date the stored indicators are complete for (the previous day while a new "
        "day's rebuild runs); equals as_of for a past as_of (computed on the fly, slower)",
    )
    stale: bool = Field(False, description="True: changes are still being applied; pending_projects says how many")
    pending_projects: int = Field(0, description="Projects changed (or not yet rebuilt) and not yet reflected")


class ConfirmedSplit(Schema):
    """R15a: how much of a disbursed figure is the Treasury's record."""

    disbursed_vnd: int = Field(description="Net disbursed on the books as of `as_of` (giải ngân)")
    confirmed_vnd: int = Field(description="Of which the Treasury's record (Kho bạc đã xác nhận)")
    unconfirmed_vnd: int = Field(description="Of which owners' reports the Treasury has not confirmed (ước)")


class SummaryOut(Freshness):
    plan_year: int
    as_of: IsoDate
    group_by: GroupBy | None
    province: SummaryFigures
    province_confirmed: ConfirmedSplit = Field(description="R15a: the province's disbursed figure by provenance, "
                                               "read from the ledger as of `as_of`")
    groups: list[SummaryGroup]


class IndicatorPage(Freshness):
    """A page of the indicator list (cursor pagination) and the freshness of its figures."""

    items: list[IndicatorRow]
    next_page_token: str | None = Field(None, description="Opaque token for the next page; null on the last page")
