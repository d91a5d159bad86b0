"""R1c medium-term plans of a project: record a ceiling decision, read the ceilings with their headroom."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import AfterValidator, Field

from app.enums import CapitalSource, MediumTermKind
from app.kernel.api.deps import IdempotencyDep, PrincipalDep, SessionDep, note_write, require
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.schemas import IdParam, IsoDate, PositiveVnd, Schema, Text200
from app.ledger import medium_term
from app.ledger.medium_term_rules import PERIOD_YEARS, MediumTermInput, period_label, period_of
from app.registry import projects

router = APIRouter(prefix="/api/v1/projects", tags=["projects"])


def _period(value: str) -> str:
    start, _, end = value.partition("-")
    if not (start.isdigit() and end.isdigit() and 2000 <= int(start) <= 2100 and period_of(int(start)) == int(start)
            and int(end) == int(start) + PERIOD_YEARS - 1):
        raise ValueError("a medium-term period is five plan years, e.g. 2021-2025 or 2026-2030")
    return value


Period = Annotated[str, Field(pattern=r"^\d{4}-\d{4}$", max_length=9, examples=["2021-2025"],
                              description="Medium-term period (giai đoạn trung hạn), five plan years: 2021-2025, "
                              "2026-2030"), AfterValidator(_period)]


class MediumTermCreate(Schema):
    """A decision on a project's medium-term plan (kế hoạch đầu tư công trung hạn) for one period and source."""

    model_config = {"json_schema_extra": {"examples": [{
        "period": "2021-2025", "capital_source": "local_balanced", "kind": "initial", "amount_vnd": 120_000_000_000,
        "decision_number": "45/NQ-HĐND", "decision_date": "2021-08-20", "authority": "HĐND tỉnh Vĩnh Phúc"}]}}

    period: Period
    capital_source: CapitalSource = Field(description="Capital source (nguồn vốn)")
    kind: MediumTermKind = Field(description="initial (giao kế hoạch trung hạn; one per period and source), "
                                 "adjustment_in / adjustment_out (điều chỉnh tăng / giảm)")
    amount_vnd: PositiveVnd = Field(description="Positive amount in đồng; the kind gives the direction")
    decision_number: Text200 = Field(description="Decision number (số nghị quyết / quyết định)")
    decision_date: IsoDate
    authority: Text200 = Field(description="Deciding authority (cơ quan quyết định), e.g. HĐND tỉnh")
    note: str | None = Field(None, max_length=1000)


class MediumTermEntryOut(Schema):
    id: int
    project_id: int
    period: str
    capital_source: CapitalSource
    kind: MediumTermKind
    amount_vnd: int = Field(description="Signed change of the ceiling")
    decision_number: str
    decision_date: IsoDate
    authority: str
    note: str | None
    known_on: IsoDate
    created_at: datetime


class MediumTermCeilingOut(Schema):
    period: str
    capital_source: CapitalSource
    ceiling_vnd: int = Field(description="Medium-term ceiling: the sum of the entries")
    annual_plans_vnd: int = Field(description="Sum of the project's annual plans of this source over the period")
    headroom_vnd: int = Field(description="ceiling − annual plans: what annual allocations may still add (R1c)")


class MediumTermPlanOut(Schema):
    project_id: int
    ceilings: list[MediumTermCeilingOut]
    entries: list[MediumTermEntryOut]


def _entry_out(row) -> MediumTermEntryOut:
    return MediumTermEntryOut(
        id=row.id, project_id=row.project_id, period=period_label(row.period_start), capital_source=row.capital_source,
        kind=row.kind, amount_vnd=row.amount_vnd, decision_number=row.decision_number, decision_date=row.decision_date,
        authority=row.authority, note=row.note, known_on=row.known_on, created_at=row.created_at)


@router.post("/{project_id}/medium-term-plans", operation_id="createMediumTermEntry",
             summary="Record a medium-term plan decision (ceiling per period and source, R1c)", status_code=201,
             response_model=MediumTermEntryOut, responses=problem_responses(401, 403, 404, 409, 413, 422),
             dependencies=[require("allocation.write")])
async def create_medium_term_entry(project_id: IdParam, body: MediumTermCreate, request: Request, session: SessionDep,
                                   principal: PrincipalDep, idem: IdempotencyDep) -> Response:
    """Planners and administrators only. A decrease cannot take the ceiling below the annual plans it bounds."""
    if (replayed := await idem.replay()) is not None:
        return replayed
    data = body.model_dump(exclude={"period"})
    row = await medium_term.record(session, MediumTermInput(project_id=project_id,
                                                            period_start=int(body.period[:4]), **data),
                                   today=today(), key_id=principal.key_id)
    note_write(request, "medium_term.create", "medium_term_entry", row.id)
    return idem.respond(201, _entry_out(row))


@router.get("/{project_id}/medium-term-plans", operation_id="getMediumTermPlan",
            summary="A project's medium-term ceilings with their headroom, and the decisions behind them",
            response_model=MediumTermPlanOut, responses=problem_responses(400, 401, 403, 404, 422),
            dependencies=[require("read")])
async def get_medium_term_plan(project_id: IdParam, session: SessionDep) -> MediumTermPlanOut:
    await projects.get(session, project_id)
    ceilings = [MediumTermCeilingOut(period=period_label(c.period_start), capital_source=c.capital_source,
                                     ceiling_vnd=c.ceiling_vnd, annual_plans_vnd=c.annual_plans_vnd,
                                     headroom_vnd=c.headroom_vnd)
                for c in await medium_term.ceilings(session, project_id)]
    return MediumTermPlanOut(project_id=project_id, ceilings=ceilings,
                             entries=[_entry_out(r) for r in await medium_term.entries(session, project_id)])
