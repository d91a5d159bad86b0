"""R17 inputs: disbursement schedules, milestone curves and extra-need requests."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.kernel.api.deps import IdempotencyDep, PrincipalDep, SessionDep, authorize_project, note_write, require
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.schemas import IdParam, Page, PageSize, PlanYearParam, PlanYearPath, after_id, split_page
from app.models import DisbursementSchedule
from app.monitoring import schedules
from app.monitoring.schemas import (
    ExtraNeedCreate,
    ExtraNeedOut,
    MilestoneCurveIn,
    MilestoneCurveOut,
    MilestonePointOut,
    ScheduleCreate,
    ScheduleMonthIn,
    ScheduleOut,
)
from app.registry import projects

router = APIRouter(prefix="/api/v1", tags=["monitoring"])
READ_ERRORS = problem_responses(400, 401, 403, 404, 422)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 413, 422)


def _schedule_out(s: DisbursementSchedule, months: dict[int, int]) -> ScheduleOut:
    return ScheduleOut(
        id=s.id,
        project_id=s.project_id,
        plan_year=s.plan_year,
        revision=s.revision,
        is_current=s.is_current,
        total_vnd=s.total_vnd,
        note=s.note,
        known_on=s.known_on,
        created_at=s.created_at,
        months=[ScheduleMonthIn(month=m, amount_vnd=a) for m, a in sorted(months.items())],
    )


@router.post(
    "/projects/{project_id}/schedules",
    operation_id="registerSchedule",
    status_code=201,
    summary="Register (or revise) a project's monthly disbursement schedule",
    response_model=ScheduleOut,
    responses=WRITE_ERRORS,
    dependencies=[require("schedule.write")],
)
async def register_schedule(
    project_id: IdParam, body: ScheduleCreate, request: Request, session: SessionDep, principal: PrincipalDep,
    idem: IdempotencyDep,
) -> Response:
    if (replayed := await idem.replay()) is not None:
        return replayed
    project = await projects.get(session, project_id)
    authorize_project(principal, "schedule.write", project.investor_id)
    months: dict[int, int] = {}
    for m in body.months:
        months[m.month] = months.get(m.month, 0) + m.amount_vnd
    schedule = await schedules.register_schedule(
        session, project_id, body.plan_year, months, body.note, today(), principal.key_id
    )
    note_write(request, "schedule.register", "disbursement_schedule", schedule.id)
    return idem.respond(201, _schedule_out(schedule, months))


@router.get(
    "/projects/{project_id}/schedules",
    operation_id="listSchedules",
    summary="A project's schedule revisions (the first registered stays visible)",
    response_model=Page[ScheduleOut],
    responses=READ_ERRORS,
    dependencies=[require("read")],
)
async def list_schedules(
    project_id: IdParam,
    session: SessionDep,
    plan_year: PlanYearParam | None = None,
    page_size: PageSize = 50,
    page_token: str | None = None,
) -> Page[ScheduleOut]:
    await projects.get(session, project_id)
    filters = {"project_id": project_id, "plan_year": plan_year}
    after = after_id(page_token, filters)
    rows = await schedules.list_schedules(session, project_id, plan_year, after, page_size + 1)
    rows, token = split_page(rows, page_size, filters)
    months = await schedules.schedule_months(session, [r.id for r in rows])
    return Page[ScheduleOut](items=[_schedule_out(r, months[r.id]) for r in rows], next_page_token=token)


@router.get(
    "/milestone-curves/{plan_year}",
    operation_id="getMilestoneCurve",
    summary="The plan year's milestone curve (R17)",
    response_model=MilestoneCurveOut,
    responses=READ_ERRORS,
    dependencies=[require("read")],
)
async def get_milestones(plan_year: PlanYearPath, session: SessionDep) -> MilestoneCurveOut:
    points, default = await schedules.milestone_points(session, plan_year)
    return MilestoneCurveOut(
        plan_year=plan_year,
        is_default=default,
        points=[MilestonePointOut(on_date=d, target_pct=round(f * 100, 4)) for d, f in points],
    )


@router.put(
    "/milestone-curves/{plan_year}",
    operation_id="setMilestoneCurve",
    summary="Replace the plan year's milestone curve (R17)",
    response_model=MilestoneCurveOut,
    responses=WRITE_ERRORS,
    dependencies=[require("allocation.write")],
)
async def set_milestones(
    plan_year: PlanYearPath, body: MilestoneCurveIn, request: Request, session: SessionDep
) -> MilestoneCurveOut:
    await schedules.set_milestones(session, plan_year, [(p.on_date, p.target_pct / 100) for p in body.points])
    note_write(request, "milestone_curve.set", "milestone_curve", plan_year)
    points = [MilestonePointOut(on_date=p.on_date, target_pct=p.target_pct) for p in body.points]
    return MilestoneCurveOut(plan_year=plan_year, is_default=False, points=points)


@router.post(
    "/projects/{project_id}/extra-needs",
    operation_id="registerExtraNeed",
    status_code=201,
    summary="Register an extra-need request (nhu cầu bổ sung vốn)",
    response_model=ExtraNeedOut,
    responses=WRITE_ERRORS,
    dependencies=[require("need.write")],
)
async def register_need(
    project_id: IdParam, body: ExtraNeedCreate, request: Request, session: SessionDep, principal: PrincipalDep,
    idem: IdempotencyDep,
) -> Response:
    if (replayed := await idem.replay()) is not None:
        return replayed
    project = await projects.get(session, project_id)
    authorize_project(principal, "need.write", project.investor_id)
    need = await schedules.register_need(
        session,
        project_id,
        body.plan_year,
        body.capital_source,
        body.budget_level,
        body.amount_vnd,
        body.justification,
        body.spend_by,
        today(),
        principal.key_id,
        body.budget_holder_id,
    )
    note_write(request, "extra_need.register", "extra_need", need.id)
    return idem.respond(201, ExtraNeedOut.model_validate(need))


@router.get(
    "/extra-needs",
    operation_id="listExtraNeeds",
    summary="Registered extra-need requests",
    response_model=Page[ExtraNeedOut],
    responses=READ_ERRORS,
    dependencies=[require("read")],
)
async def list_needs(
    session: SessionDep,
    project_id: IdParam | None = None,
    plan_year: PlanYearParam | None = None,
    page_size: PageSize = 50,
    page_token: str | None = None,
) -> Page[ExtraNeedOut]:
    filters = {"project_id": project_id, "plan_year": plan_year}
    after = after_id(page_token, filters)
    rows = await schedules.list_needs(
        session, project_id=project_id, plan_year=plan_year, after=after, limit=page_size + 1
    )
    rows, token = split_page(rows, page_size, filters)
    return Page[ExtraNeedOut](items=[ExtraNeedOut.model_validate(r) for r in rows], next_page_token=token)
