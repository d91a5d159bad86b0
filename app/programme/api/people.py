"""People (lead officials, working-group members), project leads and working-group members, point in time (R21)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from app.enums import GroupRole
from app.kernel.api.deps import PrincipalDep, SessionDep, json_created, note_write, require
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.schemas import IdParam, IsoDate, Page, PageSize, after_id, split_page
from app.models import Person
from app.programme import people
from app.programme.schemas import (
    GroupMemberChange,
    GroupMemberChangeOut,
    GroupMemberOut,
    GroupMembersOut,
    LeadAssign,
    LeadOut,
    LeadsOut,
    PersonCreate,
    PersonOut,
    PersonRef,
)
from app.registry import projects

router = APIRouter(prefix="/api/v1", tags=["people"])
READ_ERRORS = problem_responses(400, 401, 403, 404, 422)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 413, 422)
AsOf = Annotated[IsoDate | None, Query(description="The day to read (default: today)")]


@router.get("/people", operation_id="listPeople", summary="People: lead officials and working-group members",
            response_model=Page[PersonOut], responses=READ_ERRORS, dependencies=[require("read")])
async def list_people(session: SessionDep, page_size: PageSize = 50,
                      page_token: str | None = None) -> Page[PersonOut]:
    after = after_id(page_token, {})
    rows = list((await session.scalars(select(Person).where(Person.id > after).order_by(Person.id)
                                       .limit(page_size + 1))).all())
    rows, token = split_page(rows, page_size, {})
    return Page[PersonOut](items=[PersonOut.model_validate(r) for r in rows], next_page_token=token)


@router.post("/people", operation_id="createPerson", summary="Register a person (name, title, organisation)",
             status_code=201, response_model=PersonOut, responses=WRITE_ERRORS, dependencies=[require("people.write")])
async def create_person(body: PersonCreate, request: Request, session: SessionDep) -> Response:
    person = await people.create(session, body.model_dump())
    note_write(request, "person.create", "person", person.id)
    return json_created(request, PersonOut.model_validate(person))


@router.get("/people/{person_id}", operation_id="getPerson", summary="Read a person", response_model=PersonOut,
            responses=READ_ERRORS, dependencies=[require("read")])
async def get_person(person_id: IdParam, session: SessionDep) -> PersonOut:
    return PersonOut.model_validate(await people.get(session, person_id))


def _lead_out(lead, person) -> LeadOut:
    return LeadOut(id=lead.id, project_id=lead.project_id, person_id=lead.person_id, effective_on=lead.effective_on,
                   decision_ref=lead.decision_ref, recorded_at=lead.recorded_at,
                   person=PersonRef.model_validate(person))


@router.get("/projects/{project_id}/leads", operation_id="listProjectLeads",
            summary="A project's lead officials over time, and the one on as_of", response_model=LeadsOut,
            responses=READ_ERRORS, dependencies=[require("read")])
async def list_leads(project_id: IdParam, session: SessionDep, as_of: AsOf = None) -> LeadsOut:
    await projects.get(session, project_id)
    day = as_of or today()
    history = await people.lead_history(session, project_id)
    who = await people.people_by_id(session, {h.person_id for h in history})
    current = (await people.leads_on(session, day, [project_id])).get(project_id)
    return LeadsOut(project_id=project_id, as_of=day, lead=PersonRef.model_validate(current) if current else None,
                    items=[_lead_out(h, who[h.person_id]) for h in history])


@router.post("/projects/{project_id}/leads", operation_id="assignProjectLead",
             summary="Name a project's lead official from a date", status_code=201, response_model=LeadOut,
             responses=WRITE_ERRORS, dependencies=[require("project.write")])
async def assign_lead(project_id: IdParam, body: LeadAssign, request: Request, session: SessionDep,
                      principal: PrincipalDep) -> Response:
    lead = await people.assign_lead(session, project_id, body.model_dump(), principal.key_id)
    note_write(request, "project.lead", "project_lead", lead.id, body.model_dump(mode="json"))
    return json_created(request, _lead_out(lead, await people.get(session, lead.person_id)))


@router.get("/working-groups/{working_group_id}/members", operation_id="listWorkingGroupMembers",
            summary="A working group's members (Tổ công tác) on a day", response_model=GroupMembersOut,
            responses=READ_ERRORS, dependencies=[require("read")])
async def list_group_members(working_group_id: IdParam, session: SessionDep, as_of: AsOf = None) -> GroupMembersOut:
    await people.get_group(session, working_group_id)
    day = as_of or today()
    members = (await people.group_members(session, day, [working_group_id])).get(working_group_id, [])
    return GroupMembersOut(working_group_id=working_group_id, as_of=day, items=[
        GroupMemberOut(person=PersonRef.model_validate(p), role=GroupRole(role), member_since=since)
        for p, role, since in members])


@router.post("/working-groups/{working_group_id}/members", operation_id="recordWorkingGroupChange",
             summary="A person joins or leaves a working group from a date", status_code=201,
             response_model=GroupMemberChangeOut, responses=WRITE_ERRORS, dependencies=[require("people.write")])
async def record_group_change(working_group_id: IdParam, body: GroupMemberChange, request: Request,
                              session: SessionDep, principal: PrincipalDep) -> Response:
    change = await people.group_change(session, working_group_id, body.model_dump(), principal.key_id)
    note_write(request, "working_group.change", "working_group_change", change.id, body.model_dump(mode="json"))
    return json_created(request, GroupMemberChangeOut.model_validate(change))
