"""R20 reports: monthly (TT 37 shape) and watch-list progress, as JSON or .xlsx, for any past as_of."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from app.kernel.api.deps import ReadSessionDep, SessionDep, require
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.schemas import IdParam, IsoDate, PlanYearParam
from app.ledger.balances import confirmed_split
from app.reporting import form_layouts, forms, layouts, reconciliation_report, reports
from app.reporting.schemas import MonthlyFormReport, MonthlyReport, WatchListReport
from app.treasury import reconciliation

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
READ_ERRORS = problem_responses(400, 401, 403, 422)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Year = Annotated[int | None, Query(ge=2000, le=2100, description="Plan year (default: as_of's year)")]
AsOf = Annotated[IsoDate | None, Query(description="Report date, reproducible for any past date (default: today)")]
Format = Annotated[Literal["json", "xlsx", "csv"], Query(
    description="json, xlsx or csv (Vietnamese labels, triệu đồng, dd/mm/yyyy)")]
DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}, XLSX: {}, "text/csv": {}},
          "description": "The report as JSON, .xlsx or CSV (the same table)"}}


def _xlsx(body: bytes, name: str) -> Response:
    return Response(body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _file(tables: list[layouts.Table], format: str, name: str) -> Response:
    """The official layout (app.reporting.layouts) as .xlsx, or the same table as CSV beside it."""
    if format == "csv":
        return Response(layouts.csv(tables), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return _xlsx(layouts.xlsx(tables), f"{name}.xlsx")


@router.get(
    "/monthly",
    operation_id="getMonthlyReport",
    summary="Monthly report (TT 37 shape): actual to end of last month, estimate for this month",
    response_model=MonthlyReport,
    responses={**DOC, **READ_ERRORS},
    dependencies=[require("read")],
)
async def monthly(session: ReadSessionDep, plan_year: Year = None, as_of: AsOf = None, format: Format = "json") -> Any:
    day = as_of or today()
    data = await reports.monthly(session, plan_year or day.year, day)
    if format != "json":
        return _file(layouts.monthly(data), format, f"bao-cao-thang-{day.isoformat()}")
    return data


@router.get(
    "/monthly/forms/{form}",
    operation_id="getMonthlyForm",
    summary="TT 37/2025 monthly form 01a, 01b, 01c or 01d (our reading of Article 4: docs/report-forms.md)",
    description="01a per capital source and 01b per project: this year's plan and the plans extended into it; 01c "
    "per source and 01d per project: this year's plan with capital advanced from next year's plan (R1a) apart. "
    "Actual to the end of last month and estimate to the end of this month, both R1b rates, as known on as_of.",
    response_model=MonthlyFormReport,
    responses={**DOC, **READ_ERRORS},
    dependencies=[require("read")],
)
async def monthly_form(session: ReadSessionDep, form: forms.MonthlyForm, plan_year: Year = None, as_of: AsOf = None,
                       format: Format = "json") -> Any:
    day = as_of or today()
    data = await forms.monthly_form(session, form, plan_year or day.year, day)
    if format != "json":
        return _file(form_layouts.monthly_form(data), format, f"mau-{form.value}-{day.isoformat()}")
    return data


@router.get(
    "/watch-lists",
    operation_id="getWatchListReport",
    summary="Watch-list progress (Appendices 1/2/3) with rate, flags, obstacles and recommendations",
    response_model=WatchListReport,
    responses={**DOC, **READ_ERRORS},
    dependencies=[require("read")],
)
async def watch_lists(
    session: ReadSessionDep, plan_year: Year = None, as_of: AsOf = None, format: Format = "json"
) -> Any:
    day = as_of or today()
    data = await reports.watch_list(session, plan_year or day.year, day)
    if format != "json":
        return _file(layouts.watch_list(data), format, f"bao-cao-danh-muc-{day.isoformat()}")
    return data


CSV = "text/csv; charset=utf-8"


@router.get(
    "/reconciliation",
    operation_id="getReconciliationReport",
    summary="Reconciliation report (R15a): owner reports vs the Treasury's record, .xlsx or CSV",
    response_class=Response,
    responses={200: {"content": {XLSX: {}, CSV: {}}, "description": "Every item of the plan year, with the "
                     "confirmed and unconfirmed totals in the title row (xlsx)"}, **READ_ERRORS},
    dependencies=[require("treasury.read")],
)
async def reconciliation_file(session: SessionDep, plan_year: Annotated[PlanYearParam, Query()],
                              project_id: Annotated[IdParam | None, Query()] = None,
                              format: Annotated[Literal["xlsx", "csv"], Query()] = "xlsx") -> Response:
    """Every reconciliation item (matches included) with the Vietnamese headers the Treasury uses."""
    items = await reconciliation.items(session, plan_year=plan_year, project_id=project_id)
    if format == "csv":
        return Response(reconciliation_report.to_csv(items), media_type=CSV, headers={
            "Content-Disposition": f'attachment; filename="doi-chieu-{plan_year}.csv"'})
    figures = await confirmed_split(session, plan_year=plan_year, project_ids=[project_id] if project_id else None)
    return _xlsx(reconciliation_report.to_xlsx(plan_year, figures, items), f"doi-chieu-{plan_year}.xlsx")
