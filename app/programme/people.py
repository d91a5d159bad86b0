"""People, the lead official of a project and the members of working groups (Tổ công tác), point in time (R21).

A project's lead is an append-only list of assignments, each effective from a date; a working group's members are
join/leave changes with a role (`app.programme.timeline`), like a watch-list's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kernel import feed as events
from app.kernel.clock import utcnow
from app.kernel.db import lock_row
from app.kernel.errors import NotFound, RuleViolation, UnknownReference
from app.models import Organisation, Person, Project, ProjectLead, WorkingGroup, WorkingGroupChange
from app.programme import timeline
from app.programme.timeline import Change


async def get(session: AsyncSession, person_id: int) -> Person:
    found = await session.get(Person, person_id)
    if found is None:
        raise NotFound("person_not_found", f"Person {person_id} does not exist.")
    return found


async def _person_ref(session: AsyncSession, person_id: int) -> Person:
    found = await session.get(Person, person_id)
    if found is None:
        raise UnknownReference("reference_not_found", f"Person {person_id} does not exist.", pointer="/person_id",
                               resource="person")
    return found


async def create(session: AsyncSession, fields: dict[str, Any]) -> Person:
    org = fields.get("organisation_id")
    if org is not None and await session.get(Organisation, org) is None:
        raise UnknownReference("reference_not_found", f"Organisation {org} does not exist.",
                               pointer="/organisation_id", resource="organisation")
    person = Person(**fields, created_at=utcnow())
    session.add(person)
    await session.flush()
    events.emit(session, "person.created", "person", person.id, {"id": person.id, "full_name": person.full_name})
    return person


def label(person: Person) -> str:
    """How reports name a person: title and name (chức vụ, họ tên)."""
    return f"{person.title} {person.full_name}" if person.title else person.full_name


async def assign_lead(session: AsyncSession, project_id: int, fields: dict[str, Any], key_id: int | None
                      ) -> ProjectLead:
    """A project's lead official from a date (R21: forward only, so a past report keeps the lead of its day)."""
    project = await lock_row(session, select(Project).where(Project.id == project_id))
    if project is None:
        raise NotFound("project_not_found", f"Project {project_id} does not exist.")
    await _person_ref(session, fields["person_id"])
    latest = await session.scalar(select(ProjectLead.effective_on).where(ProjectLead.project_id == project_id)
                                  .order_by(ProjectLead.effective_on.desc()).limit(1))
    if latest is not None and fields["effective_on"] < latest:
        raise RuleViolation("change_before_latest", f"R21: {project.code} has a lead assignment effective {latest}; "
                            "a new one is effective on or after it.", pointer="/effective_on",
                            earliest=latest.isoformat())
    lead = ProjectLead(project_id=project_id, person_id=fields["person_id"], effective_on=fields["effective_on"],
                       decision_ref=fields.get("decision_ref"), recorded_at=utcnow(), key_id=key_id)
    session.add(lead)
    await session.flush()
    events.emit(session, "project.lead_assigned", "project", project_id,
                {"id": lead.id, "project_id": project_id, "person_id": lead.person_id,
                 "effective_on": lead.effective_on.isoformat()}, project_id=project_id)
    return lead


async def lead_history(session: AsyncSession, project_id: int) -> list[ProjectLead]:
    return list((await session.scalars(select(ProjectLead).where(ProjectLead.project_id == project_id)
                                       .order_by(ProjectLead.effective_on, ProjectLead.id))).all())


async def leads_on(session: AsyncSession, day: date, project_ids: Sequence[int] | None = None) -> dict[int, Person]:
    """Each project's lead official on `day` (projects without one are absent)."""
    query = select(ProjectLead.project_id, ProjectLead.effective_on, ProjectLead.id, ProjectLead.person_id).where(
        ProjectLead.effective_on <= day)
    if project_ids is not None:
        if not project_ids:
            return {}
        query = query.where(ProjectLead.project_id.in_(sorted(set(project_ids))))
    by_project: dict[int, list[tuple[date, int, int]]] = defaultdict(list)
    for pid, on, lead_id, person_id in await session.execute(query):
        by_project[pid].append((on, lead_id, person_id))
    chosen = {pid: timeline.latest_by(items, day) for pid, items in by_project.items()}
    people = await people_by_id(session, {p for p in chosen.values() if p is not None})
    return {pid: people[person_id] for pid, person_id in chosen.items() if person_id is not None}


