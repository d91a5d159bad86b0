"""Stored indicators for the current business date, refreshed incrementally (R17/R18 at national scale).

What changed is read from the change feed (`events`), which every write records in its own transaction
with the project it touched: disbursements and reversals, allocation entries (reallocations included),
schedules, extra needs (registered or withdrawn), advances, sweep transitions (overdue), recovery. The
refresher keeps two high-water marks in `indicator_refresh_state`: the last published `position` it
consumed, and the last *unpublished* event id (a write committed a moment ago, before the publisher
numbered it). Published positions follow commit order, so no committed change is ever skipped; the
unpublished mark only makes a client's own write visible at once (a write committed out of id order is
caught when the publisher numbers it, within about a second). The marks are read before the ledger, so
a change racing with a refresh is recomputed again next time, never lost.

A refresh recomputes the dirty projects with `monitoring.build_snapshot(…, project_ids)` — the same code
as the on-the-fly path — and replaces their rows. A full rebuild (new business date, other thresholds
or milestone curve, too many dirty projects, or an empty store) walks the projects in id batches, one
transaction per batch, while the previous rows keep serving; answers say `computed_for` (the date the
complete set is for), `stale` and how many projects are pending.

One refresher at a time per plan year: `pg_try_advisory_xact_lock` on PostgreSQL (a busy lock means
another worker is refreshing: serve the stored rows); SQLite serialises writers with BEGIN IMMEDIATE.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import structlog
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.kernel.clock import today as business_today
from app.kernel.clock import utcnow
from app.kernel.config import get_settings
from app.kernel.db import dialect_name
from app.models import Event, Project
from app.models.indicators import (
    IndicatorFlagDetail,
    IndicatorRefreshState,
    IndicatorSnapshot,
    IndicatorSnapshotPool,
)
from app.monitoring.flags import FlagCode
from app.monitoring.indicators import ProjectProgress, build_snapshot, milestone_curve, thresholds
from app.programme import people

log = structlog.get_logger()

REFRESH_LOCK_KEY = 7_301_003
FLAG_BITS: dict[str, int] = {code.value: 1 << i for i, code in enumerate(FlagCode)}
_CHUNK = 1000  # ids per IN list


@dataclass(frozen=True, slots=True)
class Freshness:
    computed_for: date | None  # every stored row is for this business date or later
    stale: bool  # changes or a rebuild are still pending
    pending_projects: int
    refreshed: int = 0  # projects recomputed by this call


def serves_from_store(as_of: date) -> bool:
    """The store answers for today's business date; a past (or future) as_of is computed on the fly."""
    return as_of == business_today()


async def _try_lock(session: AsyncSession, plan_year: int) -> bool:
    if dialect_name(session) == "postgresql":
        lock = text("SELECT pg_try_advisory_xact_lock(:k, :y)")
        return bool(await session.scalar(lock, {"k": REFRESH_LOCK_KEY, "y": plan_year}))
    return True  # SQLite: this transaction already holds the write lock (BEGIN IMMEDIATE)


async def fingerprint(session: AsyncSession, plan_year: int) -> str:
    """What every row depends on besides the project's own data: flag thresholds and the milestone curve."""
    curve = await milestone_curve(session, plan_year)
    s = get_settings()
    doc = [str(thresholds()), s.flag_stalled_days, [str(p) for p in curve.points]]
    return hashlib.sha256(json.dumps(doc).encode()).hexdigest()[:32]


async def _marks(session: AsyncSession) -> tuple[int, int]:
    position = await session.scalar(select(func.max(Event.position)))
    unpublished = await session.scalar(select(func.max(Event.id)).where(Event.position.is_(None)))
    return int(position or 0), int(unpublished or 0)


async def _dirty(session: AsyncSession, state: IndicatorRefreshState) -> set[int]:
    cond = (Event.position > state.event_position) | (Event.position.is_(None) & (Event.id > state.event_id))
    rows = await session.scalars(select(Event.project_id).where(cond, Event.project_id.is_not(None)).distinct())
    return {int(pid) for pid in rows if pid is not None}  # NULLs are filtered out by the query already


