"""Quarterly advance report (form 08.a shape), JSON or Excel (R20)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from app.kernel.api.deps import SessionDep, require
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.schemas import Schema
from app.reporting import advance_report, layouts

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


@router.get("/advances", operation_id="getAdvanceReport", summary="Quarterly advance report (form 08.a)",
            response_model=AdvanceReport,
            responses={200: {"content": {XLSX: {}, "text/csv": {}},
                             "description": "JSON, or .xlsx / CSV with format=xlsx / csv"},
                       **problem_responses(401, 403, 422)},
            dependencies=[require("treasury.read")])
async def advance_report_endpoint(
    request: Request, session: SessionDep,
    year: Annotated[int, Query(ge=2000, le=2100)], quarter: Annotated[int, Query(ge=1, le=4)],
    format: Annotated[Literal["json", "xlsx", "csv"] | None, Query(description="Or send Accept: " + XLSX)] = None,
) -> AdvanceReport | Response:
    report = await advance_report.build(session, year, quarter, today())
    wants_xlsx = format == "xlsx" or (format is None and XLSX in request.headers.get("accept", ""))
    name = f"bao-cao-tam-ung-Q{quarter}-{year}"
    if format == "csv":
        return Response(layouts.csv(layouts.advances(report)), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if wants_xlsx:
        return Response(layouts.xlsx(layouts.advances(report)), media_type=XLSX, headers={
            "Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    return AdvanceReport(**report)
