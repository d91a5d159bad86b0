"""Physical progress and milestones of a project (public or non-budget), point in time (R21)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.kernel.api.deps import PrincipalDep, SessionDep, authorize_project, json_created, note_write, require
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.schemas import IdParam, IsoDate
from app.programme import progress
from app.programme.schemas import (
    MilestoneCreate,
    MilestoneOut,
    MilestoneReportOut,
    ProgressCreate,
    ProgressOut,
    ProjectProgressOut,
)
from app.registry import projects

router = APIRouter(prefix="/api/v1/projects", tags=["progress"])
WRITE_ERRORS = problem_responses(401, 403, 404, 413, 422)


@router.get("/{project_id}/progress", operation_id="getProjectProgress",
            summary="Physical progress and milestones as known on a day", response_model=ProjectProgressOut,
            responses=problem_responses(400, 401, 403, 404, 422), dependencies=[require("read")])
async def get_progress(project_id: IdParam, session: SessionDep, as_of: Annotated[IsoDate | None, Query(
        description="Reports dated by this day (default: today)")] = None) -> ProjectProgressOut:
    await projects.get(session, project_id)
    day = as_of or today()
    reports = await progress.progress_reports(session, project_id, day)
    milestones = await progress.milestone_reports(session, project_id, day)
    latest = reports[-1] if reports else None
    return ProjectProgressOut(
        project_id=project_id, as_of=day, physical_pct=latest.physical_pct if latest else None,
        progress_reported_on=latest.reported_on if latest else None,
        milestones=[MilestoneOut.model_validate(m) for m in progress.milestone_states(milestones, day).values()],
        progress_reports=[ProgressOut.model_validate(r) for r in reports],
        milestone_reports=[MilestoneReportOut.model_validate(r) for r in milestones])


@router.post("/{project_id}/progress", operation_id="reportProgress",
             summary="Report physical progress (% of the works done) on a day", status_code=201,
             response_model=ProgressOut, responses=WRITE_ERRORS, dependencies=[require("progress.write")])
async def report_progress(project_id: IdParam, body: ProgressCreate, request: Request, session: SessionDep,
                          principal: PrincipalDep) -> Response:
    project = await projects.get(session, project_id)
    authorize_project(principal, "progress.write", project.investor_id)
    row = await progress.report_progress(session, project, body.model_dump(), today(), principal.key_id)
    note_write(request, "progress.report", "progress_report", row.id, body.model_dump(mode="json"))
    return json_created(request, ProgressOut.model_validate(row))


@router.post("/{project_id}/milestones", operation_id="reportMilestone",
             summary="Report a milestone's planned and/or actual date (start, completion, inauguration)",
             status_code=201, response_model=MilestoneReportOut, responses=WRITE_ERRORS,
             dependencies=[require("progress.write")])
async def report_milestone(project_id: IdParam, body: MilestoneCreate, request: Request, session: SessionDep,
                           principal: PrincipalDep) -> Response:
    project = await projects.get(session, project_id)
    authorize_project(principal, "progress.write", project.investor_id)
    row = await progress.report_milestone(session, project, body.model_dump(), today(), principal.key_id)
    note_write(request, "milestone.report", "milestone_report", row.id, body.model_dump(mode="json"))
    return json_created(request, MilestoneReportOut.model_validate(row))
