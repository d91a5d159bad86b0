"""Watch-lists (danh mục theo dõi) and their members, point in time (docs/rules.md, R21).

A list says which programme or decision set it, which projects may join (public or non-budget) and its reporting
duty. Membership is an append-only history of join/leave changes (`app.programme.timeline`): planners append,
nothing is edited, and a past date reads the list as it was.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kernel import feed as events
from app.kernel.clock import utcnow
from app.kernel.db import lock_row
from app.kernel.errors import Conflict, NotFound, RuleViolation, UnknownReference
from app.models import Organisation, Project, WatchList, WatchListChange
from app.programme import timeline
from app.programme.timeline import Change


async def get(session: AsyncSession, watch_list_id: int) -> WatchList:
    found = await session.get(WatchList, watch_list_id)
    if found is None:
        raise NotFound("watch_list_not_found", f"Watch-list {watch_list_id} does not exist.")
    return found


async def all_lists(session: AsyncSession) -> list[WatchList]:
    return list((await session.scalars(select(WatchList).order_by(WatchList.code))).all())


async def create(session: AsyncSession, fields: dict[str, Any], key_id: int | None) -> WatchList:
    if await session.scalar(select(WatchList.id).where(WatchList.code == fields["code"])) is not None:
        raise Conflict("watch_list_code_taken", f"A watch-list with code {fields['code']!r} exists.", pointer="/code")
    org = fields.get("report_to_organisation_id")
    if org is not None and await session.get(Organisation, org) is None:
        raise UnknownReference("reference_not_found", f"Organisation {org} does not exist.",
                               pointer="/report_to_organisation_id", resource="organisation")
    wl = WatchList(**{k: v.value if hasattr(v, "value") else v for k, v in fields.items()},
                   created_at=utcnow(), created_by_key_id=key_id)
    session.add(wl)
    await session.flush()
    events.emit(session, "watch_list.created", "watch_list", wl.id, {"id": wl.id, "code": wl.code})
    return wl


def _change(row: WatchListChange) -> Change:
    return Change(row.id, row.effective_on, row.action == "join")


async def record_change(session: AsyncSession, watch_list_id: int, fields: dict[str, Any],
                        key_id: int | None) -> WatchListChange:
    """Append a join or leave (R21): the project must be of the list's kind, and the history only moves forward."""
    wl = await lock_row(session, select(WatchList).where(WatchList.id == watch_list_id))  # serialises its changes
    if wl is None:
        raise NotFound("watch_list_not_found", f"Watch-list {watch_list_id} does not exist.")
    project = await session.get(Project, fields["project_id"])
    if project is None:
        raise UnknownReference("reference_not_found", f"Project {fields['project_id']} does not exist.",
                               pointer="/project_id", resource="project")
    joins = fields["action"] == "join"
    if joins and wl.project_funding and project.funding.value != wl.project_funding:
        raise RuleViolation("watch_list_funding_mismatch", f"R21: {wl.code} follows {wl.project_funding} projects; "
                            f"{project.code} is {project.funding.value}.", pointer="/project_id",
                            allowed=[wl.project_funding])
    rows = await session.scalars(select(WatchListChange).where(
        WatchListChange.watch_list_id == wl.id, WatchListChange.project_id == project.id))
    history = [_change(r) for r in rows]
    new = Change(2**62, fields["effective_on"], joins)
    if (why := timeline.refusal(history, new)) is not None:
        latest = max((c.effective_on for c in history), default=None)
        raise timeline.refused(why, project.code, wl.code, latest)
    row = WatchListChange(watch_list_id=wl.id, project_id=project.id, action=fields["action"],
                          effective_on=fields["effective_on"], decision_ref=fields.get("decision_ref"),
                          note=fields.get("note"), recorded_at=utcnow(), key_id=key_id)
    session.add(row)
    await session.flush()
    events.emit(session, "watch_list.membership_changed", "watch_list", wl.id,
                {"id": row.id, "watch_list_id": wl.id, "code": wl.code, "project_id": project.id,
                 "action": row.action, "effective_on": row.effective_on.isoformat()}, project_id=project.id)
    return row


async def changes(session: AsyncSession, watch_list_id: int, project_id: int | None = None) -> list[WatchListChange]:
    query = select(WatchListChange).where(WatchListChange.watch_list_id == watch_list_id)
    if project_id is not None:
        query = query.where(WatchListChange.project_id == project_id)
    return list((await session.scalars(query.order_by(WatchListChange.effective_on, WatchListChange.id))).all())


def _by_pair(rows: Iterable[WatchListChange]) -> dict[tuple[int, int], list[Change]]:
    out: dict[tuple[int, int], list[Change]] = defaultdict(list)
    for r in rows:
        out[(r.watch_list_id, r.project_id)].append(_change(r))
    return out


async def members(session: AsyncSession, watch_list_id: int, day: date) -> list[tuple[int, timeline.Period]]:
    """(project id, the period it is in) for each member on `day`, by project id."""
    out = []
    for (_, pid), history in sorted(_by_pair(await changes(session, watch_list_id)).items()):
        if timeline.member_on(history, day):
            [period] = [p for p in timeline.periods(history) if p.start <= day and (p.end is None or day < p.end)]
            out.append((pid, period))
    return out


async def lists_on(session: AsyncSession, day: date, project_ids: Sequence[int] | None = None
                   ) -> dict[int, tuple[str, ...]]:
    """Each project's watch-list codes on `day` (projects on none are absent)."""
    query = select(WatchListChange)
    if project_ids is not None:
        if not project_ids:
            return {}
        query = query.where(WatchListChange.project_id.in_(sorted(set(project_ids))))
    codes = dict((await session.execute(select(WatchList.id, WatchList.code))).all())
    out: dict[int, list[str]] = defaultdict(list)
    for (wl, pid), history in _by_pair(await session.scalars(query)).items():
        if timeline.member_on(history, day):
            out[pid].append(codes[wl])
    return {pid: tuple(sorted(c)) for pid, c in out.items()}


async def set_project_lists(session: AsyncSession, project: Project, codes: Iterable[str], day: date,
                            key_id: int | None) -> None:
    """The project's `watch_lists` field (kept for older clients): joins and leaves effective `day`."""
    wanted = set(codes)
    known = {wl.code: wl for wl in await all_lists(session)}
    if unknown := sorted(wanted - set(known)):
        raise UnknownReference("reference_not_found", f"No watch-list with code {unknown[0]!r}.",
                               pointer="/watch_lists", resource="watch_list", allowed=sorted(known))
    current = set((await lists_on(session, day, [project.id])).get(project.id, ()))
    for code in sorted(wanted ^ current):
        action = "join" if code in wanted else "leave"
        await record_change(session, known[code].id, {"project_id": project.id, "action": action,
                                                      "effective_on": day}, key_id)
