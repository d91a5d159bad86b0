"""Balance rows: locking, creation, point-in-time reads and verification against the ledger.

Lock order is always project balance first, then pool balances sorted by key, so concurrent writers
never deadlock. PostgreSQL takes row locks (`FOR UPDATE`); SQLite serialises writers (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, case, func, insert, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import AllocationKind, BudgetLevel, CapitalSource, DisbursementKind
from app.kernel.clock import utcnow
from app.models import AllocationEntry, Disbursement, PoolBalance, ProjectBalance


@dataclass(frozen=True, slots=True, order=True)
class PoolKey:
    """A pool of capital: one project's plan for one year, capital source and budget level."""

    project_id: int
    plan_year: int
    capital_source: CapitalSource
    budget_level: BudgetLevel


def pool_key_of(row: PoolBalance | AllocationEntry | Disbursement) -> PoolKey:
    return PoolKey(row.project_id, row.plan_year, CapitalSource(row.capital_source), BudgetLevel(row.budget_level))


def _insert(session: AsyncSession):
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


async def ensure_pools(session: AsyncSession, keys: Iterable[PoolKey]) -> None:
    """Create missing pool rows (safe under concurrency: ON CONFLICT DO NOTHING)."""
    rows = [
        {"project_id": k.project_id, "plan_year": k.plan_year, "capital_source": k.capital_source.value,
         "budget_level": k.budget_level.value, "updated_at": utcnow()}
        for k in sorted(set(keys))
    ]
    if rows:
        stmt = _insert(session)(PoolBalance).on_conflict_do_nothing(
            index_elements=["project_id", "plan_year", "capital_source", "budget_level"]
        )
        await session.execute(stmt, rows)


async def lock_projects(session: AsyncSession, project_ids: Iterable[int]) -> dict[int, ProjectBalance]:
    ids = sorted(set(project_ids))
    if not ids:
        return {}
    rows = await session.scalars(
        select(ProjectBalance).where(ProjectBalance.project_id.in_(ids)).order_by(ProjectBalance.project_id)
        .with_for_update().execution_options(populate_existing=True)
    )
    return {row.project_id: row for row in rows}


async def lock_pools(session: AsyncSession, keys: Iterable[PoolKey]) -> dict[PoolKey, PoolBalance]:
    """Lock the pool rows that exist among `keys`, in key order."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    project_ids = sorted({k.project_id for k in wanted})
    years = sorted({k.plan_year for k in wanted})
    rows = await session.scalars(
        select(PoolBalance)
        .where(PoolBalance.project_id.in_(project_ids), PoolBalance.plan_year.in_(years))
        .order_by(PoolBalance.project_id, PoolBalance.plan_year, PoolBalance.capital_source, PoolBalance.budget_level)
        .with_for_update().execution_options(populate_existing=True)
    )
    wanted_set = set(wanted)
    return {key: row for row in rows if (key := pool_key_of(row)) in wanted_set}


# --- The write path's locked balances, in Core (no ORM objects: a batch locks thousands of rows) -------------

@dataclass(slots=True)
class LockedPool:
    """A locked pool balance row, moved in memory by the write and written back by `write_pools`."""

    id: int
    key: PoolKey
    plan_vnd: int
    extended_vnd: int
    extended_until: date | None
    late_capital_vnd: int
    disbursed_vnd: int
    advanced_vnd: int
    advance_recovered_vnd: int
    paid_vnd: int
    late_disbursed_vnd: int
    last_value_date: date | None


@dataclass(slots=True)
class LockedProject:
    project_id: int
    disbursed_total_vnd: int
    advance_outstanding_vnd: int


_P = ProjectBalance.__table__
_PB = PoolBalance.__table__
_POOL_LOCK_COLUMNS = (_PB.c.id, _PB.c.project_id, _PB.c.plan_year, _PB.c.capital_source, _PB.c.budget_level,
                      _PB.c.plan_vnd, _PB.c.extended_vnd, _PB.c.extended_until, _PB.c.late_capital_vnd,
                      _PB.c.disbursed_vnd, _PB.c.advanced_vnd, _PB.c.advance_recovered_vnd, _PB.c.paid_vnd,
                      _PB.c.late_disbursed_vnd, _PB.c.last_value_date)
# Up to this many pools are locked by exact key; more (a batch) by project and year, filtered here.
_EXACT_POOL_KEYS = 100


async def lock_project_rows(session: AsyncSession, project_ids: Iterable[int]) -> dict[int, LockedProject]:
    """Lock project balance rows in id order (first in the lock order)."""
    ids = sorted(set(project_ids))
    if not ids:
        return {}
    query = select(_P.c.project_id, _P.c.disbursed_total_vnd, _P.c.advance_outstanding_vnd)
    query = query.where(_P.c.project_id == ids[0]) if len(ids) == 1 else query.where(_P.c.project_id.in_(ids))
    rows = await session.execute(query.order_by(_P.c.project_id).with_for_update())
    return {r[0]: LockedProject(*r) for r in rows}


async def lock_pool_rows(session: AsyncSession, keys: Iterable[PoolKey]) -> dict[PoolKey, LockedPool]:
    """Lock the pool rows that exist among `keys`, in key order (after the project rows)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    query = select(*_POOL_LOCK_COLUMNS)
    if len(wanted) == 1:
        k = wanted[0]
        query = query.where(_PB.c.project_id == k.project_id, _PB.c.plan_year == k.plan_year,
                            _PB.c.capital_source == k.capital_source, _PB.c.budget_level == k.budget_level)
    elif len(wanted) <= _EXACT_POOL_KEYS:
        query = query.where(tuple_(_PB.c.project_id, _PB.c.plan_year, _PB.c.capital_source, _PB.c.budget_level)
                            .in_([(k.project_id, k.plan_year, k.capital_source, k.budget_level)
                                  for k in wanted]))
    else:
        query = query.where(_PB.c.project_id.in_(sorted({k.project_id for k in wanted})),
                            _PB.c.plan_year.in_(sorted({k.plan_year for k in wanted})))
    query = query.order_by(_PB.c.project_id, _PB.c.plan_year, _PB.c.capital_source, _PB.c.budget_level)
    wanted_set = set(wanted)
    locked: dict[PoolKey, LockedPool] = {}
    for r in await session.execute(query.with_for_update()):
        key = PoolKey(r[1], r[2], CapitalSource(r[3]), BudgetLevel(r[4]))
        if key in wanted_set:
            locked[key] = LockedPool(r[0], key, *r[5:])
    return locked


