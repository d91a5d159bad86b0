"""Physical progress and milestones of every project, public or non-budget, point in time (R21).

Progress (% of the works done) and milestone dates (planned and actual start, completion, inauguration: khởi
công, hoàn thành, khánh thành) are reports dated by the day they describe; nothing is edited, a later report
supersedes, and a past date reads the latest report dated by then.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import Milestone
from app.kernel import feed as events
from app.kernel.clock import utcnow
from app.kernel.errors import RuleViolation
from app.models import MilestoneReport, ProgressReport, Project
from app.programme import timeline


@dataclass(frozen=True, slots=True)
class MilestoneState:
    milestone: str
    planned_on: date | None
    actual_on: date | None
    reported_on: date


def _not_future(day: date, today: date, pointer: str) -> None:
    if day > today:
        raise RuleViolation("reported_on_in_future", f"R21: a report describes a day that has come; {day} is after "
                            f"today ({today}).", pointer=pointer, latest_allowed=today.isoformat())


async def report_progress(session: AsyncSession, project: Project, fields: dict[str, Any], today: date,
                          key_id: int | None) -> ProgressReport:
    _not_future(fields["reported_on"], today, "/reported_on")
    row = ProgressReport(project_id=project.id, reported_on=fields["reported_on"],
                         physical_pct=fields["physical_pct"], note=fields.get("note"), recorded_at=utcnow(),
                         key_id=key_id)
    session.add(row)
    await session.flush()
    events.emit(session, "project.progress_reported", "project", project.id,
                {"id": row.id, "project_id": project.id, "reported_on": row.reported_on.isoformat(),
                 "physical_pct": row.physical_pct}, project_id=project.id)
    return row


async def report_milestone(session: AsyncSession, project: Project, fields: dict[str, Any], today: date,
                           key_id: int | None) -> MilestoneReport:
    reported_on = fields["reported_on"]
    _not_future(reported_on, today, "/reported_on")
    if fields.get("planned_on") is None and fields.get("actual_on") is None:
        raise RuleViolation("field_required", "Give the planned date, the actual date or both.", pointer="/planned_on")
    if (actual := fields.get("actual_on")) is not None and actual > reported_on:
        raise RuleViolation("actual_after_report", f"R21: an actual date is known only once it has passed; "
                            f"{actual} is after the report's date {reported_on}.", pointer="/actual_on",
                            latest_allowed=reported_on.isoformat())
    milestone = Milestone(fields["milestone"]).value
    row = MilestoneReport(project_id=project.id, milestone=milestone, planned_on=fields.get("planned_on"),
                          actual_on=actual, reported_on=reported_on, note=fields.get("note"), recorded_at=utcnow(),
                          key_id=key_id)
    session.add(row)
    await session.flush()
    events.emit(session, "project.milestone_reported", "project", project.id,
                {"id": row.id, "project_id": project.id, "milestone": milestone,
                 "planned_on": row.planned_on.isoformat() if row.planned_on else None,
                 "actual_on": row.actual_on.isoformat() if row.actual_on else None,
                 "reported_on": reported_on.isoformat()}, project_id=project.id)
    return row


async def progress_reports(session: AsyncSession, project_id: int, day: date) -> list[ProgressReport]:
    """A project's progress reports dated by `day`, oldest first."""
    return list((await session.scalars(select(ProgressReport).where(
        ProgressReport.project_id == project_id, ProgressReport.reported_on <= day)
        .order_by(ProgressReport.reported_on, ProgressReport.id))).all())


async def milestone_reports(session: AsyncSession, project_id: int, day: date) -> list[MilestoneReport]:
    return list((await session.scalars(select(MilestoneReport).where(
        MilestoneReport.project_id == project_id, MilestoneReport.reported_on <= day)
        .order_by(MilestoneReport.reported_on, MilestoneReport.id))).all())


async def progress_on(session: AsyncSession, day: date, project_ids: Sequence[int]) -> dict[int, ProgressReport]:
    """Each project's latest progress report dated by `day`."""
    if not project_ids:
        return {}
    rows = await session.scalars(select(ProgressReport).where(
        ProgressReport.project_id.in_(sorted(set(project_ids))), ProgressReport.reported_on <= day))
    by_project: dict[int, list[tuple[date, int, ProgressReport]]] = defaultdict(list)
    for r in rows:
        by_project[r.project_id].append((r.reported_on, r.id, r))
    return {pid: latest for pid, items in by_project.items() if (latest := timeline.latest_by(items, day))}


def milestone_states(rows: Sequence[MilestoneReport], day: date) -> dict[str, MilestoneState]:
    """Per milestone, as known on `day`: the planned date of the latest report that gives one, the actual date of
    the latest report that gives one (a report may give either)."""
    out = {}
    for milestone in Milestone:
        mine = [(r.reported_on, r.id, r) for r in rows if r.milestone == milestone.value]
        latest = timeline.latest_by(mine, day)
        if latest is None:
            continue
        planned = timeline.latest_by([m for m in mine if m[2].planned_on is not None], day)
        actual = timeline.latest_by([m for m in mine if m[2].actual_on is not None], day)
        out[milestone.value] = MilestoneState(milestone.value, planned.planned_on if planned else None,
                                              actual.actual_on if actual else None, latest.reported_on)
    return out


async def milestones_on(session: AsyncSession, day: date, project_ids: Sequence[int]
                        ) -> dict[int, dict[str, MilestoneState]]:
    if not project_ids:
        return {}
    rows = await session.scalars(select(MilestoneReport).where(
        MilestoneReport.project_id.in_(sorted(set(project_ids))), MilestoneReport.reported_on <= day))
    by_project: dict[int, list[MilestoneReport]] = defaultdict(list)
    for r in rows:
        by_project[r.project_id].append(r)
    return {pid: milestone_states(rows_, day) for pid, rows_ in by_project.items()}
