"""Watch-lists (danh mục theo dõi) as data: the list, its reporting duty and its members, point in time (R21)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from app.kernel.api.deps import PrincipalDep, SessionDep, json_created, note_write, require
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.schemas import IdParam, IsoDate, Page, PageSize, after_id, split_page
from app.models import Project, WatchList, WatchListChange
from app.programme import follow_up, watchlists
from app.programme.schemas import (
    MemberOut,
    MembershipChange,
    MembershipChangeOut,
    MembersOut,
    MilestoneOut,
    PersonRef,
    WatchListCreate,
    WatchListOut,
)

router = APIRouter(prefix="/api/v1/watch-lists", tags=["watch-lists"])
READ_ERRORS = problem_responses(400, 401, 403, 404, 422)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 413, 422)
AsOf = Annotated[IsoDate | None, Query(description="The day to read the list as it was (default: today)")]


async def _out(session, wl: WatchList, day) -> WatchListOut:
    members = await watchlists.members(session, wl.id, day)
    return WatchListOut.model_validate({**{c: getattr(wl, c) for c in WatchListOut.model_fields
                                           if c != "members_now"}, "members_now": len(members)})


@router.get("", operation_id="listWatchLists", summary="Watch-lists with their reporting duty",
            response_model=Page[WatchListOut], responses=READ_ERRORS, dependencies=[require("read")])
async def list_watch_lists(session: SessionDep, as_of: AsOf = None, page_size: PageSize = 50,
                           page_token: str | None = None) -> Page[WatchListOut]:
    after = after_id(page_token, {})
    rows = list((await session.scalars(select(WatchList).where(WatchList.id > after).order_by(WatchList.id)
                                       .limit(page_size + 1))).all())
    rows, token = split_page(rows, page_size, {})
    return Page[WatchListOut](items=[await _out(session, r, as_of or today()) for r in rows], next_page_token=token)


@router.post("", operation_id="createWatchList", summary="Set up a watch-list (a programme's appendix)",
             status_code=201, response_model=WatchListOut, responses=WRITE_ERRORS,
             dependencies=[require("watchlist.write")])
async def create_watch_list(body: WatchListCreate, request: Request, session: SessionDep,
                            principal: PrincipalDep) -> Response:
    wl = await watchlists.create(session, body.model_dump(), principal.key_id)
    note_write(request, "watch_list.create", "watch_list", wl.id)
    return json_created(request, await _out(session, wl, today()))


@router.get("/{watch_list_id}", operation_id="getWatchList", summary="Read a watch-list",
            response_model=WatchListOut, responses=READ_ERRORS, dependencies=[require("read")])
async def get_watch_list(watch_list_id: IdParam, session: SessionDep, as_of: AsOf = None) -> WatchListOut:
    return await _out(session, await watchlists.get(session, watch_list_id), as_of or today())


@router.get("/{watch_list_id}/members", operation_id="listWatchListMembers",
            summary="The list's members on a day, with progress, milestones and lead official as known then",
            response_model=MembersOut, responses=READ_ERRORS, dependencies=[require("read")])
async def list_members(watch_list_id: IdParam, session: SessionDep, as_of: AsOf = None) -> MembersOut:
    await watchlists.get(session, watch_list_id)
    day = as_of or today()
    members = await watchlists.members(session, watch_list_id, day)
    ids = [pid for pid, _ in members]
    projects = {p.id: p for p in await session.scalars(select(Project).where(Project.id.in_(ids)))} if ids else {}
    state = await follow_up.on(session, day, ids)
    items = []
    for pid, period in members:
        p, f = projects[pid], state[pid]
        items.append(MemberOut(
            project_id=pid, code=p.code, name=p.name, funding=p.funding, member_since=period.start,
            physical_pct=f.physical_pct, progress_reported_on=f.progress_reported_on,
            lead=PersonRef.model_validate(f.lead) if f.lead else None,
            milestones=[MilestoneOut.model_validate(m) for m in f.milestones.values()]))
    return MembersOut(watch_list_id=watch_list_id, as_of=day, items=items)


@router.get("/{watch_list_id}/changes", operation_id="listWatchListChanges",
            summary="The list's membership history (append-only joins and leaves)",
            response_model=Page[MembershipChangeOut], responses=READ_ERRORS, dependencies=[require("read")])
async def list_changes(watch_list_id: IdParam, session: SessionDep, project_id: IdParam | None = None,
                       page_size: PageSize = 50, page_token: str | None = None) -> Page[MembershipChangeOut]:
    await watchlists.get(session, watch_list_id)
    filters = {"watch_list_id": watch_list_id, "project_id": project_id}
    query = select(WatchListChange).where(WatchListChange.watch_list_id == watch_list_id,
                                          WatchListChange.id > after_id(page_token, filters))
    if project_id is not None:
        query = query.where(WatchListChange.project_id == project_id)
    rows = list((await session.scalars(query.order_by(WatchListChange.id).limit(page_size + 1))).all())
    rows, token = split_page(rows, page_size, filters)
    return Page[MembershipChangeOut](items=[MembershipChangeOut.model_validate(r) for r in rows],
                                     next_page_token=token)


@router.post("/{watch_list_id}/changes", operation_id="recordWatchListChange",
             summary="A project joins or leaves the list from a date", status_code=201,
             response_model=MembershipChangeOut, responses=WRITE_ERRORS, dependencies=[require("watchlist.write")])
async def record_change(watch_list_id: IdParam, body: MembershipChange, request: Request, session: SessionDep,
                        principal: PrincipalDep) -> Response:
    row = await watchlists.record_change(session, watch_list_id, body.model_dump(), principal.key_id)
    note_write(request, "watch_list.change", "watch_list_change", row.id, body.model_dump(mode="json"))
    return json_created(request, MembershipChangeOut.model_validate(row))
