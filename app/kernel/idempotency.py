"""Idempotency-Key handling (DESIGN.md; Stripe / IETF draft semantics).

The first response is stored with its effect in one transaction. A replay returns it; the same key
with another body → 422; the same key while the first request is still in flight → 409.
"""

from __future__ import annotations

import hashlib
import zlib

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.kernel.clock import utcnow
from app.kernel.db import dialect_name
from app.kernel.errors import Conflict, DomainError
from app.models import IdempotencyRecord


class IdempotencyMismatch(DomainError):
    status = 422
    title = "Idempotency key reused with a different request"


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


async def claim(
    session: AsyncSession, api_key_id: int, key: str, fingerprint: str
) -> IdempotencyRecord | None:
    """Claim `key` for this transaction. Returns the stored record to replay, or None to proceed."""
    if dialect_name(session) == "postgresql":
        # Held until our transaction ends; a concurrent twin fails to take it and is told "in flight".
        lock_id = zlib.crc32(f"{api_key_id}:{key}".encode()) - 2**31  # int4 range
        got = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:a, :b)"), {"a": 7_301_002, "b": lock_id})
        if not got:
            raise Conflict(
                "idempotency_in_flight",
                "A request with this Idempotency-Key is still being processed; retry later.",
            )
    record = await session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key)
    )
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise IdempotencyMismatch(
            "idempotency_key_reused",
            "This Idempotency-Key was used with a different request body; use a new key.",
        )
    return record


PENDING = "idempotency_record"


def store(session: AsyncSession, api_key_id: int, key: str, fingerprint: str, status: int, body: str) -> None:
    """Keep the first response for replays; the unit of work inserts it with the audit line, in the same
    transaction as the effect (app.kernel.api.deps.get_session → app.kernel.audit.write_entry)."""
    session.info[PENDING] = {"api_key_id": api_key_id, "key": key, "request_hash": fingerprint, "status_code": status,
                             "response_body": body, "created_at": utcnow()}
