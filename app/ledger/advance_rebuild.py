"""Rebuild `advances` and `contract_balances` from the disbursement ledger (bulk imports, the demo).

Creates the missing advance rows, then applies each group's recoveries oldest first (the same grouping
as the write path: per contract; without a contract, site-clearance advances and the others apart).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import AdvanceKind, DisbursementKind
from app.kernel.clock import utcnow
from app.models import Advance, ContractBalance, Disbursement


async def rebuild_advances(session: AsyncSession) -> int:
    now = utcnow()
    known = set(await session.scalars(select(Advance.disbursement_id)))
    rows = list(await session.scalars(select(Disbursement).order_by(Disbursement.id)))
    reversed_ids = {d.reverses_id for d in rows if d.reverses_id is not None}
    for d in rows:
        if d.kind == DisbursementKind.advance and d.reverses_id is None and d.id not in known:
            session.add(Advance(disbursement_id=d.id, project_id=d.project_id, contract_id=d.contract_id,
                                kind=AdvanceKind(d.advance_kind or AdvanceKind.contract), plan_year=d.plan_year,
                                capital_source=d.capital_source, budget_level=d.budget_level,
                                advanced_on=d.value_date, amount_vnd=d.amount_vnd, recovered_vnd=0,
                                outstanding_vnd=d.amount_vnd, version=1, updated_at=now))
    await session.flush()
    recovered: dict[tuple, int] = defaultdict(int)
    totals: dict[int, dict[str, int]] = defaultdict(lambda: {"advanced": 0, "recovered": 0, "paid": 0})
    for d in rows:
        site = d.kind == DisbursementKind.clearance or d.advance_kind == AdvanceKind.site_clearance
        recovered[(d.project_id, d.contract_id, site if d.contract_id is None else False)] += d.advance_recovered_vnd
        if d.contract_id is not None:
            t = totals[d.contract_id]
            t["advanced"] += d.amount_vnd if d.kind == DisbursementKind.advance else 0
            t["paid"] += d.amount_vnd if d.kind == DisbursementKind.payment else 0
            t["recovered"] += d.advance_recovered_vnd
    groups: dict[tuple, list[Advance]] = defaultdict(list)
    for a in await session.scalars(select(Advance)):
        if a.disbursement_id in reversed_ids:
            a.amount_vnd = 0
        site = a.contract_id is None and a.kind == AdvanceKind.site_clearance
        groups[(a.project_id, a.contract_id, site)].append(a)
    for key, advances in groups.items():
        left = max(0, min(recovered.get(key, 0), sum(a.amount_vnd for a in advances)))
        for a in sorted(advances, key=lambda a: (a.advanced_on, a.id)):
            applied = min(left, a.amount_vnd)
            left -= applied
            a.recovered_vnd, a.outstanding_vnd = applied, a.amount_vnd - applied
    for bal in await session.scalars(select(ContractBalance)):
        t = totals.get(bal.contract_id, {"advanced": 0, "recovered": 0, "paid": 0})
        bal.advanced_vnd, bal.recovered_vnd, bal.paid_vnd = t["advanced"], t["recovered"], t["paid"]
        bal.outstanding_vnd, bal.updated_at = t["advanced"] - t["recovered"], now
    await session.flush()
    return sum(len(a) for a in groups.values())
