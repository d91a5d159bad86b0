"""Step 1 of the posting pipeline: lock the balance rows a movement touches, in one order, and read them.

Lock order (every writer of money, so that none deadlocks): project balances (by project id) → pool balances
(by key) → contract balances (by contract id) → their joint-venture members (by id) → advances of the recovery
scopes (by id). PostgreSQL takes row
locks (`SELECT … FOR UPDATE`); SQLite serialises writers (`BEGIN IMMEDIATE`). Rows come back as the fold's
plain states (`app.ledger.fold`), never ORM objects: a batch locks thousands of rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Integer, any_, bindparam, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import AdvanceKind, BudgetLevel, CapitalSource, ProjectFunding, ProjectStatus
from app.kernel.clock import utcnow
from app.kernel.db import dialect_name
from app.ledger.fold import (
    AdvanceState,
    ContractState,
    MemberState,
    PoolKey,
    PoolState,
    ProjectState,
    Scope,
    advance_scope,
)
from app.ledger.posting_rules import ContractFacts, MemberFacts, ProjectFacts
from app.models import Advance, Contract, ContractBalance, ContractMember, PoolBalance, Project, ProjectBalance

_P = ProjectBalance.__table__
_PR = Project.__table__
_PB = PoolBalance.__table__
_CB = ContractBalance.__table__
_C = Contract.__table__
_A = Advance.__table__
_M = ContractMember.__table__
# Up to this many pools are locked by exact key; more (a batch) by project and year, filtered here.
_EXACT_POOL_KEYS = 100


def among(session: AsyncSession, column: Any, values: Sequence[int], *, small: bool = False) -> Any:
    """`column IN values`; on PostgreSQL `column = ANY(:array)`: one bind whatever the count (a batch names
    thousands of ids), so the statement is neither compiled per count nor sent with thousands of parameters."""
    if dialect_name(session) == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(Integer if small else BigInteger)))
    return column.in_(values)


async def lock_projects(session: AsyncSession, project_ids: Iterable[int]
                        ) -> tuple[dict[int, ProjectFacts], dict[int, ProjectState]]:
    """Lock project balance rows in id order (first in the lock order) and read each project's facts (code,
    investor, status, TMĐT) in the same statement. Missing projects are absent."""
    ids = sorted(set(project_ids))
    if not ids:
        return {}, {}
    query = (select(_P.c.project_id, _P.c.planned_total_vnd, _P.c.disbursed_total_vnd, _P.c.advance_outstanding_vnd,
                    _PR.c.code, _PR.c.investor_id, _PR.c.status, _PR.c.total_investment_vnd, _PR.c.funding)
             .join(_PR, _PR.c.id == _P.c.project_id))
    query = query.where(_P.c.project_id == ids[0]) if len(ids) == 1 else query.where(
        among(session, _P.c.project_id, ids))
    facts: dict[int, ProjectFacts] = {}
    states: dict[int, ProjectState] = {}
    # Both rows are locked: a TMĐT change (registry.projects.update takes this same lock) is then seen by the posting.
    for r in await session.execute(query.order_by(_P.c.project_id).with_for_update(of=[_P, _PR])):
        facts[r.project_id] = ProjectFacts(r.project_id, r.code, ProjectStatus(r.status), r.total_investment_vnd,
                                           r.investor_id, ProjectFunding(r.funding))
        states[r.project_id] = ProjectState(r.project_id, r.planned_total_vnd, r.disbursed_total_vnd,
                                            r.advance_outstanding_vnd)
    return facts, states


async def ensure_pools(session: AsyncSession, keys: Iterable[PoolKey]) -> None:
    """Create missing pool rows (safe under concurrency: ON CONFLICT DO NOTHING)."""
    rows = [{"project_id": k.project_id, "plan_year": k.plan_year, "capital_source": k.capital_source.value,
             "budget_level": k.budget_level.value, "budget_holder_id": k.budget_holder_id,
             "updated_at": utcnow()} for k in sorted(set(keys))]
    if rows:
        insert = pg_insert if dialect_name(session) == "postgresql" else sqlite_insert
        await session.execute(insert(PoolBalance).on_conflict_do_nothing(
            index_elements=["project_id", "plan_year", "capital_source", "budget_level", "budget_holder_id"]), rows)


_POOL_COLUMNS = (_PB.c.id, _PB.c.project_id, _PB.c.plan_year, _PB.c.capital_source, _PB.c.budget_level,
                 _PB.c.budget_holder_id,
                 _PB.c.plan_vnd, _PB.c.extended_vnd, _PB.c.extended_until, _PB.c.late_capital_vnd,
                 _PB.c.disbursed_vnd, _PB.c.advanced_vnd, _PB.c.advance_recovered_vnd, _PB.c.paid_vnd,
                 _PB.c.late_disbursed_vnd, _PB.c.last_value_date, _PB.c.added_plan_vnd)


async def lock_pools(session: AsyncSession, keys: Iterable[PoolKey]) -> dict[PoolKey, PoolState]:
    """Lock the pool rows that exist among `keys`, in key order (after the project rows)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    query = select(*_POOL_COLUMNS)
    if len(wanted) == 1:
        k = wanted[0]
        query = query.where(_PB.c.project_id == k.project_id, _PB.c.plan_year == k.plan_year,
                            _PB.c.capital_source == k.capital_source, _PB.c.budget_level == k.budget_level,
                            _PB.c.budget_holder_id == k.budget_holder_id)
    elif len(wanted) <= _EXACT_POOL_KEYS:
        query = query.where(tuple_(_PB.c.project_id, _PB.c.plan_year, _PB.c.capital_source, _PB.c.budget_level,
                                   _PB.c.budget_holder_id)
                            .in_([(k.project_id, k.plan_year, k.capital_source, k.budget_level, k.budget_holder_id)
                                  for k in wanted]))
    else:
        query = query.where(among(session, _PB.c.project_id, sorted({k.project_id for k in wanted})),
                            among(session, _PB.c.plan_year, sorted({k.plan_year for k in wanted}), small=True))
    query = query.order_by(_PB.c.project_id, _PB.c.plan_year, _PB.c.capital_source, _PB.c.budget_level,
                           _PB.c.budget_holder_id)
    wanted_set = set(wanted)
    locked: dict[PoolKey, PoolState] = {}
    for r in await session.execute(query.with_for_update()):
        key = PoolKey(r[1], r[2], CapitalSource(r[3]), BudgetLevel(r[4]), r[5])
        if key in wanted_set:
            locked[key] = PoolState(r[0], key, *r[6:])
    return locked


