"""Organisations: lookups, successions, and the API-key store with its provenance and R19 separation of duties
(sub-unit scope: `app.kernel.owner_scope`)."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import OrganisationKind, Role
from app.kernel import caches
from app.kernel.clock import today, utcnow
from app.kernel.db import lock_row
from app.kernel.errors import Conflict, NotFound, RuleViolation, UnknownReference
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
        raise UnknownReference("reference_not_found", f"Parent organisation {parent_id} does not exist.",
                               pointer="/parent_id", resource="organisation")
    organisation = Organisation(
        code=code, name=name, kind=kind, parent_id=parent_id, valid_from=valid_from, valid_to=valid_to,
        created_at=utcnow(),
    )
    session.add(organisation)
    await session.flush()
    caches.invalidate_on_commit(session, caches.principals)  # owner scopes include sub-units
    return organisation


async def create_api_key(session: AsyncSession, *, organisation_id: int, role: Role, name: str,
                         holder: str | None = None, issued_by_key_id: int | None = None,
                         expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """A new key; the full secret is returned once and never stored.

    `issued_by_key_id` is the key that issues it through the API (None only for the command line, the bootstrap
    and the demo); `holder` is the person it is issued to (the command line and the demo use the name)."""
    if await session.get(Organisation, organisation_id) is None:
        raise UnknownReference("reference_not_found", f"Organisation {organisation_id} does not exist.",
                               pointer="/organisation_id", resource="organisation")
    now = utcnow()
    if expires_at is not None and expires_at <= now:
        raise RuleViolation("expiry_not_in_future", "A key's expiry must be in the future.", pointer="/expires_at")
    full, prefix, key_hash = new_api_key()
    key = ApiKey(prefix=prefix, key_hash=key_hash, name=name, holder=(holder or name).strip(), role=role,
                 organisation_id=organisation_id, issued_by_key_id=issued_by_key_id, created_at=now,
                 expires_at=expires_at)
    session.add(key)
    await session.flush()
    return key, full


def _active(now: datetime) -> ColumnElement[bool]:
    return ApiKey.revoked_at.is_(None) & (ApiKey.expires_at.is_(None) | (ApiKey.expires_at > now))


async def revoke_api_key(session: AsyncSession, key_id: int) -> ApiKey:
    """Revoke a key (idempotent), refusing to revoke the last active administrator key.

    Every active admin key row is locked in id order before deciding (a non-admin key: its own row), so two
    administrators revoking each other at once are serialised and the second sees the first's revocation. The
    lock also waits for writes by the key in flight (`confirm_key_live` holds FOR KEY SHARE on it)."""
    role = await session.scalar(select(ApiKey.role).where(ApiKey.id == key_id))
    if role is None:
        raise NotFound("api_key_not_found", f"API key {key_id} does not exist.")
    now = utcnow()
    if role is Role.admin:
        active_admins = list(await session.scalars(
            select(ApiKey.id).where(ApiKey.role == Role.admin, _active(now)).order_by(ApiKey.id).with_for_update()))
        if active_admins == [key_id]:
            raise Conflict("last_admin_key", "This is the last active administrator key; issue another admin key "
                           "before revoking it.", active_admin_keys=1)
    key = await lock_row(session, select(ApiKey).where(ApiKey.id == key_id))
    if key.revoked_at is None:
        key.revoked_at = utcnow()  # after the locks: later than any write by this key that committed first
        caches.invalidate_on_commit(session, caches.principals)  # every worker, on commit (NOTIFY)
    await session.flush()
    return key


def same_person(a: str, b: str) -> bool:
    """Holders compared as people are written: case, spacing and Unicode composition do not matter."""
    def norm(holder: str) -> str:
        return " ".join(unicodedata.normalize("NFC", holder).split()).casefold()

    return norm(a) == norm(b)


async def _issuers(session: AsyncSession, key: ApiKey) -> set[int]:
    """Every key that issued `key`, directly or through keys it issued."""
    found: set[int] = set()
    issuer = key.issued_by_key_id
    while issuer is not None and issuer not in found:
        found.add(issuer)
        issuer = await session.scalar(select(ApiKey.issued_by_key_id).where(ApiKey.id == issuer))
    return found


async def separation_of_duties(session: AsyncSession, drafter_key_id: int, approver_key_id: int) -> str | None:
    """R19: why the approver key may not approve what the drafter key drafted (None: they are separate).

    The same person (holder), the same organisation, or one key issued by the other (directly or transitively
    through `issued_by_key_id`) count as one hand. docs/rules.md, R19."""
    keys = {k.id: k for k in await session.scalars(select(ApiKey).where(ApiKey.id.in_([drafter_key_id,
                                                                                         approver_key_id])))}
    drafter, approver = keys.get(drafter_key_id), keys.get(approver_key_id)
    if drafter is None or approver is None:
        return None
    if drafter.id == approver.id or same_person(drafter.holder, approver.holder):
        return "same_holder"
    if drafter.organisation_id == approver.organisation_id:
        return "same_organisation"
    if drafter.id in await _issuers(session, approver):
        return "approver_key_issued_by_drafter"
    if approver.id in await _issuers(session, drafter):
        return "drafter_key_issued_by_approver"
    return None


async def record_succession(session: AsyncSession, predecessor_id: int, *, successor_id: int, effective_on: date,
                            decision_ref: str | None) -> OrganisationSuccession:
    """Record that `successor_id` took over `predecessor_id` (merger, abolition of districts, …)."""
    predecessor = await session.get(Organisation, predecessor_id)
    successor = await session.get(Organisation, successor_id)
    if predecessor is None:
        raise NotFound("organisation_not_found", f"Organisation {predecessor_id} does not exist.")
    if successor is None:
        raise UnknownReference("reference_not_found", f"Organisation {successor_id} does not exist.",
                               pointer="/successor_id", resource="organisation")
    if successor_id in await subunit_ids(session, predecessor_id, on=date.max):
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


async def with_predecessors(session: AsyncSession, organisation_id: int) -> frozenset[int]:
    """The organisation and every organisation it succeeded by today, directly or through others (DOMAIN.md §5):
    the investors whose projects it inherited without a re-assignment."""
    predecessors: dict[int, list[int]] = {}
    for predecessor_id, successor_id in (await session.execute(
            select(OrganisationSuccession.predecessor_id, OrganisationSuccession.successor_id)
            .where(OrganisationSuccession.effective_on <= today()))).all():
        predecessors.setdefault(successor_id, []).append(predecessor_id)
    found, stack = {organisation_id}, [organisation_id]
    while stack:
        for predecessor_id in predecessors.get(stack.pop(), ()):
            if predecessor_id not in found:
                found.add(predecessor_id)
                stack.append(predecessor_id)
    return frozenset(found)


async def links(session: AsyncSession, organisation_id: int) -> tuple[list[int], list[int]]:
    """(predecessor ids, successor ids) of an organisation."""
    rows = (await session.execute(select(OrganisationSuccession.predecessor_id, OrganisationSuccession.successor_id)
                                  .where((OrganisationSuccession.predecessor_id == organisation_id)
                                         | (OrganisationSuccession.successor_id == organisation_id)))).all()
    return ([p for p, s in rows if s == organisation_id], [s for p, s in rows if p == organisation_id])
