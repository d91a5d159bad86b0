"""A project's investor over time (chủ đầu tư theo thời gian; DOMAIN.md §5, docs/rules.md "Organisations change").

Every project has an investor history: from which date which organisation is its investor. A change (a
re-assignment to a successor after the 2025-07-01 merger, a transfer between boards) is a new entry, never an
overwrite, so a report as of a past date groups the project under the investor of that day, as known that day.
`projects.investor_id` always holds the entry in force today (owner scope and locks read it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kernel import feed as events
from app.kernel.clock import today, utcnow
from app.kernel.db import lock_row
from app.kernel.errors import Conflict, NotFound, RuleViolation, UnknownReference
from app.ledger.locks import lock_projects
from app.models import Organisation, Project, ProjectInvestor


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    project_id: int
    investor_id: int
    effective_from: date | None  # None: since the project was registered
    known_on: date


def investor_on(entries: Sequence[Entry], day: date) -> int | None:
    """The investor in force on `day` as known on `day`: the latest change effective by then and recorded by then,
    else the investor the project was registered with (pure)."""
    originals = sorted((e.id, e.investor_id) for e in entries if e.effective_from is None)
    changes = sorted((e.effective_from, e.id, e.investor_id) for e in entries
                     if e.effective_from is not None and e.effective_from <= day and e.known_on <= day)
    if changes:
        return changes[-1][2]
    return originals[0][1] if originals else None


async def investors_on(session: AsyncSession, day: date) -> dict[int, int]:
    """Every project's investor on `day` (projects without a history keep `projects.investor_id`)."""
    by_project: dict[int, list[Entry]] = {}
    pi = ProjectInvestor
    for r in await session.execute(select(pi.id, pi.project_id, pi.investor_id, pi.effective_from, pi.known_on)):
        by_project.setdefault(r.project_id, []).append(Entry(r.id, r.project_id, r.investor_id, r.effective_from,
                                                             r.known_on))
    out = {pid: investor for pid, entries in by_project.items() if (investor := investor_on(entries, day)) is not None}
    for pid, investor_id in await session.execute(select(Project.id, Project.investor_id)):
        out.setdefault(pid, investor_id)
    return out


def record_original(session: AsyncSession, project: Project, key_id: int | None) -> None:
    """The investor a project is registered with (no start date: since the beginning)."""
    session.add(ProjectInvestor(project_id=project.id, investor_id=project.investor_id, effective_from=None,
                                known_on=today(), created_at=utcnow(), created_by_key_id=key_id))


async def history(session: AsyncSession, project_id: int) -> list[ProjectInvestor]:
    if await session.get(Project, project_id) is None:
        raise NotFound("project_not_found", f"Project {project_id} does not exist.")
    return list(await session.scalars(select(ProjectInvestor).where(ProjectInvestor.project_id == project_id)
                                      .order_by(ProjectInvestor.id)))


async def change(session: AsyncSession, project_id: int, *, investor_id: int, effective_from: date,
                 decision_ref: str | None, key_id: int | None) -> ProjectInvestor:
    """Append an investor change effective `effective_from` (today or earlier, after every earlier change) and make
    it the project's current investor."""
    await lock_projects(session, [project_id])  # the posting pipeline's first lock: owner checks see one investor
    project = await lock_row(session, select(Project).where(Project.id == project_id))
    if project is None:
        raise NotFound("project_not_found", f"Project {project_id} does not exist.")
    entry = await append(session, project, investor_id=investor_id, effective_from=effective_from,
                         decision_ref=decision_ref, key_id=key_id)
    project.version += 1
    project.updated_at = utcnow()
    events.emit(session, "project.updated", "project", project.id,
                {"id": project.id, "changed": ["investor_id"]}, project_id=project.id)
    return entry


async def append(session: AsyncSession, project: Project, *, investor_id: int, effective_from: date,
                 decision_ref: str | None, key_id: int | None) -> ProjectInvestor:
    """The history entry of a change on a locked project, checked; `project.investor_id` follows it."""
    organisation = await session.get(Organisation, investor_id)
    if organisation is None:
        raise UnknownReference("reference_not_found", f"Investor organisation {investor_id} does not exist.",
                               pointer="/investor_id", resource="organisation")
    now_day = today()
    if effective_from > now_day:
        raise RuleViolation("effective_date_in_future", f"An investor change takes effect today ({now_day}) or "
                            "earlier; record it when it happens.", pointer="/effective_from",
                            latest_allowed=now_day.isoformat())
    last = await session.scalar(select(ProjectInvestor.effective_from).where(
        ProjectInvestor.project_id == project.id, ProjectInvestor.effective_from.is_not(None))
        .order_by(ProjectInvestor.effective_from.desc()).limit(1))
    if last is not None and effective_from <= last:
        raise Conflict("investor_change_out_of_order", f"The project's investor already changed on {last}; a change "
                       "is appended after the last one, never written over it.", pointer="/effective_from",
                       earliest_allowed=date.fromordinal(last.toordinal() + 1).isoformat())
    if not (organisation.valid_from <= effective_from and
            (organisation.valid_to is None or effective_from < organisation.valid_to)):
        raise RuleViolation("organisation_not_valid_on_date", f"Organisation {organisation.code} exists from "
                            f"{organisation.valid_from} to {organisation.valid_to or 'now'}; it cannot be the investor "
                            f"from {effective_from}.", pointer="/effective_from",
                            valid_from=organisation.valid_from.isoformat(),
                            valid_to=organisation.valid_to.isoformat() if organisation.valid_to else None)
    if investor_id == project.investor_id:
        raise Conflict("investor_unchanged", f"Organisation {investor_id} is already the project's investor.",
                       pointer="/investor_id")
    entry = ProjectInvestor(project_id=project.id, investor_id=investor_id, effective_from=effective_from,
                            decision_ref=decision_ref, known_on=now_day, created_at=utcnow(), created_by_key_id=key_id)
    session.add(entry)
    project.investor_id = investor_id
    await session.flush()
    return entry
