"""R1b provenance of the plan entries a proposal writes (docs/rules.md, "R1b plan provenance")."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import PlanProvenance
from app.ledger.balances import PoolKey, pool_key_of
from app.models import PoolBalance, ReallocationProposal, ReallocationTransfer


def _pool(t: ReallocationTransfer, project_id: int) -> PoolKey:
    return PoolKey(project_id, t.plan_year, t.capital_source, t.budget_level, t.budget_holder_id)


async def added_parts(session: AsyncSession, p: ReallocationProposal, rows: list[ReallocationTransfer]
                       ) -> tuple[dict[PoolKey, int], dict[PoolKey, int]]:
    """R1b: the part added by the province of what each donor pool gives and each recipient pool receives.

    A transfer keeps its donor's provenance (moving capital between projects changes neither the Prime Minister's
    plan of the province nor what it added); a donor gives the capital the province added first, then the Prime
    Minister's plan, transfer by transfer in order. An envelope's supplements carry the envelope's provenance."""
    given: dict[PoolKey, int] = defaultdict(int)
    received: dict[PoolKey, int] = defaultdict(int)
    if p.mode == "envelope":
        envelope = (p.request or {}).get("envelope") or {}
        if envelope.get("provenance", PlanProvenance.added.value) == PlanProvenance.added.value:
            for t in rows:
                received[_pool(t, t.recipient_project_id)] += t.amount_vnd
        return given, received
    ids = sorted({t.donor_project_id for t in rows if t.donor_project_id is not None})
    left = {pool_key_of(r): r.added_plan_vnd for r in await session.scalars(
        select(PoolBalance).where(PoolBalance.project_id.in_(ids), PoolBalance.plan_year == p.plan_year))}
    for t in rows:
        assert t.donor_project_id is not None
        donor = _pool(t, t.donor_project_id)
        part = min(t.amount_vnd, left.get(donor, 0))
        left[donor] = left.get(donor, 0) - part
        given[donor] += part
        received[_pool(t, t.recipient_project_id)] += part
    return given, received
