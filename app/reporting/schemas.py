"""JSON bodies of the R20 monthly, TT 37 form and watch-list reports (what `app.reporting.reports` builds, typed)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from app.enums import ProjectFunding, ReportFrequency
from app.kernel.schemas import Schema
from app.reporting.forms import AdvanceForm, MonthlyForm


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
    next_year_advance_vnd: int = Field(description="R1a: of plan_vnd, capital advanced from next year's plan (ứng "
                                       "trước kế hoạch vốn năm sau)")
    next_year_advance_repaid_vnd: int = Field(description="R1a: of next_year_advance_vnd, already repaid from next "
                                              "year's plan by the report date")
    advance_repayment_vnd: int = Field(description="R1a: taken from this year's new capital to repay what was "
                                       "advanced in the previous year (thu hồi vốn ứng trước)")
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


class FormFigures(Schema):
    """A row of the TT 37/2025 forms 01a–01d (`app.reporting.forms`); amounts in đồng (the layouts show triệu đồng)."""

    plan_vnd: int = Field(description="Kế hoạch vốn năm: the province's plan of the year (incl. ứng trước, R1a)")
    assigned_plan_vnd: int = Field(description="R1b: of plan_vnd, assigned by the Prime Minister")
    added_plan_vnd: int = Field(description="R1b: of plan_vnd, added by the province itself (giao tăng)")
    actual_to_last_month_vnd: int = Field(description="Lũy kế giải ngân đến hết tháng trước")
    estimate_to_month_end_vnd: int = Field(description="Ước giải ngân đến hết tháng báo cáo")
    extended_plan_vnd: int = Field(description="Plans of earlier years extended into this year (R14)")
    extended_to_last_month_vnd: int = Field(description="Disbursed from the extended capital by the end of last month")
    extended_estimate_vnd: int = Field(description="Estimate of the extended capital by the end of this month: what "
                                       "is disbursed by the report date (no forecast exists for it)")
    next_year_advance_vnd: int = Field(description="R1a: of plan_vnd, advanced from next year's plan (ứng trước)")
    next_year_advance_repaid_vnd: int = Field(description="R1a: of it, repaid from next year's plan by the report date")
    next_year_advance_unrepaid_vnd: int = Field(description="R1a: of it, still to be repaid")
    advance_repayment_vnd: int = Field(description="R1a: taken from this year's plan to repay last year's advance")
    rate_to_last_month_pct: float = Field(description="R1b: actual_to_last_month_vnd ÷ plan_vnd, %")
    rate_to_last_month_of_assigned_plan_pct: float | None = Field(
        description="R1b: actual_to_last_month_vnd ÷ assigned_plan_vnd, %; null without such a plan")
    estimate_rate_pct: float = Field(description="R1b: estimate_to_month_end_vnd ÷ plan_vnd, %")
    estimate_rate_of_assigned_plan_pct: float | None = Field(
        description="R1b: estimate_to_month_end_vnd ÷ assigned_plan_vnd, %; null without such a plan")
    extended_estimate_rate_pct: float = Field(description="extended_estimate_vnd ÷ extended_plan_vnd, %")


class FormRow(FormFigures):
    capital_source: str = Field(description="Capital source (nguồn vốn)")
    project_id: int | None = Field(description="Forms 01b/01d: the project; null on 01a/01c")
    project_code: str | None
    project_name: str | None


class MonthlyFormReport(Schema):
    form: MonthlyForm
    plan_year: int
    as_of: date
    last_month_end: date
    rows: list[FormRow] = Field(description="01a/01c: one row per capital source; 01b/01d: per project and source")
    total: FormFigures


class AdvanceSummaryRow(Schema):
    investor_id: int
    investor_name: str
    projects: int = Field(description="Projects with an outstanding advance")
    outstanding_vnd: int = Field(description="Dư tạm ứng")
    overdue_vnd: int = Field(description="Tạm ứng quá hạn")
    overdue_by_rule_vnd: dict[str, int] = Field(description="Overdue per rule: R9 contract, R10 GPMB, R11 other")
    due_soon_vnd: int = Field(description="R12: due within 30 days")
    overdue_share_pct: float = Field(description="overdue_vnd ÷ outstanding_vnd, %")
    reasons: list[str]
    remedies: list[str]


class AdvanceSummaryReport(Schema):
    """Form 08.b: the quarterly advance report (08.a) per investor."""

    form: AdvanceForm
    year: int
    quarter: int
    as_of: date
    rule_set: str
    items: list[AdvanceSummaryRow]
    totals: dict[str, int]
    overdue_share_pct: float
