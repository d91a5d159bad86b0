"""R1c medium-term plans (kế hoạch đầu tư công trung hạn): recording ceilings and reading them with their headroom.

A ceiling entry is a decision like an allocation: it takes the project's lock (first in the posting pipeline's lock
order), so that no allocation of the same project runs between the check and the write; the pure decision is
`posting_rules.decide_medium_term`. The posting pipeline reads the same states (`states`) for R1c on allocations,
and the optimiser the same headroom (`headroom_by_pool`) for reallocation and envelope recipients.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import CapitalSource
from app.kernel import feed as events
from app.kernel.clock import utcnow
from app.kernel.errors import Conflict, NotFound, RuleViolation
from app.ledger import locks
from app.ledger.fold import AllocationInput
from app.ledger.medium_term_rules import (
    FIRST_PERIOD_START,
    PERIOD_YEARS,
    MediumTermInput,
    MediumTermKey,
    MediumTermState,
    period_of,
)
from app.ledger.posting_rules import decide_medium_term
from app.models import MediumTermEntry, PoolBalance

M = MediumTermEntry
_FILTER_LIMIT = 1_000  # more projects than this: aggregate them all rather than bind a list of ids


def key_of_pool(project_id: int, plan_year: int, capital_source: CapitalSource) -> MediumTermKey:
    return MediumTermKey(project_id, period_of(plan_year), capital_source)


def key_of(entry: AllocationInput) -> MediumTermKey:
    return key_of_pool(entry.project_id, entry.plan_year, entry.capital_source)


def _period_start_of(year_column):
    """SQL twin of `period_of` (modulo of a negative number is negative in both dialects: folded back)."""
    return year_column - ((year_column - FIRST_PERIOD_START) % PERIOD_YEARS + PERIOD_YEARS) % PERIOD_YEARS


async def states(session: AsyncSession, keys: Iterable[MediumTermKey]) -> dict[MediumTermKey, MediumTermState]:
    """Each key's ceiling (None: no plan recorded) and the annual plans of its period, as stored now."""
    wanted = sorted(set(keys))
    out = {k: MediumTermState(k, None) for k in wanted}
    if not wanted:
        return out
    ids = sorted({k.project_id for k in wanted})
    # A posting names a few projects; verify names them all (then one grouped scan, no list of bound ids).
    ceilings = select(M.project_id, M.period_start, M.capital_source, func.sum(M.amount_vnd))
    period = _period_start_of(PoolBalance.plan_year)  # one expression in SELECT and GROUP BY (PostgreSQL)
    plans = select(PoolBalance.project_id, period, PoolBalance.capital_source, func.sum(PoolBalance.plan_vnd))
    if len(ids) <= _FILTER_LIMIT:
        ceilings, plans = ceilings.where(M.project_id.in_(ids)), plans.where(PoolBalance.project_id.in_(ids))
    for pid, start, source, total in await session.execute(
            ceilings.group_by(M.project_id, M.period_start, M.capital_source)):
        key = MediumTermKey(pid, int(start), CapitalSource(source))
        if key in out:
            out[key].ceiling_vnd = int(total)
    for pid, start, source, total in await session.execute(plans.group_by(
            PoolBalance.project_id, period, PoolBalance.capital_source)):
        key = MediumTermKey(pid, int(start), CapitalSource(source))
        if key in out:
            out[key].annual_plans_vnd = int(total or 0)
    return out


async def record(session: AsyncSession, entry: MediumTermInput, *, today: date, key_id: int | None
                 ) -> MediumTermEntry:
    """Lock the project → decide (R1c) → write the entry and its event."""
    projects, _ = await locks.lock_projects(session, [entry.project_id])
    if entry.project_id not in projects:
        raise NotFound("project_not_found", f"Project {entry.project_id} does not exist.")
    duplicate = await session.scalar(select(M.id).where(
        M.project_id == entry.project_id, M.period_start == entry.period_start,
        M.capital_source == entry.capital_source, M.decision_number == entry.decision_number))
    if duplicate is not None:
        raise Conflict("duplicate_medium_term_entry", "This decision is already recorded for this project, period "
                       "and source.", pointer="/decision_number", existing_id=duplicate)
    state = (await states(session, [entry.key]))[entry.key]
    error = decide_medium_term(entry, state, today)
    if error is not None:
        raise RuleViolation(error.code, error.detail, pointer=error.pointer, **error.numbers)
    row = M(project_id=entry.project_id, period_start=entry.period_start, capital_source=entry.capital_source,
            kind=entry.kind, amount_vnd=entry.signed_vnd, decision_number=entry.decision_number,
            decision_date=entry.decision_date, authority=entry.authority, note=entry.note, known_on=today,
            created_at=utcnow(), created_by_key_id=key_id)
    session.add(row)
    await session.flush()
    events.emit(session, "medium_term.recorded", "medium_term_entry", row.id, {
        "id": row.id, "project_id": row.project_id, "period_start": row.period_start,
        "capital_source": row.capital_source.value, "kind": row.kind.value, "amount_vnd": row.amount_vnd,
        "decision_number": row.decision_number, "decision_date": row.decision_date.isoformat(),
    }, project_id=row.project_id, known_on=today)
    return row


async def entries(session: AsyncSession, project_id: int) -> list[MediumTermEntry]:
    return list((await session.scalars(select(M).where(M.project_id == project_id).order_by(M.id))).all())


@dataclass(frozen=True, slots=True)
class Ceiling:
    """A project's medium-term ceiling for one period and source, with the annual plans it bounds."""

    period_start: int
    capital_source: CapitalSource
    ceiling_vnd: int
    annual_plans_vnd: int

    @property
    def headroom_vnd(self) -> int:
        return max(0, self.ceiling_vnd - self.annual_plans_vnd)


async def ceilings(session: AsyncSession, project_id: int) -> list[Ceiling]:
    """Every (period, source) of the project with a recorded medium-term plan."""
    keys = {MediumTermKey(project_id, int(start), CapitalSource(source)) for start, source in await session.execute(
        select(M.period_start, M.capital_source).where(M.project_id == project_id).distinct())}
    found = await states(session, keys)
    return [Ceiling(k.period_start, k.capital_source, s.ceiling_vnd or 0, s.annual_plans_vnd)
            for k, s in sorted(found.items())]


async def headroom_by_pool(session: AsyncSession, plan_year: int, pools: Sequence[tuple[int, CapitalSource]]
                           ) -> dict[tuple[int, CapitalSource], int]:
    """R1c for R19 recipients: how much more annual plan each (project, source) may receive in `plan_year`'s period
    (0 without a medium-term plan: such a project cannot receive capital)."""
    start = period_of(plan_year)
    found = await states(session, (MediumTermKey(pid, start, source) for pid, source in pools))
    return {(k.project_id, k.capital_source): s.headroom_vnd for k, s in found.items()}

