"""Projects: create, update (optimistic concurrency via version/ETag), list and read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import ProjectStatus
from app.kernel import feed as events
from app.kernel.clock import utcnow
from app.kernel.db import lock_row
from app.kernel.errors import Conflict, NotFound, PreconditionFailed, RuleViolation, UnknownReference
from app.kernel.search_text import fold, project_search_text
from app.ledger.locks import lock_projects
from app.models import Organisation, Person, Project, ProjectBalance, WorkingGroup
from app.programme import people, watchlists
from app.registry import investors, organisations


def etag(project: Project) -> str:
    return f'"project-{project.id}-v{project.version}"'


async def get(session: AsyncSession, project_id: int) -> Project:
    project = await session.get(Project, project_id)
    if project is None:
        raise NotFound("project_not_found", f"Project {project_id} does not exist.")
    return project


async def _check_references(session: AsyncSession, investor_id: int | None, working_group_id: int | None) -> None:
    if investor_id is not None and await session.get(Organisation, investor_id) is None:
        raise UnknownReference("reference_not_found", f"Investor organisation {investor_id} does not exist.",
                               pointer="/investor_id", resource="organisation")
    if working_group_id is not None and await session.get(WorkingGroup, working_group_id) is None:
        raise UnknownReference("reference_not_found", f"Working group {working_group_id} does not exist.",
                               pointer="/working_group_id", resource="working_group")


async def _follow_up(session: AsyncSession, project: Project, lists: list[str] | None, lead: int | None,
                     day: date, key_id: int | None) -> None:
    """The fields kept for older clients, written as the effective-dated records they stand for, from `day` (R21)."""
    if lists is not None:
        await watchlists.set_project_lists(session, project, lists, day, key_id)
    if lead is not None:
        if await session.get(Person, lead) is None:
            raise UnknownReference("reference_not_found", f"Person {lead} does not exist.", pointer="/lead_person_id",
                                   resource="person")
        await people.assign_lead(session, project.id, {"person_id": lead, "effective_on": day}, key_id)


async def create(session: AsyncSession, fields: dict[str, Any], day: date, key_id: int | None) -> Project:
    if await session.scalar(select(Project.id).where(Project.code == fields["code"])) is not None:
        raise Conflict("project_code_taken", f"A project with code {fields['code']!r} exists.", pointer="/code")
    await _check_references(session, fields.get("investor_id"), fields.get("working_group_id"))
    lists, lead = fields.pop("watch_lists", None), fields.pop("lead_person_id", None)
    if fields["end_year"] < fields["start_year"]:
        raise RuleViolation("invalid_years", "end_year is before start_year.", pointer="/end_year")
    now = utcnow()
    project = Project(**fields, status=fields.get("status") or ProjectStatus.active, version=1, created_at=now,
                      updated_at=now)
    session.add(project)
    await session.flush()
    # A non-budget project keeps its (empty) balance row: the posting pipeline finds it and refuses its money.
    session.add(ProjectBalance(project_id=project.id, updated_at=now))
    investors.record_original(session, project, key_id)
    events.emit(session, "project.created", "project", project.id, {"id": project.id, "code": project.code},
                project_id=project.id)
    await _follow_up(session, project, lists, lead, day, key_id)
    return project


async def update(session: AsyncSession, project_id: int, if_match: str, changes: dict[str, Any], day: date,
                 key_id: int | None) -> Project:
    # The lock the posting pipeline takes first (project balance with the project row, one statement): a TMĐT cut
    # and a plan supplement are serialised, and the supplement sees the new TMĐT (R2).
    _, balances = await lock_projects(session, [project_id])
    project = await lock_row(session, select(Project).where(Project.id == project_id))
    if project is None:
        raise NotFound("project_not_found", f"Project {project_id} does not exist.")
    if if_match.strip() != etag(project):
        raise PreconditionFailed("etag_mismatch", "The project changed since you read it; fetch it again.",
                                 current_etag=etag(project))
    await _check_references(session, changes.get("investor_id"), changes.get("working_group_id"))
    if "total_investment_vnd" in changes:
        balance = balances.get(project_id)
        floor = max(balance.planned_total_vnd, balance.disbursed_total_vnd) if balance else 0
        if changes["total_investment_vnd"] < floor:
            raise RuleViolation("tmdt_below_plan", f"R2: TMĐT cannot go below the cumulative plan or disbursement "
                                f"({floor:,} đồng).", pointer="/total_investment_vnd", minimum_vnd=floor)
    if "investor_id" in changes:
        # A change of investor is a new history entry effective today, never an overwrite (registry.investors).
        investor_id = changes.pop("investor_id")
        if investor_id != project.investor_id:
            await investors.append(session, project, investor_id=investor_id, effective_from=day,
                                   decision_ref=None, key_id=key_id)
            changes["investor_id"] = investor_id
    lists, lead = changes.pop("watch_lists", None), changes.pop("lead_person_id", None)
    await _follow_up(session, project, lists, lead, day, key_id)
    for name, value in changes.items():
        setattr(project, name, value)
    project.search_text = project_search_text(project.code, project.name)
    project.version += 1
    project.updated_at = utcnow()
    events.emit(session, "project.updated", "project", project.id,
                {"id": project.id, "changed": sorted(changes)}, project_id=project.id)
    return project


@dataclass(frozen=True, slots=True)
class ProjectFilter:
    investor_id: int | None = None
    sector: str | None = None
    location: str | None = None
    working_group_id: int | None = None
    watch_list: str | None = None
    status: ProjectStatus | None = None
    search: str | None = None


def filtered(query: Select, f: ProjectFilter, investor_ids: frozenset[int] = frozenset()) -> Select:
    """`investor_ids`: the filter's investor and every predecessor it succeeded (its inherited projects)."""
    if f.investor_id is not None:
        query = query.where(Project.investor_id.in_(sorted(investor_ids | {f.investor_id})))
    if f.sector:
        query = query.where(Project.sector == f.sector)
    if f.location:
        query = query.where(Project.location == f.location)
    if f.working_group_id is not None:
        query = query.where(Project.working_group_id == f.working_group_id)
    if f.status is not None:
        query = query.where(Project.status == f.status)
    if f.search and (folded := fold(f.search)):
        # Case, diacritics and đ ignored alike on SQLite and PostgreSQL; % and _ are matched literally.
        query = query.where(Project.search_text.contains(folded, autoescape=True))
    return query


async def list_page(session: AsyncSession, f: ProjectFilter, after_id: int, limit: int, day: date
                    ) -> list[Project]:
    lineage = await organisations.with_predecessors(session, f.investor_id) if f.investor_id is not None \
        else frozenset()
    query = filtered(select(Project), f, lineage).where(Project.id > after_id).order_by(Project.id).limit(limit)
    if f.watch_list is not None:  # members on `day` (R21)
        on = await watchlists.lists_on(session, day)
        query = query.where(Project.id.in_(sorted(pid for pid, codes in on.items() if f.watch_list in codes)))
    return list((await session.scalars(query)).all())

