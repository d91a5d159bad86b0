"""The books the ledger implies: loaded with the one fold (`fold.fold_ledger`), written back by `rebuild`.

`rebuild` is for data that arrived behind the posting pipeline (the demo loader, a COPY import); `verify`
(`app.ledger.verify`) compares the same books with what is stored.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import AllocationKind, BudgetLevel, CapitalSource
from app.kernel.clock import utcnow
from app.ledger.disbursements import movement_of
from app.ledger.fold import AllocationInput, Books, LedgerRow, fold_ledger
from app.models import (
    Advance,
    AllocationEntry,
    ContractBalance,
    ContractMember,
    Disbursement,
    PoolBalance,
    Project,
    ProjectBalance,
)
from app.rulesets.service import effective_rule_sets


async def load_books(session: AsyncSession) -> Books:
    """Replay the whole ledger, in id order, with the effective rule sets."""
    a, d = AllocationEntry.__table__, Disbursement.__table__
    allocations = [
        AllocationInput(r.project_id, r.plan_year, CapitalSource(r.capital_source), BudgetLevel(r.budget_level),
                        AllocationKind(r.kind), abs(r.amount_vnd), r.decision_number, r.decision_date, r.authority,
                        budget_holder_id=r.budget_holder_id, extended_until=r.extended_until,
                        added_vnd=abs(r.added_vnd))
        for r in await session.execute(select(a).order_by(a.c.id))]
    value_dates: dict[int, date] = {}
    rows: list[LedgerRow] = []
    for r in await session.execute(select(d).order_by(d.c.id)):
        value_dates[r.id] = r.value_date
        original = value_dates.get(r.reverses_id) if r.reverses_id is not None else None
        rows.append(LedgerRow(r.id, movement_of(r, original)))
    return fold_ledger(allocations, rows, await effective_rule_sets(session))


async def advances_outstanding_on(session: AsyncSession, as_of: date, *,
                                  project_ids: list[int] | None = None) -> dict[int, int]:
    """Point in time (R13, R9): each advance's outstanding balance on `as_of` as the ledger knew it then, keyed
    by the advance's disbursement id.

    Only rows whose value date and known-on date are both ≤ `as_of` count, replayed through the one fold and its
    one FIFO: a recovery recorded later, or an advance reversed later, does not change a past answer."""
    d = Disbursement.__table__
    query = (select(d).where(d.c.value_date <= as_of, d.c.known_on <= as_of,
                             (d.c.kind == "advance") | (d.c.advance_recovered_vnd != 0))
             .order_by(d.c.id))
    if project_ids is not None:
        query = query.where(d.c.project_id.in_(project_ids))
    value_dates: dict[int, date] = {}
    rows: list[LedgerRow] = []
    for r in await session.execute(query):
        value_dates[r.id] = r.value_date
        rows.append(LedgerRow(r.id, movement_of(r, value_dates.get(r.reverses_id) if r.reverses_id else None)))
    books = fold_ledger((), rows, await effective_rule_sets(session))
    return {i: a.amount_vnd - a.recovered_vnd for i, a in books.advances.items()}


async def rebuild(session: AsyncSession) -> int:
    """Rewrite every balance row and advance from the ledger (after a load that bypassed the pipeline)."""
    await session.flush()  # rows the caller added (contracts, their balance rows) take part
    books = await load_books(session)
    now = utcnow()
    await session.execute(delete(PoolBalance))
    await session.execute(delete(ProjectBalance))
    pool_rows = [{"project_id": k.project_id, "plan_year": k.plan_year, "capital_source": k.capital_source.value,
                  "budget_level": k.budget_level.value, "budget_holder_id": k.budget_holder_id,
                  "plan_vnd": p.plan_vnd, "extended_vnd": p.extended_vnd,
                  "extended_until": p.extended_until, "late_capital_vnd": p.late_capital_vnd,
                  "disbursed_vnd": p.disbursed_vnd, "advanced_vnd": p.advanced_vnd,
                  "advance_recovered_vnd": p.advance_recovered_vnd, "paid_vnd": p.paid_vnd,
                  "late_disbursed_vnd": p.late_disbursed_vnd, "last_value_date": p.last_value_date,
                  "added_plan_vnd": p.added_plan_vnd, "updated_at": now}
                 for k, p in sorted(books.pools.items())]
    if pool_rows:
        await session.execute(insert(PoolBalance), pool_rows)
    project_ids = (await session.scalars(select(Project.id))).all()
    if project_ids:
        await session.execute(insert(ProjectBalance), [
            {"project_id": pid, "planned_total_vnd": books.project(pid).planned_total_vnd,
             "disbursed_total_vnd": books.project(pid).disbursed_total_vnd,
             "advance_outstanding_vnd": books.project(pid).advance_outstanding_vnd, "updated_at": now}
            for pid in project_ids])
    contract_ids = (await session.scalars(select(ContractBalance.contract_id))).all()
    for cid in contract_ids:
        c = books.contract(cid)
        assert c is not None
        await session.execute(update(ContractBalance).where(ContractBalance.contract_id == cid).values(
            advanced_vnd=c.advanced_vnd, recovered_vnd=c.recovered_vnd, outstanding_vnd=c.outstanding_vnd,
            paid_vnd=c.paid_vnd, supply_completions=c.supply_completions, updated_at=now))
    for mid in (await session.scalars(select(ContractMember.id))).all():
        m = books.member(mid)
        assert m is not None
        await session.execute(update(ContractMember).where(ContractMember.id == mid).values(
            advanced_vnd=m.advanced_vnd, recovered_vnd=m.recovered_vnd, outstanding_vnd=m.outstanding_vnd,
            paid_vnd=m.paid_vnd, supply_completions=m.supply_completions, updated_at=now))
    await _rebuild_advances(session, books)
    session.expire_all()  # the Core writes above bypassed the identity map: later reads must see them
    return len(pool_rows)


async def _rebuild_advances(session: AsyncSession, books: Books) -> None:
    stored = {a.disbursement_id: a for a in await session.scalars(select(Advance))}
    d = Disbursement.__table__
    facts = {r.id: r for r in await session.execute(
        select(d.c.id, d.c.plan_year, d.c.capital_source, d.c.budget_level, d.c.budget_holder_id, d.c.contract_id)
        .where(d.c.id.in_(list(set(books.advances) - set(stored)))))} if set(books.advances) - set(stored) else {}
    now = utcnow()
    for disbursement_id, state in books.advances.items():
        row = stored.get(disbursement_id)
        if row is None:
            f = facts[disbursement_id]
            session.add(Advance(disbursement_id=disbursement_id, project_id=state.scope.project_id,
                                contract_id=f.contract_id, contract_member_id=state.scope.member_id or None,
                                kind=state.scope.kind, plan_year=f.plan_year,
                                capital_source=f.capital_source, budget_level=f.budget_level,
                                budget_holder_id=f.budget_holder_id,
                                advanced_on=state.advanced_on, amount_vnd=state.amount_vnd,
                                recovered_vnd=state.recovered_vnd, outstanding_vnd=state.outstanding_vnd, version=1,
                                updated_at=now))
        elif (row.amount_vnd, row.recovered_vnd) != (state.amount_vnd, state.recovered_vnd):
            row.amount_vnd, row.recovered_vnd = state.amount_vnd, state.recovered_vnd
            row.outstanding_vnd, row.updated_at, row.version = state.outstanding_vnd, now, row.version + 1
    await session.flush()
