"""JSON bodies of the R20 monthly and watch-list reports (what `app.reporting.reports` builds, typed)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from app.enums import ProjectFunding, ReportFrequency
from app.kernel.schemas import Schema


class MonthlyFigures(Schema):
    plan_vnd: int = Field(description="Kế hoạch vốn năm: the province's plan (kế hoạch tỉnh giao)")
    assigned_plan_vnd: int = Field(description="R1b: of which assigned by the Prime Minister (kế hoạch Thủ tướng "
                                   "giao); the rest the province added (giao tăng)")
    actual_to_last_month_vnd: int = Field(description="Disbursed up to the end of last month")
    actual_to_date_vnd: int = Field(description="Disbursed up to the report date")
    actual_to_date_confirmed_vnd: int = Field(description="R15a: of which the Treasury's record (Kho bạc đã xác "
                                              "nhận); the rest is owners' reports not yet confirmed")
    estimate_to_month_end_vnd: int = Field(description="Estimated disbursed by the end of this month")
    extended_plan_vnd: int = Field(description="Last year's capital extended into this year (R14)")
    extended_disbursed_vnd: int = Field(description="Disbursed from the extended capital")
    advance_outstanding_last_month_vnd: int = Field(description="Advances outstanding at the end of last month")
    rate_to_last_month_pct: float = Field(description="actual_to_last_month_vnd / plan_vnd, %, 2 decimals")
    rate_to_last_month_of_assigned_plan_pct: float | None = Field(
        description="R1b: actual_to_last_month_vnd / assigned_plan_vnd, %, 2 decimals; null without such a plan")
    estimate_rate_pct: float = Field(description="estimate_to_month_end_vnd / plan_vnd, %, 2 decimals")
    estimate_rate_of_assigned_plan_pct: float | None = Field(
        description="R1b: estimate_to_month_end_vnd / assigned_plan_vnd, %, 2 decimals; null without such a plan")


class MonthlyRow(MonthlyFigures):
    capital_source: str = Field(description="Capital source (nguồn vốn)")


class MonthlyReport(Schema):
    plan_year: int
    as_of: date
    last_month_end: date
    rows: list[MonthlyRow] = Field(description="One row per capital source, by source")
    total: MonthlyFigures


class WatchListFlag(Schema):
    code: str = Field(description="The R18 flag, e.g. slow, stalled, at_risk")
    reason: str = Field(description="Stable machine-readable reason")
    detail: str


class WatchListObstacle(Schema):
    id: int
    category: str
    title: str
    status: str
    deadline: date | None
    responsible_organisation_id: int | None = Field(description="The agency responsible for unblocking it")
    responsible_organisation: str | None


class MilestoneDates(Schema):
    planned_on: date | None
    actual_on: date | None


class WatchListMilestones(Schema):
    start: MilestoneDates = Field(description="Khởi công")
    completion: MilestoneDates = Field(description="Hoàn thành")
    inauguration: MilestoneDates = Field(description="Khánh thành")


class WatchListItem(Schema):
    project_id: int
    code: str
    name: str
    funding: ProjectFunding = Field(description="non_budget projects (Appendix 1) have no capital figures: null")
    member_since: date
    plan_vnd: int | None
    assigned_plan_vnd: int | None = Field(description="R1b: of plan_vnd, assigned by the Prime Minister")
    disbursed_vnd: int | None
    rate_pct: float | None = Field(description="R1b: disbursed ÷ plan_vnd (the province's plan), %")
    rate_of_assigned_plan_pct: float | None = Field(description="R1b: disbursed ÷ assigned_plan_vnd, %; null "
                                                    "without such a plan")
    forecast_vnd: int | None
    physical_pct: float | None = Field(description="Physical progress as last reported by as_of")
    progress_reported_on: date | None
    milestones: WatchListMilestones
    lead_person_id: int | None
    lead_official: str | None = Field(description="The lead official on as_of: title and name")
    flags: list[WatchListFlag]
    obstacles: list[WatchListObstacle] = Field(description="Obstacles open on the report date")
    recommendations: list[str]


class WatchListAppendix(Schema):
    watch_list: str = Field(description="The list's code, e.g. app1 | app2 | app3")
    watch_list_id: int
    title: str
    decision_ref: str | None
    project_funding: ProjectFunding | None
    reporter: str | None = Field(description="Reporting duty: who reports")
    report_frequency: ReportFrequency | None = Field(description="… how often")
    report_to: str | None = Field(description="… to whom")
    report_duty: str | None
    items: list[WatchListItem]


class WatchListReport(Schema):
    plan_year: int
    as_of: date
    appendices: list[WatchListAppendix]