def _rows(plan_year: int, day: date, states: dict[int, ProjectProgress],
          attributes: dict[int, tuple]) -> tuple[list[dict], list[dict], list[dict]]:
    now = utcnow()
    projects, pools, details = [], [], []
    for pid, st in states.items():
        investor_id, sector, location, working_group_id, lead_person_id = attributes[pid]
        details.append({"plan_year": plan_year, "project_id": pid, "flags": {"flags": [
            {"code": f.code.value, "reason": f.reason, "detail": f.detail, "numbers": f.numbers} for f in st.flags]}})
        projects.append({
            "investor_id": investor_id, "sector": sector, "location": location,
            "working_group_id": working_group_id, "lead_person_id": lead_person_id,
            "plan_year": plan_year, "project_id": pid, "plan_vnd": st.plan_vnd, "added_plan_vnd": st.added_plan_vnd,
            "disbursed_vnd": st.disbursed_vnd,
            "forecast_vnd": st.forecast_vnd, "low_vnd": st.low_vnd, "high_vnd": st.high_vnd,
            "capacity_vnd": st.capacity_vnd, "at_risk_vnd": st.at_risk_vnd, "extra_need_vnd": st.extra_need_vnd,
            "absorbable_vnd": st.absorbable_vnd, "rate_pct": st.rate_pct,
            "days_since_last_disbursement": st.days_since_last_disbursement,
            "last_disbursement_on": st.last_disbursement_on,
            "flag_mask": sum(FLAG_BITS[f.code.value] for f in st.flags),
            "computed_for": day, "computed_at": now,
        })
        for p in st.pools:
            f = p.forecast
            pools.append({
                "plan_year": plan_year, "project_id": pid, "capital_source": p.key.capital_source.value,
                "budget_level": p.key.budget_level.value, "budget_holder_id": p.key.budget_holder_id,
                "plan_vnd": p.plan_vnd, "added_plan_vnd": p.added_plan_vnd, "disbursed_vnd": p.disbursed_vnd,
                "forecast_vnd": f.forecast_vnd if f else 0, "low_vnd": f.low_vnd if f else 0,
                "high_vnd": f.high_vnd if f else 0, "at_risk_vnd": f.at_risk_vnd if f else 0,
                "absorbable_vnd": min(p.extra_need_vnd, f.extra_capacity_vnd) if f else 0, "computed_for": day,
                "flag_mask": projects[-1]["flag_mask"],
            })
    return projects, pools, details


async def _attributes(session: AsyncSession, project_ids: Sequence[int], day: date) -> dict[int, tuple]:
    """The grouping keys copied into the stored rows; the lead official is the one of `day` (R21)."""
    p = Project
    rows = await session.execute(select(p.id, p.investor_id, p.sector, p.location, p.working_group_id)
                                 .where(p.id.in_(project_ids)))
    leads = await people.leads_on(session, day, project_ids)
    return {row[0]: (*row[1:], lead.id if (lead := leads.get(row[0])) else None) for row in rows}


