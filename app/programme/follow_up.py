"""One project's follow-up on a day, as every reader shows it (the watch-list members, the report, the dashboard):
its watch-lists, lead official, physical progress and milestones, all as known on that day (R21)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Person
from app.programme import people, progress, watchlists
from app.programme.progress import MilestoneState


@dataclass(frozen=True, slots=True)
class FollowUp:
    watch_lists: tuple[str, ...]
    lead: Person | None
    physical_pct: float | None
    progress_reported_on: date | None
    milestones: dict[str, MilestoneState]


async def on(session: AsyncSession, day: date, project_ids: Sequence[int]) -> dict[int, FollowUp]:
    ids = sorted(set(project_ids))
    lists = await watchlists.lists_on(session, day, ids)
    leads = await people.leads_on(session, day, ids)
    done = await progress.progress_on(session, day, ids)
    milestones = await progress.milestones_on(session, day, ids)
    out = {}
    for pid in ids:
        report = done.get(pid)
        out[pid] = FollowUp(lists.get(pid, ()), leads.get(pid), report.physical_pct if report else None,
                            report.reported_on if report else None, milestones.get(pid, {}))
    return out