async def lock_contracts(session: AsyncSession, ids: Iterable[int]
                         ) -> dict[int, tuple[ContractFacts, ContractState]]:
    """Lock the balance rows of these contracts in id order (after project and pools) and read their terms."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    states = {r.contract_id: ContractState(r.contract_id, r.advanced_vnd, r.recovered_vnd, r.outstanding_vnd,
                                           r.paid_vnd, r.supply_completions)
              for r in await session.execute(select(_CB).where(among(session, _CB.c.contract_id, wanted))
                                             .order_by(_CB.c.contract_id).with_for_update())}
    facts = {r.id: ContractFacts(r.id, r.project_id, r.contract_type, r.value_vnd, r.value_at_signing_vnd,
                                 r.agreed_advance_rate_pct, r.full_recovery_date,
                                 r.approved_advance_rate_pct, r.approving_decision, r.guarantee_vnd,
                                 r.guarantee_expires_on)
             for r in await session.execute(select(_C).where(among(session, _C.c.id, wanted)))}
    return {cid: (facts[cid], states[cid]) for cid in wanted if cid in facts and cid in states}


async def lock_members(session: AsyncSession, contract_ids: Iterable[int]
                       ) -> dict[int, tuple[MemberFacts, MemberState]]:
    """Lock the joint-venture members of these contracts in id order (after the contract balances), by member id."""
    wanted = sorted(set(contract_ids))
    if not wanted:
        return {}
    return {r.id: (MemberFacts(r.id, r.contract_id, r.name, r.share_vnd),
                   MemberState(r.id, r.advanced_vnd, r.recovered_vnd, r.outstanding_vnd, r.paid_vnd,
                               r.supply_completions))
            for r in await session.execute(select(_M).where(among(session, _M.c.contract_id, wanted)).order_by(_M.c.id)
                                           .with_for_update())}


@dataclass(slots=True)
class LockedAdvance:
    """An advance row locked for a recovery: its id, the fold's state, and the stored figures."""

    id: int
    state: AdvanceState
    stored_amount_vnd: int
    stored_recovered_vnd: int
    contract_id: int | None
    project_id: int


async def lock_scopes(session: AsyncSession, scopes: Sequence[Scope]) -> dict[Scope, list[LockedAdvance]]:
    """Lock the advances of these recovery scopes (last in the lock order, by id)."""
    wanted = set(scopes)
    if not wanted:
        return {}
    query = (select(_A.c.id, _A.c.disbursement_id, _A.c.project_id, _A.c.contract_id, _A.c.kind, _A.c.advanced_on,
                    _A.c.amount_vnd, _A.c.recovered_vnd, _A.c.contract_member_id)
             .where(among(session, _A.c.project_id, sorted({s.project_id for s in wanted})))
             .order_by(_A.c.id).with_for_update())
    out: dict[Scope, list[LockedAdvance]] = {scope: [] for scope in wanted}
    for r in await session.execute(query):
        scope = advance_scope(r.project_id, r.contract_id, AdvanceKind(r.kind), r.contract_member_id)
        if scope in wanted:
            out[scope].append(LockedAdvance(r.id, AdvanceState(r.disbursement_id, scope, r.advanced_on, r.amount_vnd,
                                                               r.recovered_vnd), r.amount_vnd, r.recovered_vnd,
                                            r.contract_id, r.project_id))
    return out
