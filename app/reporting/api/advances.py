"""Quarterly advance report, JSON, Excel or CSV (R20): form 08.a per project, 08.b per investor."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from app.kernel.api.deps import SessionDep, require
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.schemas import Schema
from app.reporting import advance_report, form_layouts, forms, layouts
from app.reporting.schemas import AdvanceSummaryReport

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AdvanceReportRow(Schema):
    investor_id: int
    investor_name: str
    project_id: int
    project_code: str
    project_name: str
    outstanding_vnd: int = Field(description="Dư tạm ứng")
    overdue_vnd: int = Field(description="Tạm ứng quá hạn")
    overdue_by_rule_vnd: dict[str, int] = Field(description="Overdue per rule: R9 contract, R10 GPMB, R11 other")
    due_soon_vnd: int = Field(description="R12: due within 30 days")
    reasons: list[str] = Field(description="Nguyên nhân, from the recovery cases' notes")
    remedies: list[str] = Field(description="Giải pháp, from the recovery cases' states")


class AdvanceReport(Schema):
    year: int
    quarter: int
    as_of: date
    rule_set: str
    items: list[AdvanceReportRow]
    totals: dict[str, int]


@router.get("/advances", operation_id="getAdvanceReport",
            summary="Quarterly advance report: form 08.a (per project) or 08.b (per investor)",
            response_model=AdvanceReport | AdvanceSummaryReport,
            responses={200: {"content": {XLSX: {}, "text/csv": {}},
                             "description": "JSON, or .xlsx / CSV with format=xlsx / csv"},
                       **problem_responses(401, 403, 422)},
            dependencies=[require("treasury.read")])
async def advance_report_endpoint(
    request: Request, session: SessionDep,
    year: Annotated[int, Query(ge=2000, le=2100)], quarter: Annotated[int, Query(ge=1, le=4)],
    format: Annotated[Literal["json", "xlsx", "csv"] | None, Query(description="Or send Accept: " + XLSX)] = None,
    form: Annotated[forms.AdvanceForm, Query(description="08a: per project; 08b: per investor")] = (
        forms.AdvanceForm.f08a),
) -> AdvanceReport | AdvanceSummaryReport | Response:
    body: AdvanceReport | AdvanceSummaryReport
    if form is forms.AdvanceForm.f08b:
        summary = await forms.advance_summary(session, year, quarter, today())
        tables, body = form_layouts.advance_summary(summary), AdvanceSummaryReport(**summary)
        name = f"mau-08b-Q{quarter}-{year}"
    else:
        report = await advance_report.build(session, year, quarter, today())
        tables, body = layouts.advances(report), AdvanceReport(**report)
        name = f"bao-cao-tam-ung-Q{quarter}-{year}"
    wants_xlsx = format == "xlsx" or (format is None and XLSX in request.headers.get("accept", ""))
    if format == "csv":
        return Response(layouts.csv(tables), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if wants_xlsx:
        return Response(layouts.xlsx(tables), media_type=XLSX, headers={
            "Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    return body
