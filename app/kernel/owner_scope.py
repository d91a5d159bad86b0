"""An owner key's organisation scope, read when a key is authenticated (`app.kernel.api.deps`).

It lives in the kernel because authentication needs it; the registry (successions) uses it too.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Organisation, OrganisationSuccession


async def subunit_ids(session: AsyncSession, organisation_id: int) -> frozenset[int]:
    """The organisation, every organisation below it (its Ban QLDA, districts' boards...) and every
    predecessor it took over (DOMAIN.md §5: a successor answers for its predecessors' projects)."""
    rows = (await session.execute(select(Organisation.id, Organisation.parent_id))).all()
    children: dict[int, list[int]] = {}
    for org_id, parent_id in rows:
        if parent_id is not None:
            children.setdefault(parent_id, []).append(org_id)
    for predecessor_id, successor_id in (await session.execute(
            select(OrganisationSuccession.predecessor_id, OrganisationSuccession.successor_id))).all():
        children.setdefault(successor_id, []).append(predecessor_id)
    found, stack = {organisation_id}, [organisation_id]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return frozenset(found)