async def people_by_id(session: AsyncSession, ids: set[int]) -> dict[int, Person]:
    if not ids:
        return {}
    return {p.id: p for p in await session.scalars(select(Person).where(Person.id.in_(sorted(ids))))}


async def get_group(session: AsyncSession, group_id: int) -> WorkingGroup:
    group = await session.get(WorkingGroup, group_id)
    if group is None:
        raise NotFound("working_group_not_found", f"Working group {group_id} does not exist.")
    return group


async def group_change(session: AsyncSession, group_id: int, fields: dict[str, Any], key_id: int | None
                       ) -> WorkingGroupChange:
    """A person joins or leaves a working group with a role (R21: forward only)."""
    await get_group(session, group_id)
    group = await lock_row(session, select(WorkingGroup).where(WorkingGroup.id == group_id))  # serialises changes
    person = await _person_ref(session, fields["person_id"])
    rows = list(await session.scalars(select(WorkingGroupChange).where(
        WorkingGroupChange.working_group_id == group_id, WorkingGroupChange.person_id == person.id)))
    history = [Change(r.id, r.effective_on, r.action == "join") for r in rows]
    joins = fields["action"] == "join"
    if (why := timeline.refusal(history, Change(2**62, fields["effective_on"], joins))) is not None:
        raise timeline.refused(why, person.full_name, group.code, max((c.effective_on for c in history), default=None))
    role = fields.get("role") or next((r.role for r in sorted(rows, key=lambda r: (r.effective_on, r.id),
                                                               reverse=True)), "member")
    change = WorkingGroupChange(working_group_id=group_id, person_id=person.id, action=fields["action"],
                                role=getattr(role, "value", role), effective_on=fields["effective_on"],
                                recorded_at=utcnow(), key_id=key_id)
    session.add(change)
    await session.flush()
    events.emit(session, "working_group.membership_changed", "working_group", group_id,
                {"id": change.id, "working_group_id": group_id, "person_id": person.id, "action": change.action,
                 "role": change.role, "effective_on": change.effective_on.isoformat()})
    return change


async def group_members(session: AsyncSession, day: date, group_ids: Sequence[int] | None = None
                        ) -> dict[int, list[tuple[Person, str, date]]]:
    """Members of each working group on `day`: (person, role, member since), leaders first."""
    query = select(WorkingGroupChange)
    if group_ids is not None:
        query = query.where(WorkingGroupChange.working_group_id.in_(sorted(set(group_ids))))
    pairs: dict[tuple[int, int], list[WorkingGroupChange]] = defaultdict(list)
    for r in await session.scalars(query):
        pairs[(r.working_group_id, r.person_id)].append(r)
    current: dict[int, list[tuple[int, str, date]]] = defaultdict(list)
    for (gid, pid), rows in pairs.items():
        history = [Change(r.id, r.effective_on, r.action == "join") for r in rows]
        if timeline.member_on(history, day):
            last_join = max((r for r in rows if r.action == "join" and r.effective_on <= day),
                            key=lambda r: (r.effective_on, r.id))
            [period] = [p for p in timeline.periods(history) if p.start <= day and (p.end is None or day < p.end)]
            current[gid].append((pid, last_join.role, period.start))
    people = await people_by_id(session, {pid for members in current.values() for pid, _, _ in members})
    order = {"leader": 0, "deputy": 1, "member": 2}
    return {gid: sorted(((people[pid], role, since) for pid, role, since in members),
                        key=lambda m: (order[m[1]], m[0].full_name)) for gid, members in current.items()}
