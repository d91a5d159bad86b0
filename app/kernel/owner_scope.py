"""An owner key's organisation scope, read when a key is authenticated (`app.kernel.api.deps`).

It lives in the kernel because authentication needs it; the registry (successions) uses it too.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kernel.clock import today
from app.models import Organisation, OrganisationSuccession


async def subunit_ids(session: AsyncSession, organisation_id: int, on: date | None = None) -> frozenset[int]:
    """The organisation, every organisation below it (its Ban QLDA, districts' boards...) and every
    predecessor it has taken over by today (DOMAIN.md §5: a successor answers for its predecessors' projects from
    the succession's date; a succession recorded ahead of its date changes nothing before it). `on`: the date
    (default today; `date.max` follows every link, recorded ahead or not)."""
    rows = (await session.execute(select(Organisation.id, Organisation.parent_id))).all()
    children: dict[int, list[int]] = {}
    for org_id, parent_id in rows:
        if parent_id is not None:
            children.setdefault(parent_id, []).append(org_id)
    for predecessor_id, successor_id in (await session.execute(
            select(OrganisationSuccession.predecessor_id, OrganisationSuccession.successor_id)
            .where(OrganisationSuccession.effective_on <= (on or today())))).all():
        children.setdefault(successor_id, []).append(predecessor_id)
    found, stack = {organisation_id}, [organisation_id]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return frozenset(found)
