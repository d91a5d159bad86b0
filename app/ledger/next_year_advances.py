"""R1a: capital advanced from next year's plan (ứng trước kế hoạch vốn năm sau, ND 254 Đ11).

An entry of kind `next_year_advance` raises year Y's plan of a pool. When the pool's year Y+1 receives new capital
(`REPAYS_NEXT_YEAR_ADVANCE`), the posting pipeline records, in the same call and under the same decision, an
`advance_repayment` entry that takes back what is still unrepaid: the next year's allocation first repays the
advance, only the rest is new capital. Clients never send a repayment (`generated_kind`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import AllocationKind
from app.ledger.balances import PoolKey
from app.ledger.fold import AllocationInput
from app.ledger.posting_rules import next_year_advance_repayment
from app.models import AllocationEntry

_A = AllocationEntry


def _key(pool: PoolKey) -> tuple:
    return (pool.project_id, pool.plan_year, pool.capital_source.value, pool.budget_level.value, pool.budget_holder_id)


async def unrepaid(session: AsyncSession, pools: Sequence[PoolKey]) -> dict[PoolKey, int]:
    """Per year Y+1 pool: Σ advanced from it during year Y − Σ already repaid (stored repayments are negative)."""
    out: dict[PoolKey, int] = dict.fromkeys(pools, 0)
    by_key = {_key(p): p for p in pools}
    columns = (_A.project_id, _A.plan_year, _A.capital_source, _A.budget_level, _A.budget_holder_id)
    # (kind, the pools it is stored in, how many years later the pool it counts for is)
    for kind, keys, shift in ((AllocationKind.next_year_advance, [_key(replace(p, plan_year=p.plan_year - 1))
                                                                  for p in pools], 1),
                              (AllocationKind.advance_repayment, list(by_key), 0)):
        if not keys:
            continue
        query = select(*columns, func.sum(_A.amount_vnd)).where(_A.kind == kind, tuple_(*columns).in_(keys))
        for project_id, year, source, level, holder, amount in await session.execute(query.group_by(*columns)):
            pool = by_key.get((project_id, year + shift, str(source), str(level), holder))
            if pool is not None:
                out[pool] += int(amount or 0)
    return out


async def with_repayments(session: AsyncSession, entries: Sequence[AllocationInput]
                          ) -> list[tuple[AllocationInput, bool]]:
    """The entries, each followed by the repayment it owes (flagged generated), in the order they will post."""
    left = await unrepaid(session, sorted({e.pool for e in entries}, key=_key))
    out: list[tuple[AllocationInput, bool]] = []
    for entry in entries:
        out.append((entry, False))
        repay = next_year_advance_repayment(entry, left.get(entry.pool, 0))
        if repay:
            left[entry.pool] -= repay
            # R1b: the repayment gives back the province's added part first, like a transfer
            out.append((replace(entry, kind=AllocationKind.advance_repayment, amount_vnd=repay, tranche=None,
                                added_vnd=min(entry.added_vnd, repay),
                                extended_until=None, note=f"R1a: repays capital advanced from {entry.plan_year}'s "
                                f"plan in {entry.plan_year - 1}", reallocation_proposal_id=None), True))
    return out
