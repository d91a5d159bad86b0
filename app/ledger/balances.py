"""Point-in-time pool figures from the ledger (reports and reads as of a date, as known on a date).

The balance rows themselves are moved only by the posting pipeline (`app.ledger.posting`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import AllocationKind, BudgetLevel, CapitalSource, DisbursementKind, EntrySource
from app.ledger.fold import PoolKey
from app.models import AllocationEntry, Disbursement, PoolBalance

__all__ = ["PoolFigures", "PoolKey", "confirmed_split", "pool_figures", "pool_key_of"]


def pool_key_of(row: PoolBalance | AllocationEntry | Disbursement) -> PoolKey:
    return PoolKey.of(row)


@dataclass(slots=True)
class PoolFigures:
    """Pool totals recomputed from the ledger (current or as of a date)."""

    plan_vnd: int = 0
    extended_vnd: int = 0
    added_plan_vnd: int = 0  # R1b: of plan_vnd, the capital the province added; the rest is the Prime Minister's
    disbursed_vnd: int = 0
    advanced_vnd: int = 0
    advance_recovered_vnd: int = 0
    paid_vnd: int = 0
    # R15a: of `disbursed_vnd`, the Treasury's record (rows whose origin is the Treasury); the rest is owners' reports.
    confirmed_vnd: int = 0
    # R1a (ứng trước), for reports: of `plan_vnd`, capital advanced from next year's plan, and the repayments of
    # last year's advances taken from this plan (stored negative). No balance column of their own.
    next_year_advance_vnd: int = 0
    advance_repayment_vnd: int = 0


def _allocation_sums():
    plan = func.sum(case((AllocationEntry.kind != AllocationKind.extension, AllocationEntry.amount_vnd), else_=0))
    extended = func.sum(case((AllocationEntry.kind == AllocationKind.extension, AllocationEntry.amount_vnd), else_=0))
    ahead = func.sum(case((AllocationEntry.kind == AllocationKind.next_year_advance, AllocationEntry.amount_vnd),
                          else_=0))
    repaid = func.sum(case((AllocationEntry.kind == AllocationKind.advance_repayment, AllocationEntry.amount_vnd),
                           else_=0))
    return plan, extended, func.sum(AllocationEntry.added_vnd), ahead, repaid


def _disbursement_sums():
    return (
        func.sum(Disbursement.net_vnd),
        func.sum(case((Disbursement.kind == DisbursementKind.advance, Disbursement.amount_vnd), else_=0)),
        func.sum(Disbursement.advance_recovered_vnd),
        func.sum(case((Disbursement.kind == DisbursementKind.payment, Disbursement.amount_vnd), else_=0)),
        func.sum(case((Disbursement.origin == EntrySource.treasury.value, Disbursement.net_vnd), else_=0)),
    )


_POOL_COLUMNS = (AllocationEntry.project_id, AllocationEntry.plan_year, AllocationEntry.capital_source,
                 AllocationEntry.budget_level, AllocationEntry.budget_holder_id)
_DPOOL_COLUMNS = (Disbursement.project_id, Disbursement.plan_year, Disbursement.capital_source,
                  Disbursement.budget_level, Disbursement.budget_holder_id)


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
    a_query = select(*_POOL_COLUMNS, *_allocation_sums()).group_by(*_POOL_COLUMNS)
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
    for pid, year, source, level, holder, plan_sum, ext_sum, added_sum, ahead, repaid in (
            await session.execute(a_query)).all():
        key = PoolKey(pid, year, CapitalSource(source), BudgetLevel(level), holder)
        figures[key] = PoolFigures(plan_vnd=int(plan_sum or 0), extended_vnd=int(ext_sum or 0),
                                   added_plan_vnd=int(added_sum or 0), next_year_advance_vnd=int(ahead or 0),
                                   advance_repayment_vnd=int(repaid or 0))
    for pid, year, source, level, holder, net, adv, rec, paid, confirmed in (await session.execute(d_query)).all():
        key = PoolKey(pid, year, CapitalSource(source), BudgetLevel(level), holder)
        fig = figures.setdefault(key, PoolFigures())
        fig.disbursed_vnd, fig.advanced_vnd = int(net or 0), int(adv or 0)
        fig.advance_recovered_vnd, fig.paid_vnd = int(rec or 0), int(paid or 0)
        fig.confirmed_vnd = int(confirmed or 0)
    return figures


async def confirmed_split(session: AsyncSession, *, plan_year: int, project_ids: Sequence[int] | None = None,
                          as_of: date | None = None) -> dict[str, int]:
    """R15a: a plan year's disbursed figure, and how much of it is the Treasury's record (the rest: owners' reports
    not yet confirmed), from the same point-in-time aggregation as every other figure."""
    figures = (await pool_figures(session, plan_year=plan_year, project_ids=project_ids, as_of=as_of)).values()
    disbursed = sum(f.disbursed_vnd for f in figures)
    confirmed = sum(f.confirmed_vnd for f in figures)
    return {"disbursed_vnd": disbursed, "confirmed_vnd": confirmed, "unconfirmed_vnd": disbursed - confirmed}