async def write_pools(session: AsyncSession, pools: Iterable[LockedPool], now: datetime) -> None:
    """Write the moved pool rows back: one statement (PostgreSQL: UPDATE … FROM unnest; SQLite: executemany)."""
    rows = list(pools)
    if not rows:
        return
    if session.bind.dialect.name == "postgresql":
        await session.execute(text(
            "UPDATE pool_balances AS p SET disbursed_vnd = v.d, advanced_vnd = v.a, advance_recovered_vnd = v.r, "
            "paid_vnd = v.p, late_disbursed_vnd = v.l, last_value_date = v.lvd, updated_at = :now "
            "FROM unnest(CAST(:id AS BIGINT[]), CAST(:d AS BIGINT[]), CAST(:a AS BIGINT[]), CAST(:r AS BIGINT[]), "
            "CAST(:p AS BIGINT[]), CAST(:l AS BIGINT[]), CAST(:lvd AS DATE[])) AS v(id, d, a, r, p, l, lvd) "
            "WHERE p.id = v.id"),
            {"now": now, "id": [r.id for r in rows], "d": [r.disbursed_vnd for r in rows],
             "a": [r.advanced_vnd for r in rows], "r": [r.advance_recovered_vnd for r in rows],
             "p": [r.paid_vnd for r in rows], "l": [r.late_disbursed_vnd for r in rows],
             "lvd": [r.last_value_date for r in rows]})
        return
    await session.execute(
        update(_PB).where(_PB.c.id == bindparam("b_id")).values(
            disbursed_vnd=bindparam("b_d"), advanced_vnd=bindparam("b_a"), advance_recovered_vnd=bindparam("b_r"),
            paid_vnd=bindparam("b_p"), late_disbursed_vnd=bindparam("b_l"), last_value_date=bindparam("b_lvd"),
            updated_at=bindparam("b_now")),
        [{"b_id": r.id, "b_d": r.disbursed_vnd, "b_a": r.advanced_vnd, "b_r": r.advance_recovered_vnd,
          "b_p": r.paid_vnd, "b_l": r.late_disbursed_vnd, "b_lvd": r.last_value_date, "b_now": now} for r in rows])


