"""The first organisation and administrator key of an empty database (`python -m app bootstrap`)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import OrganisationKind, Role
from app.kernel.clock import utcnow
from app.kernel.db import dialect_name
from app.kernel.errors import Conflict
from app.models import ApiKey, Organisation
from app.registry import organisations

BOOTSTRAP_LOCK_KEY = 7_301_002  # PostgreSQL advisory lock: two bootstraps at once issue one key


async def first_admin_key(session: AsyncSession, *, code: str, name: str) -> tuple[Organisation, str]:
    """Create (or reuse) organisation `code` and an admin key for it; refused once any admin key is active."""
    if dialect_name(session) == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": BOOTSTRAP_LOCK_KEY})
    now = utcnow()
    active_admin = await session.scalar(select(ApiKey.id).where(
        ApiKey.role == Role.admin, ApiKey.revoked_at.is_(None),
        ApiKey.expires_at.is_(None) | (ApiKey.expires_at > now)).limit(1))
    if active_admin is not None:
        raise Conflict("admin_key_exists", "An administrator key exists already: issue keys with it "
                       "(POST /api/v1/api-keys) or `create-key`.")
    organisation = await session.scalar(select(Organisation).where(Organisation.code == code))
    if organisation is None:
        organisation = await organisations.create_organisation(
            session, code=code, name=name, kind=OrganisationKind.people_committee, parent_id=None,
            valid_from=date(2000, 1, 1))
    _, secret = await organisations.create_api_key(session, organisation_id=organisation.id, role=Role.admin,
                                                   name="bootstrap administrator")
    return organisation, secret
