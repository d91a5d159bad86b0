"""Organisations, working groups and API keys."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from app.kernel.api.deps import PrincipalDep, SessionDep, json_created, note_write, require
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.errors import NotFound
from app.kernel.schemas import IdParam, Page, PageSize, after_id, split_page
from app.models import ApiKey, Organisation, WorkingGroup
from app.programme import people
from app.registry import organisations
from app.registry.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    OrganisationCreate,
    OrganisationDetail,
    OrganisationOut,
    SuccessionCreate,
    WorkingGroupOut,
)

router = APIRouter(prefix="/api/v1", tags=["organisations"])
READ_ERRORS = problem_responses(400, 401, 403, 422)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 422)


@router.get("/organisations", operation_id="listOrganisations", summary="List organisations",
            response_model=Page[OrganisationOut], responses=READ_ERRORS, dependencies=[require("read")])
async def list_organisations(session: SessionDep, page_size: PageSize = 50,
                             page_token: str | None = None) -> Page[OrganisationOut]:
    after = after_id(page_token, {})
    rows = list((await session.scalars(
        select(Organisation).where(Organisation.id > after).order_by(Organisation.id).limit(page_size + 1))).all())
    rows, token = split_page(rows, page_size, {})
    return Page[OrganisationOut](items=[OrganisationOut.model_validate(r) for r in rows],
                                 next_page_token=token)


@router.post("/organisations", operation_id="createOrganisation", summary="Register an organisation",
             status_code=201, response_model=OrganisationOut, responses=WRITE_ERRORS,
             dependencies=[require("organisation.write")])
async def create_organisation(body: OrganisationCreate, request: Request, session: SessionDep) -> Response:
    organisation = await organisations.create_organisation(session, **body.model_dump())
    note_write(request, "organisation.create", "organisation", organisation.id)
    return json_created(request, OrganisationOut.model_validate(organisation))


@router.get("/organisations/{organisation_id}", operation_id="getOrganisation",
            summary="Read an organisation with its predecessors and successors", response_model=OrganisationDetail,
            responses=problem_responses(401, 403, 404, 422), dependencies=[require("read")])
async def get_organisation(organisation_id: IdParam, session: SessionDep) -> OrganisationDetail:
    organisation = await session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("organisation_not_found", f"Organisation {organisation_id} does not exist.")
    predecessors, successors = await organisations.links(session, organisation_id)
    return OrganisationDetail(**OrganisationOut.model_validate(organisation).model_dump(),
                              predecessor_ids=predecessors, successor_ids=successors)


@router.post("/organisations/{organisation_id}/succession", operation_id="recordSuccession",
             summary="Record that another organisation took this one over", status_code=201,
             response_model=OrganisationDetail, responses=WRITE_ERRORS, dependencies=[require("organisation.write")])
async def record_succession(organisation_id: IdParam, body: SuccessionCreate, request: Request,
                            session: SessionDep) -> Response:
    await organisations.record_succession(session, organisation_id, **body.model_dump())
    note_write(request, "organisation.succession", "organisation", organisation_id, body.model_dump(mode="json"))
    return json_created(request, await get_organisation(organisation_id, session))


@router.get("/working-groups", operation_id="listWorkingGroups", summary="List the provincial working groups",
            response_model=Page[WorkingGroupOut], responses=READ_ERRORS, dependencies=[require("read")])
async def list_working_groups(session: SessionDep, page_size: PageSize = 50,
                              page_token: str | None = None) -> Page[WorkingGroupOut]:
    after = after_id(page_token, {})
    rows = list((await session.scalars(
        select(WorkingGroup).where(WorkingGroup.id > after).order_by(WorkingGroup.id).limit(page_size + 1))).all())
    rows, token = split_page(rows, page_size, {})
    members = await people.group_members(session, today(), [r.id for r in rows])
    leaders = {gid: next((p for p, role, _ in m if role == "leader"), None) for gid, m in members.items()}
    return Page[WorkingGroupOut](items=[WorkingGroupOut(
        id=r.id, code=r.code, name=r.name, leader_person_id=leader.id if (leader := leaders.get(r.id)) else None,
        leader_name=people.label(leader) if leader else None) for r in rows], next_page_token=token)


@router.post("/api-keys", operation_id="createApiKey", summary="Issue an API key (shown once)", status_code=201,
             response_model=ApiKeyCreated, responses=WRITE_ERRORS, dependencies=[require("apikey.manage")])
async def create_api_key(body: ApiKeyCreate, request: Request, session: SessionDep,
                         principal: PrincipalDep) -> Response:
    key, secret = await organisations.create_api_key(session, **body.model_dump(), issued_by_key_id=principal.key_id)
    note_write(request, "apikey.create", "api_key", key.id, {"role": key.role.value, "holder": key.holder})
    return json_created(request, ApiKeyCreated(**ApiKeyOut.model_validate(key).model_dump(), key=secret))


@router.get("/api-keys", operation_id="listApiKeys", summary="List API keys (never their secrets)",
            response_model=Page[ApiKeyOut], responses=READ_ERRORS, dependencies=[require("apikey.manage")])
async def list_api_keys(session: SessionDep, page_size: PageSize = 50,
                        page_token: str | None = None) -> Page[ApiKeyOut]:
    after = after_id(page_token, {})
    rows = list((await session.scalars(
        select(ApiKey).where(ApiKey.id > after).order_by(ApiKey.id).limit(page_size + 1))).all())
    rows, token = split_page(rows, page_size, {})
    return Page[ApiKeyOut](items=[ApiKeyOut.model_validate(r) for r in rows], next_page_token=token)


@router.post("/api-keys/{key_id}/revoke", operation_id="revokeApiKey",
             summary="Revoke an API key (at once in every worker; never the last active admin key)",
             response_model=ApiKeyOut, responses=WRITE_ERRORS, dependencies=[require("apikey.manage")])
async def revoke_api_key(key_id: IdParam, request: Request, session: SessionDep) -> ApiKeyOut:
    key = await organisations.revoke_api_key(session, key_id)
    note_write(request, "apikey.revoke", "api_key", key.id)
    return ApiKeyOut.model_validate(key)