async def write_projects(session: AsyncSession, projects: Iterable[LockedProject], now: datetime) -> None:
    rows = list(projects)
    if not rows:
        return
    if session.bind.dialect.name == "postgresql":
        await session.execute(text(
            "UPDATE project_balances AS b SET disbursed_total_vnd = v.d, advance_outstanding_vnd = v.o, "
            "updated_at = :now FROM unnest(CAST(:id AS BIGINT[]), CAST(:d AS BIGINT[]), CAST(:o AS BIGINT[])) "
            "AS v(id, d, o) WHERE b.project_id = v.id"),
            {"now": now, "id": [r.project_id for r in rows], "d": [r.disbursed_total_vnd for r in rows],
             "o": [r.advance_outstanding_vnd for r in rows]})
        return
    await session.execute(
        update(_P).where(_P.c.project_id == bindparam("b_id")).values(
            disbursed_total_vnd=bindparam("b_d"), advance_outstanding_vnd=bindparam("b_o"),
            updated_at=bindparam("b_now")),
        [{"b_id": r.project_id, "b_d": r.disbursed_total_vnd, "b_o": r.advance_outstanding_vnd, "b_now": now}
         for r in rows])


@dataclass(slots=True)
class PoolFigures:
    """Pool totals recomputed from the ledger (current or as of a date)."""

    plan_vnd: int = 0
    extended_vnd: int = 0
    disbursed_vnd: int = 0
    advanced_vnd: int = 0
    advance_recovered_vnd: int = 0
    paid_vnd: int = 0


def _allocation_sums():
    plan = func.sum(case((AllocationEntry.kind != AllocationKind.extension, AllocationEntry.amount_vnd), else_=0))
    extended = func.sum(case((AllocationEntry.kind == AllocationKind.extension, AllocationEntry.amount_vnd), else_=0))
    return plan, extended


def _disbursement_sums():
    return (
        func.sum(Disbursement.net_vnd),
        func.sum(case((Disbursement.kind == DisbursementKind.advance, Disbursement.amount_vnd), else_=0)),
        func.sum(Disbursement.advance_recovered_vnd),
        func.sum(case((Disbursement.kind == DisbursementKind.payment, Disbursement.amount_vnd), else_=0)),
    )


_POOL_COLUMNS = (AllocationEntry.project_id, AllocationEntry.plan_year, AllocationEntry.capital_source,
                 AllocationEntry.budget_level)
_DPOOL_COLUMNS = (Disbursement.project_id, Disbursement.plan_year, Disbursement.capital_source,
                  Disbursement.budget_level)


async def pool_figures(
    session: AsyncSession,
    *,
    plan_year: int | None = None,
    project_ids: Sequence[int] | None = None,
    as_of: date | None = None,
    known_on: date | None = None,
) -> dict[PoolKey, PoolFigures]:
    """Recompute pool figures from the ledger.

    `as_of` keeps entries whose value date (decision date for plans) is on or before it; `known_on` also
    drops entries recorded after that date, so a report reproduces exactly what was known then.
    """
    plan, extended = _allocation_sums()
    a_query = select(*_POOL_COLUMNS, plan, extended).group_by(*_POOL_COLUMNS)
    d_query = select(*_DPOOL_COLUMNS, *_disbursement_sums()).group_by(*_DPOOL_COLUMNS)
    if plan_year is not None:
        a_query = a_query.where(AllocationEntry.plan_year == plan_year)
        d_query = d_query.where(Disbursement.plan_year == plan_year)
    if project_ids is not None:
        a_query = a_query.where(AllocationEntry.project_id.in_(project_ids))
        d_query = d_query.where(Disbursement.project_id.in_(project_ids))
    if as_of is not None:
        a_query = a_query.where(AllocationEntry.decision_date <= as_of)
        d_query = d_query.where(Disbursement.value_date <= as_of)
    if known_on is not None:
        a_query = a_query.where(AllocationEntry.known_on <= known_on)
        d_query = d_query.where(Disbursement.known_on <= known_on)
    figures: dict[PoolKey, PoolFigures] = {}
    for pid, year, source, level, plan_sum, ext_sum in (await session.execute(a_query)).all():
        key = PoolKey(pid, year, CapitalSource(source), BudgetLevel(level))
        figures[key] = PoolFigures(plan_vnd=int(plan_sum or 0), extended_vnd=int(ext_sum or 0))
    for pid, year, source, level, net, adv, rec, paid in (await session.execute(d_query)).all():
        key = PoolKey(pid, year, CapitalSource(source), BudgetLevel(level))
        fig = figures.setdefault(key, PoolFigures())
        fig.disbursed_vnd, fig.advanced_vnd = int(net or 0), int(adv or 0)
        fig.advance_recovered_vnd, fig.paid_vnd = int(rec or 0), int(paid or 0)
    return figures


@dataclass(frozen=True, slots=True)
class Mismatch:
    where: str
    field: str
    stored: int
    ledger: int


