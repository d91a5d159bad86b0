"""Projects, their capital-plan entries and balances."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy import select

from app.enums import BudgetLevel, CapitalSource, ProjectStatus
from app.kernel.api.deps import (
    IdempotencyDep,
    PrincipalDep,
    ReadSessionDep,
    SessionDep,
    json_created,
    note_write,
    require,
)
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.errors import PreconditionRequired
from app.kernel.schemas import IdParam, IsoDate, Page, PageSize, PlanYearParam, after_id, split_page
from app.ledger import posting, rates
from app.ledger.balances import PoolFigures, PoolKey, pool_figures, pool_key_of
from app.ledger.fold import AllocationInput
from app.ledger.schemas import AllocationCreate, AllocationOut, PoolBalanceOut, ProjectBalancesOut
from app.models import AllocationEntry, PoolBalance, Project
from app.programme import people, watchlists
from app.registry import investors, projects
from app.registry.schemas import (
    InvestorChangeCreate,
    ProjectCreate,
    ProjectInvestorOut,
    ProjectOut,
    ProjectUpdate,
)

router = APIRouter(prefix="/api/v1/projects", tags=["projects"])
READ_ERRORS = problem_responses(400, 401, 403, 404, 422)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 413, 422)


_DERIVED = ("watch_lists", "lead_person_id", "lead_official")


async def project_outs(session, rows: list[Project]) -> list[ProjectOut]:
    """Projects with their watch-lists and lead official as of today (R21)."""
    ids, day = [p.id for p in rows], today()
    lists = await watchlists.lists_on(session, day, ids)
    leads = await people.leads_on(session, day, ids)
    return [ProjectOut(**{c: getattr(p, c) for c in ProjectOut.model_fields if c not in _DERIVED},
                       watch_lists=list(lists.get(p.id, ())), lead_person_id=lead.id if (lead := leads.get(p.id))
                       else None, lead_official=people.label(lead) if lead else None) for p in rows]


async def project_out(session, project: Project) -> ProjectOut:
    [out] = await project_outs(session, [project])
    return out


@router.get("", operation_id="listProjects", summary="List projects", response_model=Page[ProjectOut],
            responses=READ_ERRORS, dependencies=[require("read")])
async def list_projects(
    session: ReadSessionDep,
    investor_id: IdParam | None = None,
    sector: str | None = None,
    location: str | None = None,
    working_group_id: IdParam | None = None,
    watch_list: Annotated[str | None, Query(max_length=40, description="Code of a watch-list: its members today")
                          ] = None,
    status: ProjectStatus | None = None,
    q: Annotated[str | None, Query(max_length=100, description="Search in code and name, ignoring case and "
                                   "diacritics: `tam dao` finds Tam Đảo")] = None,
    page_size: PageSize = 50,
    page_token: str | None = None,
) -> Page[ProjectOut]:
    f = projects.ProjectFilter(investor_id, sector, location, working_group_id, watch_list, status, q)
    filters = asdict(f)
    rows = await projects.list_page(session, f, after_id(page_token, filters), page_size + 1, today())
    rows, token = split_page(rows, page_size, filters)
    return Page[ProjectOut](items=await project_outs(session, rows), next_page_token=token)


# OpenAPI links: the generated clients and Schemathesis' stateful run follow project → allocation → disbursement.
PROJECT_LINKS = {
    "GetProject": {"operationId": "getProject", "parameters": {"project_id": "$response.body#/id"}},
    "CreateAllocation": {"operationId": "createAllocation", "parameters": {"project_id": "$response.body#/id"}},
    "CreateDisbursement": {"operationId": "createDisbursement", "parameters": {"project_id": "$response.body#/id"}},
    "GetProjectBalances": {"operationId": "getProjectBalances", "parameters": {"project_id": "$response.body#/id"}},
    "ListDisbursements": {"operationId": "listDisbursements", "parameters": {"project_id": "$response.body#/id"}},
}
ALLOCATION_LINKS = {
    "CreateDisbursement": {"operationId": "createDisbursement",
                           "parameters": {"project_id": "$response.body#/project_id"}},
    "GetProjectBalances": {"operationId": "getProjectBalances",
                           "parameters": {"project_id": "$response.body#/project_id"}},
}


@router.post("", operation_id="createProject", summary="Register a project", status_code=201,
             response_model=ProjectOut, dependencies=[require("project.write")],
             responses={**WRITE_ERRORS, 201: {"description": "The project, with its ETag", "links": PROJECT_LINKS}},
             openapi_extra={"x-money-post": False})  # TMĐT is a project attribute, not a ledger record
async def create_project(body: ProjectCreate, request: Request, session: SessionDep,
                         principal: PrincipalDep) -> Response:
    project = await projects.create(session, body.model_dump(), today(), principal.key_id)
    note_write(request, "project.create", "project", str(project.id))
    response = json_created(request, await project_out(session, project))
    response.headers["ETag"] = projects.etag(project)
    return response


@router.get("/{project_id}", operation_id="getProject", summary="Read a project", response_model=ProjectOut,
            responses=READ_ERRORS, dependencies=[require("read")])
async def get_project(project_id: IdParam, session: ReadSessionDep, response: Response) -> ProjectOut:
    project = await projects.get(session, project_id)
    response.headers["ETag"] = projects.etag(project)
    return await project_out(session, project)


@router.patch("/{project_id}", operation_id="updateProject", summary="Change a project (needs If-Match)",
              response_model=ProjectOut, responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
              dependencies=[require("project.write")])
async def update_project(
    project_id: IdParam, body: ProjectUpdate, request: Request, session: SessionDep, response: Response,
    principal: PrincipalDep,
    if_match: Annotated[str | None, Header(alias="If-Match", description="The ETag from your last read")] = None,
) -> ProjectOut:
    if if_match is None:
        raise PreconditionRequired("if_match_required", "Send If-Match with the project's ETag.")
    project = await projects.update(session, project_id, if_match, body.model_dump(exclude_unset=True), today(),
                                    principal.key_id)
    note_write(request, "project.update", "project", str(project.id), body.model_dump(mode="json",
                                                                                                exclude_unset=True))
    response.headers["ETag"] = projects.etag(project)
    return await project_out(session, project)


@router.get("/{project_id}/investors", operation_id="listProjectInvestors",
            summary="A project's investor history (who was its investor from when)",
            response_model=list[ProjectInvestorOut], responses=READ_ERRORS, dependencies=[require("read")])
async def list_project_investors(project_id: IdParam, session: SessionDep) -> list[ProjectInvestorOut]:
    return [ProjectInvestorOut.model_validate(e) for e in await investors.history(session, project_id)]


@router.post("/{project_id}/investors", operation_id="changeProjectInvestor",
             summary="Assign the project to another investor from a date (appended, never overwritten)",
             status_code=201, response_model=ProjectInvestorOut, dependencies=[require("project.write")],
             responses=WRITE_ERRORS, openapi_extra={"x-money-post": False})
async def change_project_investor(project_id: IdParam, body: InvestorChangeCreate, request: Request,
                                  session: SessionDep, principal: PrincipalDep) -> Response:
    entry = await investors.change(session, project_id, investor_id=body.investor_id,
                                   effective_from=body.effective_from, decision_ref=body.decision_ref,
                                   key_id=principal.key_id)
    note_write(request, "project.investor_change", "project", str(project_id), body.model_dump(mode="json"))
    return json_created(request, ProjectInvestorOut.model_validate(entry))


@router.post("/{project_id}/allocations", operation_id="createAllocation",
             summary="Record a capital-plan decision for a project", status_code=201, response_model=AllocationOut,
             responses={**WRITE_ERRORS, 201: {"description": "The recorded entry", "links": ALLOCATION_LINKS}},
             dependencies=[require("allocation.write")])
async def create_allocation(project_id: IdParam, body: AllocationCreate, request: Request, session: SessionDep,
                            principal: PrincipalDep, idem: IdempotencyDep) -> Response:
    if (replayed := await idem.replay()) is not None:
        return replayed
    # R1a: a year's new capital may bring a generated repayment of next-year advances after it (listed, in the feed)
    entry, *_ = await posting.post_allocations(
        session, [AllocationInput(project_id=project_id, **body.model_dump())], today=today(),
        key_id=principal.key_id)
    note_write(request, "allocation.create", "allocation_entry", str(entry.id))
    return idem.respond(201, AllocationOut.model_validate(entry))


@router.get("/{project_id}/allocations", operation_id="listAllocations", summary="A project's capital-plan entries",
            response_model=Page[AllocationOut], responses=READ_ERRORS, dependencies=[require("read")])
async def list_allocations(project_id: IdParam, session: ReadSessionDep, plan_year: PlanYearParam | None = None,
                           page_size: PageSize = 50, page_token: str | None = None) -> Page[AllocationOut]:
    await projects.get(session, project_id)
    filters = {"project_id": project_id, "plan_year": plan_year}
    after = after_id(page_token, filters)
    query = select(AllocationEntry).where(AllocationEntry.project_id == project_id, AllocationEntry.id > after)
    if plan_year is not None:
        query = query.where(AllocationEntry.plan_year == plan_year)
    rows = list((await session.scalars(query.order_by(AllocationEntry.id).limit(page_size + 1))).all())
    rows, token = split_page(rows, page_size, filters)
    return Page[AllocationOut](items=[AllocationOut.model_validate(r) for r in rows], next_page_token=token)


@router.get("/{project_id}/balances", operation_id="getProjectBalances",
            summary="Plan and disbursement per pool, now or as of a date", response_model=ProjectBalancesOut,
            responses=READ_ERRORS, dependencies=[require("read")])
async def get_balances(
    project_id: IdParam, session: SessionDep, plan_year: PlanYearParam | None = None,
    as_of: Annotated[IsoDate | None, Query(description="Count entries dated on or before this day (default: today)")
                     ] = None,
    known_on: Annotated[IsoDate | None, Query(description="Also ignore entries recorded after this day, to reproduce "
                                                       "a past report exactly")] = None,
) -> ProjectBalancesOut:
    await projects.get(session, project_id)
    day = as_of or today()
    figures: Mapping[PoolKey, PoolBalance | PoolFigures]
    if (as_of is None or as_of >= today()) and known_on is None:
        query = select(PoolBalance).where(PoolBalance.project_id == project_id)
        if plan_year is not None:
            query = query.where(PoolBalance.plan_year == plan_year)
        figures = {pool_key_of(row): row for row in await session.scalars(query)}
    else:
        figures = await pool_figures(session, plan_year=plan_year, project_ids=[project_id], as_of=day,
                                     known_on=known_on)
    pools = [_pool_out(key, fig) for key, fig in sorted(figures.items())]
    return ProjectBalancesOut(project_id=project_id, as_of=day, pools=pools)


def _pool_out(key: PoolKey, fig) -> PoolBalanceOut:
    return PoolBalanceOut(
        project_id=key.project_id, plan_year=key.plan_year, capital_source=CapitalSource(key.capital_source),
        budget_level=BudgetLevel(key.budget_level), budget_holder_id=key.budget_holder_id,
        plan_vnd=fig.plan_vnd, assigned_plan_vnd=fig.plan_vnd - fig.added_plan_vnd, added_plan_vnd=fig.added_plan_vnd,
        extended_vnd=fig.extended_vnd,
        disbursed_vnd=fig.disbursed_vnd, advanced_vnd=fig.advanced_vnd,
        advance_recovered_vnd=fig.advance_recovered_vnd, paid_vnd=fig.paid_vnd,
        remaining_vnd=fig.plan_vnd - fig.disbursed_vnd,
        rate_pct=rates.rate_of_province_plan_pct(fig.disbursed_vnd, fig.plan_vnd),
        rate_of_assigned_plan_pct=rates.rate_of_assigned_plan_pct(fig.disbursed_vnd, fig.plan_vnd, fig.added_plan_vnd))