async def recompute(session: AsyncSession, plan_year: int, day: date, project_ids: Sequence[int]) -> int:
    """Recompute these projects for `day` (today) and replace their stored rows; returns rows written."""
    written = 0
    ids = sorted(set(project_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        snap = await build_snapshot(session, plan_year, day, chunk)
        for model in (IndicatorSnapshot, IndicatorSnapshotPool, IndicatorFlagDetail):
            await session.execute(delete(model).where(model.plan_year == plan_year, model.project_id.in_(chunk)))
        projects, pools, details = _rows(plan_year, day, snap.projects,
                                         await _attributes(session, list(snap.projects), day))
        if projects:
            await session.execute(insert(IndicatorSnapshot), projects)
            await session.execute(insert(IndicatorFlagDetail), details)
        if pools:
            await session.execute(insert(IndicatorSnapshotPool), pools)
        written += len(projects)
    return written


async def _remaining(session: AsyncSession, state: IndicatorRefreshState) -> int:
    if state.building_for is None:
        return 0
    return int(await session.scalar(select(func.count(Project.id)).where(Project.id > state.build_cursor)) or 0)


async def _rebuild_step(session: AsyncSession, state: IndicatorRefreshState, batch: int) -> int:
    """Rebuild the next `batch` projects (by id); finish the rebuild when none is left."""
    day = state.building_for
    assert day is not None
    ids = list(
        await session.scalars(
            select(Project.id).where(Project.id > state.build_cursor).order_by(Project.id).limit(batch)
        )
    )
    if ids:
        await recompute(session, state.plan_year, day, ids)
        state.build_cursor = ids[-1]
    if len(ids) < batch:
        stale = select(IndicatorSnapshot.project_id).where(
            IndicatorSnapshot.plan_year == state.plan_year, IndicatorSnapshot.computed_for < day)
        await session.execute(delete(IndicatorFlagDetail).where(
            IndicatorFlagDetail.plan_year == state.plan_year, IndicatorFlagDetail.project_id.in_(stale)))
        for model in (IndicatorSnapshot, IndicatorSnapshotPool):
            await session.execute(
                delete(model).where(model.plan_year == state.plan_year, model.computed_for < day)
            )
        _maintenance_due.set()
        state.computed_for, state.building_for, state.build_cursor = day, None, 0
    return len(ids)


async def refresh(
    session: AsyncSession, plan_year: int, *, dirty_limit: int, rebuild_batch: int | None = None
) -> Freshness:
    """Bring the stored rows of `plan_year` up to date, within bounds, in the caller's transaction.

    Request path (`rebuild_batch=None`): recompute the dirty projects if at most `dirty_limit`, and finish
    a rebuild only if at most `dirty_limit` projects remain; otherwise answer from the stored rows with
    `stale`. Background path: also turn a large dirty set into a rebuild and run one rebuild batch.
    """
    day = business_today()
    if not await _try_lock(session, plan_year):
        return await freshness(session, plan_year)  # another worker is refreshing
    state = await session.get(IndicatorRefreshState, plan_year, populate_existing=True)
    marks = await _marks(session)  # before any ledger read: a racing write is seen next time
    if state is None:
        state = IndicatorRefreshState(
            plan_year=plan_year, computed_for=None, fingerprint="", building_for=None, build_cursor=0,
            event_position=marks[0], event_id=marks[1], updated_at=utcnow(),
        )
        session.add(state)
    fp = await fingerprint(session, plan_year)
    if (state.computed_for != day or state.fingerprint != fp) and (
        state.building_for != day or state.fingerprint != fp
    ):
        state.building_for, state.build_cursor, state.fingerprint = day, 0, fp
    dirty = await _dirty(session, state)
    refreshed = 0
    if len(dirty) <= dirty_limit:
        refreshed += await recompute(session, plan_year, day, list(dirty)) if dirty else 0
        state.event_position, state.event_id = marks
        dirty = set()
    elif rebuild_batch is not None:  # too many for incremental work: rebuild everything after these marks
        state.building_for, state.build_cursor = day, 0
        state.event_position, state.event_id = marks
        dirty = set()
    if state.building_for is not None:
        if rebuild_batch is not None:
            refreshed += await _rebuild_step(session, state, rebuild_batch)
        elif await _remaining(session, state) <= dirty_limit:
            while state.building_for is not None:
                refreshed += await _rebuild_step(session, state, get_settings().indicator_refresh_batch)
    if refreshed or session.is_modified(state):  # a read that changed nothing writes nothing
        state.updated_at = utcnow()
        await session.flush()
    pending = len(dirty) + await _remaining(session, state)
    return Freshness(state.computed_for, pending > 0, pending, refreshed)


async def freshness(session: AsyncSession, plan_year: int) -> Freshness:
    """What the stored rows are, without refreshing (another worker holds the refresh lock)."""
    state = await session.get(IndicatorRefreshState, plan_year, populate_existing=True)
    if state is None:
        return Freshness(None, True, int(await session.scalar(select(func.count(Project.id))) or 0))
    pending = len(await _dirty(session, state)) + await _remaining(session, state)
    return Freshness(state.computed_for, pending > 0, pending)


async def ensure_fresh(session: AsyncSession, plan_year: int) -> Freshness:
    """Request path: make a client's own write visible before answering, cheaply and within bounds."""
    return await refresh(session, plan_year, dirty_limit=get_settings().indicator_sync_limit)


async def rebuild_all(session: AsyncSession, plan_year: int) -> Freshness:
    """Recompute every project now, in the caller's transaction (demo loader, CLI, after a bulk load)."""
    state = await session.get(IndicatorRefreshState, plan_year, populate_existing=True)
    if state is not None:
        state.building_for = None
        state.computed_for = None  # forces a rebuild below
        await session.flush()  # refresh() re-reads the row (populate_existing): the change must be in the database
    return await refresh(session, plan_year, dirty_limit=2**62)


async def maintained_years(session: AsyncSession) -> list[int]:
    year = business_today().year
    stored = await session.scalars(
        select(IndicatorRefreshState.plan_year).where(IndicatorRefreshState.plan_year >= year - 1)
    )
    return sorted({year, *stored})


_running = asyncio.Lock()  # in-process only: one background refresher per worker; workers share the PG lock
# Set when a full rebuild finishes: the rebuild replaced every row, so reclaim the dead ones and refresh the
# planner's statistics (VACUUM cannot run inside a transaction, hence after the rebuild's commit).
_maintenance_due = asyncio.Event()


async def vacuum_after_rebuild() -> None:
    from app.kernel.db import get_engine

    _maintenance_due.clear()
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("indicator_snapshots", "indicator_snapshot_pools", "indicator_flag_details"):
            await autocommit.execute(text(f"VACUUM (ANALYZE) {table}"))


async def refresh_once() -> int:
    """One background round over the maintained plan years, one transaction per batch."""
    from app.kernel.db import session_scope  # local: services stay importable without an engine

    batch = get_settings().indicator_refresh_batch
    done = 0
    async with _running:
        async with session_scope() as session:
            years = await maintained_years(session)
        for year in years:
            while True:
                async with session_scope() as session:
                    result = await refresh(session, year, dirty_limit=batch, rebuild_batch=batch)
                done += result.refreshed
                if not result.stale or result.refreshed == 0:
                    break
        if _maintenance_due.is_set():
            await vacuum_after_rebuild()
    return done


async def refresh_loop(interval: float) -> None:
    while True:
        try:
            await refresh_once()
        except Exception:  # keep refreshing after a transient database error
            log.exception("indicator_refresh_failed")
        await asyncio.sleep(interval)