async def verify(session: AsyncSession) -> list[Mismatch]:
    """Recompute every balance row from the ledger and list the differences (`python -m app verify`)."""
    mismatches: list[Mismatch] = []
    ledger = await pool_figures(session)
    stored = {pool_key_of(row): row for row in await session.scalars(select(PoolBalance))}
    for key in sorted(set(ledger) | set(stored)):
        fig = ledger.get(key, PoolFigures())
        row = stored.get(key)
        for field in ("plan_vnd", "extended_vnd", "disbursed_vnd", "advanced_vnd", "advance_recovered_vnd",
                      "paid_vnd"):
            have = getattr(row, field) if row is not None else 0
            want = getattr(fig, field)
            if have != want:
                mismatches.append(Mismatch(f"pool {key}", field, have, want))
    planned: dict[int, int] = {}
    disbursed: dict[int, int] = {}
    outstanding: dict[int, int] = {}
    for key, fig in ledger.items():
        planned[key.project_id] = planned.get(key.project_id, 0) + fig.plan_vnd
        disbursed[key.project_id] = disbursed.get(key.project_id, 0) + fig.disbursed_vnd
        outstanding[key.project_id] = (
            outstanding.get(key.project_id, 0) + fig.advanced_vnd - fig.advance_recovered_vnd
        )
    for row in await session.scalars(select(ProjectBalance)):
        pid = row.project_id
        for field, want in (("planned_total_vnd", planned.get(pid, 0)),
                            ("disbursed_total_vnd", disbursed.get(pid, 0)),
                            ("advance_outstanding_vnd", outstanding.get(pid, 0))):
            if getattr(row, field) != want:
                mismatches.append(Mismatch(f"project {pid}", field, getattr(row, field), want))
    return mismatches


async def rebuild(session: AsyncSession) -> int:
    """Rebuild every balance row from the ledger (after a bulk import by COPY or the demo loader)."""
    from sqlalchemy import delete

    from app.models import Project
    from app.rulesets.model import ruleset_for

    await session.execute(delete(PoolBalance))
    await session.execute(delete(ProjectBalance))
    now = utcnow()
    figures = await pool_figures(session)
    late_capital: dict[PoolKey, int] = {}
    extended_until: dict[PoolKey, date] = {}
    for entry in await session.scalars(select(AllocationEntry)):
        key = pool_key_of(entry)
        if entry.kind == AllocationKind.extension and entry.extended_until:
            extended_until[key] = max(extended_until.get(key, entry.extended_until), entry.extended_until)
        elif entry.amount_vnd > 0 and ruleset_for(entry.decision_date).is_late_capital(entry.plan_year,
                                                                                         entry.decision_date):
            late_capital[key] = late_capital.get(key, 0) + entry.amount_vnd
    last_dates = {
        PoolKey(pid, year, CapitalSource(src), BudgetLevel(lvl)): last
        for pid, year, src, lvl, last in (await session.execute(
            select(*_DPOOL_COLUMNS, func.max(Disbursement.value_date)).group_by(*_DPOOL_COLUMNS))).all()
    }
    pool_rows = []
    totals: dict[int, list[int]] = {}
    for key, fig in figures.items():
        pool_rows.append({
            "project_id": key.project_id, "plan_year": key.plan_year, "capital_source": key.capital_source.value,
            "budget_level": key.budget_level.value, "plan_vnd": fig.plan_vnd, "extended_vnd": fig.extended_vnd,
            "extended_until": extended_until.get(key), "late_capital_vnd": late_capital.get(key, 0),
            "disbursed_vnd": fig.disbursed_vnd, "advanced_vnd": fig.advanced_vnd,
            "advance_recovered_vnd": fig.advance_recovered_vnd, "paid_vnd": fig.paid_vnd, "late_disbursed_vnd": 0,
            "last_value_date": last_dates.get(key), "updated_at": now,
        })
        t = totals.setdefault(key.project_id, [0, 0, 0])
        t[0] += fig.plan_vnd
        t[1] += fig.disbursed_vnd
        t[2] += fig.advanced_vnd - fig.advance_recovered_vnd
    if pool_rows:
        await session.execute(insert(PoolBalance), pool_rows)
    project_ids = (await session.scalars(select(Project.id))).all()
    await session.execute(insert(ProjectBalance), [
        {"project_id": pid, "planned_total_vnd": totals.get(pid, [0, 0, 0])[0],
         "disbursed_total_vnd": totals.get(pid, [0, 0, 0])[1],
         "advance_outstanding_vnd": totals.get(pid, [0, 0, 0])[2], "updated_at": now}
        for pid in project_ids
    ])
    return len(pool_rows)
