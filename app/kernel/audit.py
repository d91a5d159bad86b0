"""The audit log: every write, accepted or rejected (who, when, what, request id)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.kernel.clock import utcnow
from app.kernel.db import dialect_name
from app.models import AuditEntry, IdempotencyRecord


@dataclass(slots=True)
class AuditNote:
    """What a write did; filled by the router, written by the unit of work."""

    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    detail: dict[str, Any] | None = None


def add_entry(
    session: AsyncSession,
    *,
    request_id: str,
    method: str,
    path: str,
    status_code: int,
    api_key_id: int | None,
    organisation_id: int | None,
    role: str | None,
    note: AuditNote | None = None,
    code: str | None = None,
) -> None:
    note = note or AuditNote()
    session.add(
        AuditEntry(
            at=utcnow(),
            request_id=request_id,
            api_key_id=api_key_id,
            organisation_id=organisation_id,
            role=role,
            method=method,
            path=path[:500],
            status_code=status_code,
            action=note.action,
            entity_type=note.entity_type,
            entity_id=note.entity_id,
            code=code,
            detail=note.detail,
        )
    )


async def write_entry(
    session: AsyncSession,
    *,
    request_id: str,
    method: str,
    path: str,
    status_code: int,
    api_key_id: int | None,
    organisation_id: int | None,
    role: str | None,
    note: AuditNote | None = None,
    idempotency_record: dict[str, Any] | None = None,
) -> None:
    """The request's audit line (and its pending idempotency record) in the caller's transaction, in Core:
    one statement on PostgreSQL (a data-modifying CTE), no ORM unit of work."""
    note = note or AuditNote()
    audit_line = insert(AuditEntry.__table__).values(
        at=utcnow(), request_id=request_id, api_key_id=api_key_id, organisation_id=organisation_id, role=role,
        method=method, path=path[:500], status_code=status_code, action=note.action, entity_type=note.entity_type,
        entity_id=note.entity_id, code=None, detail=note.detail)
    if idempotency_record is None:
        await session.execute(audit_line)
        return
    record = insert(IdempotencyRecord.__table__).values(**idempotency_record)
    if dialect_name(session) == "postgresql":
        await session.execute(record.add_cte(audit_line.cte("audit_line")))
    else:
        await session.execute(audit_line)
        await session.execute(record)
