"""Obstacles (khó khăn, vướng mắc): per project, with history; overdue per working group."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import Field

from app.kernel.api.deps import PrincipalDep, SessionDep, authorize_project, json_created, note_write, require
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.errors import PreconditionRequired
from app.kernel.schemas import Id, IdParam, IsoDate, Page, PageSize, Schema, after_id, split_page
from app.monitoring import obstacles
from app.monitoring.obstacles import ObstacleCategory, ObstacleStatus
from app.registry import projects

router = APIRouter(prefix="/api/v1", tags=["obstacles"])
READ_ERRORS = problem_responses(400, 401, 403, 404, 422)


class ObstacleCreate(Schema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "category": "site_clearance",
                    "title": "Vướng GPMB 12 hộ dân",
                    "responsible_organisation_id": 2,
                    "working_group_id": 1,
                    "deadline": "2024-11-15",
                }
            ]
        }
    }

    category: ObstacleCategory = Field(
        description="site_clearance (GPMB), fill_earth_dump_sites (đất đắp, bãi "
        "thải), procedures (thủ tục), capital, contractor_capacity, other"
    )
    title: str = Field(min_length=1, max_length=500)
    description: str | None = Field(None, max_length=4000)
    responsible_organisation_id: Id | None = Field(None, description="Organisation responsible for resolving it")
    working_group_id: Id | None = Field(None, description="Working group (Tổ công tác) chasing it")
    deadline: IsoDate | None = None
    status: ObstacleStatus = ObstacleStatus.open
    recommendation: str | None = Field(None, max_length=2000, description="Recommendation (kiến nghị)")


class ObstacleUpdate(Schema):
    category: ObstacleCategory | None = None
    title: str | None = Field(None, min_length=1, max_length=500)
    description: str | None = Field(None, max_length=4000)
    responsible_organisation_id: Id | None = None
    working_group_id: Id | None = None
    deadline: IsoDate | None = None
    status: ObstacleStatus | None = None
    recommendation: str | None = Field(None, max_length=2000)


class ObstacleChangeOut(Schema):
    changed_on: date
    changed_at: datetime
    key_id: int | None
    changes: dict[str, list[Any]] = Field(description="field → [before, after]")


class ObstacleOut(Schema):
    id: int
    project_id: int
    category: str
    title: str
    description: str | None
    responsible_organisation_id: int | None
    working_group_id: int | None
    deadline: date | None
    status: str
    recommendation: str | None
    opened_on: date
    resolved_on: date | None
    version: int
    history: list[ObstacleChangeOut] | None = None


class OverdueObstacle(Schema):
    id: int
    project_id: int
    category: str
    title: str
    deadline: date
    days_overdue: int
    status: str


class OverdueGroup(Schema):
    working_group_id: int | None
    name: str | None
    overdue_count: int
    obstacles: list[OverdueObstacle]


class OverdueOut(Schema):
    as_of: date
    groups: list[OverdueGroup]


@router.post(
    "/projects/{project_id}/obstacles",
    operation_id="createObstacle",
    status_code=201,
    summary="Record an obstacle of a project",
    response_model=ObstacleOut,
    responses=problem_responses(401, 403, 404, 413, 422),
    dependencies=[require("obstacle.write")],
)
async def create_obstacle(
    project_id: IdParam, body: ObstacleCreate, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    project = await projects.get(session, project_id)
    authorize_project(principal, "obstacle.write", project.investor_id)
    o = await obstacles.create(session, project_id, body.model_dump(), today(), principal.key_id)
    note_write(request, "obstacle.create", "obstacle", o.id)
    response = json_created(request, ObstacleOut.model_validate(o))
    response.headers["ETag"] = obstacles.etag(o)
    return response


@router.get(
    "/obstacles",
    operation_id="listObstacles",
    summary="List obstacles (filters: project, status, group)",
    response_model=Page[ObstacleOut],
    responses=READ_ERRORS,
    dependencies=[require("read")],
)
async def list_obstacles(
    session: SessionDep,
    project_id: IdParam | None = None,
    status: ObstacleStatus | None = None,
    working_group_id: IdParam | None = None,
    overdue_on: Annotated[IsoDate | None, Query(description="Only unresolved past deadline")] = None,
    page_size: PageSize = 50,
    page_token: str | None = None,
) -> Page[ObstacleOut]:
    filters = {
        "project_id": project_id,
        "status": status,
        "working_group_id": working_group_id,
        "overdue_on": overdue_on,
    }
    after = after_id(page_token, filters)
    rows = await obstacles.list_page(
        session,
        project_id=project_id,
        status=status.value if status else None,
        working_group_id=working_group_id,
        overdue_on=overdue_on,
        after=after,
        limit=page_size + 1,
    )
    rows, token = split_page(rows, page_size, filters)
    return Page[ObstacleOut](items=[ObstacleOut.model_validate(o) for o in rows], next_page_token=token)


@router.get(
    "/obstacles/overdue",
    operation_id="listOverdueObstaclesByWorkingGroup",
    summary="Unresolved obstacles past their deadline, per working group",
    response_model=OverdueOut,
    responses=READ_ERRORS,
    dependencies=[require("read")],
)
async def overdue(
    session: SessionDep, as_of: Annotated[IsoDate | None, Query(description="Default: today")] = None
) -> OverdueOut:
    day = as_of or today()
    groups = await obstacles.overdue_by_working_group(session, day)
    return OverdueOut(
        as_of=day,
        groups=[
            OverdueGroup(
                working_group_id=g["working_group_id"],
                name=g["name"],
                overdue_count=g["overdue_count"],
                obstacles=[
                    OverdueObstacle(
                        id=o.id,
                        project_id=o.project_id,
                        category=o.category,
                        title=o.title,
                        deadline=o.deadline,
                        days_overdue=days,
                        status=o.status,
                    )
                    for o, days in g["obstacles"]
                ],
            )
            for g in groups
        ],
    )


@router.get(
    "/obstacles/{obstacle_id:int}",  # :int so that /obstacles/overdue is never read as an id (405, not 422)
    operation_id="getObstacle",
    summary="Read an obstacle with its history",
    response_model=ObstacleOut,
    responses=READ_ERRORS,
    dependencies=[require("read")],
)
async def get_obstacle(obstacle_id: IdParam, session: SessionDep, response: Response) -> ObstacleOut:
    o = await obstacles.get(session, obstacle_id)
    response.headers["ETag"] = obstacles.etag(o)
    out = ObstacleOut.model_validate(o)
    out.history = [ObstacleChangeOut.model_validate(c) for c in await obstacles.history(session, o.id)]
    return out


@router.patch(
    "/obstacles/{obstacle_id:int}",
    operation_id="updateObstacle",
    summary="Change an obstacle (status, deadline…; needs If-Match); the change joins its history",
    response_model=ObstacleOut,
    responses=problem_responses(401, 403, 404, 412, 422, 428),
    dependencies=[require("obstacle.write")],
)
async def update_obstacle(
    obstacle_id: IdParam,
    body: ObstacleUpdate,
    request: Request,
    session: SessionDep,
    response: Response,
    principal: PrincipalDep,
    if_match: Annotated[str | None, Header(alias="If-Match", description="The obstacle's ETag")] = None,
) -> ObstacleOut:
    o = await obstacles.get(session, obstacle_id)
    project = await projects.get(session, o.project_id)
    authorize_project(principal, "obstacle.write", project.investor_id)
    if if_match is None:
        raise PreconditionRequired("if_match_required", "Send If-Match with the obstacle's ETag.")
    o = await obstacles.update(session, o, if_match, body.model_dump(exclude_unset=True), today(), principal.key_id)
    note_write(request, "obstacle.update", "obstacle", o.id, body.model_dump(mode="json", exclude_unset=True))
    response.headers["ETag"] = obstacles.etag(o)
    return ObstacleOut.model_validate(o)
