"""Organisations: lookups, successions, and the API-key store (sub-unit scope: `app.kernel.owner_scope`)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import OrganisationKind, Role
from app.kernel import caches
from app.kernel.clock import utcnow
from app.kernel.errors import Conflict, NotFound
from app.kernel.owner_scope import subunit_ids
from app.kernel.security import new_api_key
from app.models import ApiKey, Organisation, OrganisationSuccession


async def get_by_code(session: AsyncSession, code: str) -> Organisation:
    organisation = await session.scalar(select(Organisation).where(Organisation.code == code))
    if organisation is None:
        raise NotFound("organisation_not_found", f"No organisation with code {code!r}.")
    return organisation


async def create_organisation(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    kind: OrganisationKind,
    parent_id: int | None,
    valid_from: date,
    valid_to: date | None = None,
) -> Organisation:
    if await session.scalar(select(Organisation.id).where(Organisation.code == code)) is not None:
        raise Conflict("organisation_code_taken", f"An organisation with code {code!r} exists.", pointer="/code")
    if parent_id is not None and await session.get(Organisation, parent_id) is None:
        raise NotFound("organisation_not_found", f"Parent organisation {parent_id} does not exist.",
                       pointer="/parent_id")
    organisation = Organisation(
        code=code, name=name, kind=kind, parent_id=parent_id, valid_from=valid_from, valid_to=valid_to,
        created_at=utcnow(),
    )
    session.add(organisation)
    await session.flush()
    caches.invalidate_on_commit(session, caches.principals)  # owner scopes include sub-units
    return organisation


async def create_api_key(session: AsyncSession, *, organisation_id: int, role: Role, name: str) -> tuple[ApiKey, str]:
    """A new key; the full secret is returned once and never stored."""
    if await session.get(Organisation, organisation_id) is None:
        raise NotFound("organisation_not_found", f"Organisation {organisation_id} does not exist.")
    full, prefix, key_hash = new_api_key()
    key = ApiKey(prefix=prefix, key_hash=key_hash, name=name, role=role, organisation_id=organisation_id,
                 created_at=utcnow())
    session.add(key)
    await session.flush()
    return key, full


async def record_succession(session: AsyncSession, predecessor_id: int, *, successor_id: int, effective_on: date,
                            decision_ref: str | None) -> OrganisationSuccession:
    """Record that `successor_id` took over `predecessor_id` (merger, abolition of districts, …)."""
    predecessor = await session.get(Organisation, predecessor_id)
    successor = await session.get(Organisation, successor_id)
    if predecessor is None or successor is None:
        raise NotFound("organisation_not_found", "Both organisations must exist.", pointer="/successor_id")
    if successor_id in await subunit_ids(session, predecessor_id):
        raise Conflict("succession_cycle", "An organisation cannot succeed itself or one of its own successors.",
                       pointer="/successor_id")
    link = OrganisationSuccession(predecessor_id=predecessor_id, successor_id=successor_id,
                                  effective_on=effective_on, decision_ref=decision_ref)
    session.add(link)
    caches.invalidate_on_commit(session, caches.principals)  # owner scopes include predecessors
    if predecessor.valid_to is None or predecessor.valid_to > effective_on:
        predecessor.valid_to = effective_on
    await session.flush()
    return link


async def links(session: AsyncSession, organisation_id: int) -> tuple[list[int], list[int]]:
    """(predecessor ids, successor ids) of an organisation."""
    rows = (await session.execute(select(OrganisationSuccession.predecessor_id, OrganisationSuccession.successor_id)
                                  .where((OrganisationSuccession.predecessor_id == organisation_id)
                                         | (OrganisationSuccession.successor_id == organisation_id)))).all()
    return ([p for p, s in rows if s == organisation_id], [s for p, s in rows if p == organisation_id])
